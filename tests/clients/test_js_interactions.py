"""The Interactions API, agents and webhooks through @google/genai (tests/js/interactions.test.mjs, node --test).

Needs Node.js 20+; installs and skips as tests/support/js.py decides."""
from __future__ import annotations

import json
import os
import re
import subprocess

from support.js import JS_DIR, ensure_sdk, find_node, tail

PROMPT = "Tell me about the ocean"


def test_javascript_sdk_interactions(gemini_mock):
    node = find_node()
    ensure_sdk()
    answer = gemini_mock.client().interactions.create(model="gemini-3.6-flash", input=PROMPT)
    env = {name: value for name, value in os.environ.items()
           if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    env.update({"GEMINI_MOCK_BASE_URL": gemini_mock.base_url, "GEMINI_MOCK_API_KEY": gemini_mock.api_key,
                "GEMINI_MOCK_EXPECTED": json.dumps({"prompt": PROMPT, "text": answer.output_text}),
                "NODE_NO_WARNINGS": "1"})
    result = subprocess.run([node, "--test", "--test-reporter=spec", "interactions.test.mjs"], cwd=JS_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the JavaScript SDK test failed:\n{tail(output, 200)}"
    assert re.search(r"\bpass \d+", output) and re.search(r"\bfail 0\b", output), output
