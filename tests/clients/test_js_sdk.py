"""The @google/genai JavaScript SDK against the live emulator (tests/js/sdk.test.mjs, run with `node --test`).

Needs Node.js 20 or later on PATH and the SDK, which tests/support/js.py installs (or skips saying why).
"""
from __future__ import annotations

import json

from support.js import run_node_tests

PROMPT = "Tell me about the ocean"


def test_javascript_sdk(gemini_mock):
    client = gemini_mock.client()
    expected = {"prompt": PROMPT, "text": client.models.generate_content(model="gemini-2.5-flash",
                                                                          contents=PROMPT).text}
    run_node_tests(gemini_mock, "sdk.test.mjs", env={"GEMINI_MOCK_EXPECTED": json.dumps(expected)})
