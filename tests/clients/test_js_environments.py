"""Environments through the @google/genai JavaScript SDK (tests/js/environments.test.mjs, `node --test`);
skipped, saying why, as tests/support/js.py decides."""
from __future__ import annotations


from support.js import run_node_tests


def test_javascript_environments(gemini_mock):
    run_node_tests(gemini_mock, "environments.test.mjs", what="the JavaScript environments test")
