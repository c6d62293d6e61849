"""The @google/genai JavaScript SDK's setup for the client tests that run tests/js/*.test.mjs with
`node --test`.

Needs Node.js 20 or later on PATH. The SDK is installed from tests/js/package-lock.json into
tests/js/node_modules with `npm ci` the first time (and whenever the lockfile is newer than the install);
without node, npm or the npm registry the test is skipped and says why.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from support.paths import JS_DIR

SDK_DIR = JS_DIR / "node_modules" / "@google" / "genai"
INSTALL_STAMP = JS_DIR / "node_modules" / ".package-lock.json"   # written by npm on every install
MIN_NODE = 20


def tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def find_node() -> str:
    """The `node` executable, or the test is skipped saying why."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("JavaScript SDK test skipped: `node` is not on PATH (install Node.js 20+ to run it).")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.match(r"v(\d+)", version)
    if not match or int(match.group(1)) < MIN_NODE:
        pytest.skip(f"JavaScript SDK test skipped: Node.js {MIN_NODE}+ is needed, found {version or 'unknown'}.")
    return node


def _installed() -> bool:
    lock = JS_DIR / "package-lock.json"
    return SDK_DIR.is_dir() and INSTALL_STAMP.exists() and INSTALL_STAMP.stat().st_mtime >= lock.stat().st_mtime


def ensure_sdk() -> None:
    """`npm ci` into tests/js/node_modules unless the locked SDK is there already."""
    if _installed():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("JavaScript SDK test skipped: @google/genai is not installed in tests/js/node_modules "
                    "and `npm` is not on PATH to install it.")
    try:
        result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=JS_DIR,
                                capture_output=True, text=True, timeout=600)
    except subprocess.TimeoutExpired:
        pytest.skip("JavaScript SDK test skipped: `npm ci` in tests/js did not finish within 10 minutes "
                    "(is the npm registry reachable?).")
    if result.returncode != 0 or not SDK_DIR.is_dir():
        pytest.skip("JavaScript SDK test skipped: `npm ci` in tests/js failed (is the npm registry "
                    f"reachable?):\n{tail(result.stdout + result.stderr)}")


def run_node_tests(gemini_mock, script: str, *, passed: int | None = None, env: dict | None = None,
                   what: str = "the JavaScript SDK test") -> str:
    """Run tests/js/`script` with `node --test` against `gemini_mock` and assert that it passed: `passed`
    node tests exactly when given, else at least one, and none failed. Returns node's output."""
    node = find_node()
    ensure_sdk()
    # The key and address go in explicitly; the SDK's own variables would only add warnings.
    run_env = {name: value for name, value in os.environ.items()
               if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    run_env.update({"GEMINI_MOCK_BASE_URL": gemini_mock.base_url, "GEMINI_MOCK_API_KEY": gemini_mock.api_key,
                    "NODE_NO_WARNINGS": "1", **(env or {})})
    result = subprocess.run([node, "--test", "--test-reporter=spec", script], cwd=JS_DIR, env=run_env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{what} failed:\n{tail(output, 200)}"
    count = rf"\bpass {passed}\b" if passed is not None else r"\bpass [1-9]\d*\b"
    assert re.search(count, output) and re.search(r"\bfail 0\b", output), output
    return output
