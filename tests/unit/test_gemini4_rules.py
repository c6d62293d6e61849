"""The Gemini 4 rules as units: the input+output limit the family shares (generation/gemini3.py), their
thinking levels from the catalog, and their price rows (usage.Pricing)."""
from __future__ import annotations

import pytest

from gemini_mockserver.errors import ApiError
from gemini_mockserver.generation import gemini3
from gemini_mockserver.resources.models import load_catalog
from gemini_mockserver.usage import Pricing

CATALOG = {m["name"]: m for m in load_catalog(None)}
ARGON = CATALOG["models/gemini-4-argon"]


def _violation(error: ApiError) -> str:
    return str(error.details[0]["fieldViolations"][0]["field"]) if error.details else ""


@pytest.mark.parametrize("prompt, max_output", [(0, 1048576), (1048575, 1), (10, 1048566), (500, None)])
def test_requests_within_the_shared_limit_pass(prompt, max_output):
    gemini3.check_unified_limit(ARGON, prompt, max_output)


@pytest.mark.parametrize("prompt, max_output", [(1, 1048576), (1048576, 1), (600000, 600000)])
def test_requests_over_the_shared_limit_name_max_output_tokens(prompt, max_output):
    with pytest.raises(ApiError) as caught:
        gemini3.check_unified_limit(ARGON, prompt, max_output)
    assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
    assert _violation(caught.value) == "generationConfig.maxOutputTokens"
    assert f"at most {1048576 - prompt}" in caught.value.message


def test_a_model_without_a_shared_limit_is_left_to_its_own_ranges():
    gemini3.check_unified_limit(CATALOG["models/gemini-3.8-flash"], 1048576, 65536)


@pytest.mark.parametrize("name, levels, default", [
    ("models/gemini-4-argon", ["LOW", "MEDIUM", "HIGH"], "MEDIUM"),
    ("models/gemini-4-carbon", ["LOW", "MEDIUM", "HIGH"], "MEDIUM"),
    ("models/gemini-4-hydrogen", ["LOW", "MEDIUM", "HIGH", "XHIGH"], "HIGH"),
])
def test_levels_and_defaults(name, levels, default):
    model = CATALOG[name]
    assert gemini3.default_thinking_level(model) == default
    for level in levels:
        assert gemini3.check_thinking_level(model, level, "f") == level
    with pytest.raises(ApiError) as caught:
        gemini3.check_thinking_level(model, "MINIMAL", "generationConfig.thinkingConfig.thinkingLevel")
    assert _violation(caught.value) == "generationConfig.thinkingConfig.thinkingLevel"


def test_price_rows():
    pricing = Pricing()
    metadata = {"promptTokenCount": 1_000_000, "candidatesTokenCount": 500_000, "thoughtsTokenCount": 500_000}
    assert pricing.request_cost("models/gemini-4-argon", metadata, batch=False) == pytest.approx(24.0)
    assert pricing.request_cost("models/gemini-4-hydrogen", metadata, batch=False) == pytest.approx(9.0)
    assert pricing.request_cost("models/gemini-4-carbon", metadata, batch=False) == 0.0   # no published price
    assert pricing.of("gemini-3.1-pro-preview-customtools") == pricing.of("gemini-3.1-pro-preview")
