"""Built-in tools through the @google/genai JavaScript SDK (tests/js/builtin_tools.test.mjs, `node --test`).
Skipped, saying why, without Node.js 20+ or the SDK (setup in tests/support/js.py)."""
from __future__ import annotations


from support.js import run_node_tests


def test_javascript_sdk_builtin_tools(gemini_mock):
    run_node_tests(gemini_mock, "builtin_tools.test.mjs", passed=5)
