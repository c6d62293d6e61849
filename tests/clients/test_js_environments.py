"""Environments through the @google/genai JavaScript SDK (tests/js/environments.test.mjs, `node --test`);
skipped, saying why, as tests/support/js.py decides."""
from __future__ import annotations

import os
import re
import subprocess

from support.js import JS_DIR, ensure_sdk, find_node, tail


def test_javascript_environments(gemini_mock):
    node = find_node()
    ensure_sdk()
    env = {name: value for name, value in os.environ.items()
           if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    env.update({"GEMINI_MOCK_BASE_URL": gemini_mock.base_url, "GEMINI_MOCK_API_KEY": gemini_mock.api_key,
                "NODE_NO_WARNINGS": "1"})
    result = subprocess.run([node, "--test", "--test-reporter=spec", "environments.test.mjs"], cwd=JS_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the JavaScript environments test failed:\n{tail(output, 200)}"
    assert re.search(r"\bpass \d+", output) and re.search(r"\bfail 0\b", output), output
