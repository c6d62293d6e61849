"""The journal and stream pace through the @google/genai JavaScript SDK (tests/js/journal.test.mjs,
`node --test`). Skipped, saying why, without Node.js 20+ or the SDK (tests/support/js.py)."""
from __future__ import annotations


from support.js import run_node_tests


def test_javascript_sdk_journal_and_pace(gemini_mock):
    gemini_mock.configure({"stream": {"models": {"gemini-3.5-flash-lite": {"firstTokenSeconds": 0.3}}}})
    run_node_tests(gemini_mock, "journal.test.mjs", passed=1)
