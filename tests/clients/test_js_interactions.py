"""The Interactions API, agents and webhooks through @google/genai (tests/js/interactions.test.mjs, node --test).

Needs Node.js 20+; installs and skips as tests/support/js.py decides."""
from __future__ import annotations

import json

from support.js import run_node_tests

PROMPT = "Tell me about the ocean"


def test_javascript_sdk_interactions(gemini_mock):
    answer = gemini_mock.client().interactions.create(model="gemini-3.6-flash", input=PROMPT)
    expected = {"prompt": PROMPT, "text": answer.output_text}
    run_node_tests(gemini_mock, "interactions.test.mjs", env={"GEMINI_MOCK_EXPECTED": json.dumps(expected)})
