"""The @google/genai JavaScript SDK against the live emulator (tests/js/sdk.test.mjs, run with `node --test`).

Needs Node.js 20 or later on PATH and the SDK, which tests/support/js.py installs (or skips saying why).
"""
from __future__ import annotations

import json
import os
import re
import subprocess

from support.js import JS_DIR, ensure_sdk, find_node, tail

PROMPT = "Tell me about the ocean"


def test_javascript_sdk(gemini_mock):
    node = find_node()
    ensure_sdk()
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
    assert result.returncode == 0, f"the JavaScript SDK test failed:\n{tail(output, 200)}"
    assert re.search(r"\bpass \d+", output) and re.search(r"\bfail 0\b", output), output
