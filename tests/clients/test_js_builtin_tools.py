"""Built-in tools through the @google/genai JavaScript SDK (tests/js/builtin_tools.test.mjs, `node --test`).
Skipped, saying why, without Node.js 20+ or the SDK (setup in tests/support/js.py)."""
from __future__ import annotations

import os
import re
import subprocess

from support.js import JS_DIR, ensure_sdk, find_node, tail


def test_javascript_sdk_builtin_tools(gemini_mock):
    node = find_node()
    ensure_sdk()
    env = {name: value for name, value in os.environ.items()
           if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    env.update({"GEMINI_MOCK_BASE_URL": gemini_mock.base_url, "GEMINI_MOCK_API_KEY": gemini_mock.api_key,
                "NODE_NO_WARNINGS": "1"})
    result = subprocess.run([node, "--test", "--test-reporter=spec", "builtin_tools.test.mjs"], cwd=JS_DIR,
                            env=env, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the JavaScript SDK test failed:\n{tail(output, 200)}"
    assert re.search(r"\bpass 5\b", output) and re.search(r"\bfail 0\b", output), output
