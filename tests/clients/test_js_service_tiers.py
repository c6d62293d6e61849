"""Service tiers through the @google/genai JavaScript SDK (tests/js/service_tiers.test.mjs, `node --test`),
on a project moved to tier2 so it may ask for Priority. Skipped, saying why, without Node.js 20+ or the
SDK (tests/support/js.py)."""
from __future__ import annotations

from support.js import run_node_tests


def test_javascript_sdk_service_tiers(gemini_mock):
    gemini_mock.set_tier("tier2")
    run_node_tests(gemini_mock, "service_tiers.test.mjs", passed=2)
