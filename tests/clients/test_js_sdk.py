"""The @google/genai JavaScript SDK against the live emulator (tests/js/sdk.test.mjs, run with `node --test`).

Needs Node.js 20 or later on PATH. The SDK is installed from tests/js/package-lock.json into
tests/js/node_modules with `npm ci` the first time (and whenever the lockfile is newer than the install);
without node, npm or the npm registry the test is skipped and says why.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest
from support.paths import JS_DIR

SDK_DIR = JS_DIR / "node_modules" / "@google" / "genai"
INSTALL_STAMP = JS_DIR / "node_modules" / ".package-lock.json"   # written by npm on every install
MIN_NODE = 20
PROMPT = "Tell me about the ocean"


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _node() -> str:
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


def _ensure_sdk() -> None:
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
                    f"reachable?):\n{_tail(result.stdout + result.stderr)}")


def test_javascript_sdk(gemini_mock):
    node = _node()
    _ensure_sdk()
    client = gemini_mock.client()
    expected = {"prompt": PROMPT, "text": client.models.generate_content(model="gemini-2.5-flash",
                                                                          contents=PROMPT).text}
    # The key and address go in explicitly; the SDK's own variables would only add warnings.
    env = {name: value for name, value in os.environ.items()
           if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    env.update({"GEMINI_MOCK_BASE_URL": gemini_mock.base_url,
                "GEMINI_MOCK_API_KEY": gemini_mock.api_key,
                "GEMINI_MOCK_EXPECTED": json.dumps(expected),
                "NODE_NO_WARNINGS": "1"})
    result = subprocess.run([node, "--test", "--test-reporter=spec", "sdk.test.mjs"], cwd=JS_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the JavaScript SDK test failed:\n{_tail(output, 200)}"
    assert re.search(r"\bpass \d+", output) and re.search(r"\bfail 0\b", output), output
