"""Unit tests of the service tiers' rules (service_tiers.py) without HTTP: who may ask, which models, the
priority limits and their downgrade, prices, and the windows' export and import."""
from __future__ import annotations

import pytest

from gemini_mockserver.app import create_store
from gemini_mockserver.auth import Identity, KeyRing
from gemini_mockserver.call import GENERATE, Call
from gemini_mockserver.errors import ApiError

MODEL = "gemini-3.6-flash"
KEYS = {tier: Identity(key=f"{tier}-key", project=f"{tier}-project", email=f"{tier}@example.com", tier=tier)
        for tier in ("free", "tier1", "tier2", "tier3")}


@pytest.fixture
def store():
    made = create_store(keys=KeyRing(dict((i.key, i) for i in KEYS.values())))
    yield made
    made.webhooks.close()
    made.close()


def call_of(tier: str, model: str = MODEL) -> Call:
    return Call("POST", f"/v1beta/models/{model}:generateContent", identity=KEYS[tier], family=GENERATE,
                model=f"models/{model}", limit_model=model)


def refused(store, tier: str, asked: str, model: str = MODEL) -> ApiError:
    with pytest.raises(ApiError) as caught:
        store.service_tiers.serve(call_of(tier, model), asked)
    return caught.value


def test_no_tier_and_the_default_members(store):
    call = call_of("free")
    assert store.service_tiers.serve(call, None) is None and call.service_tier is None
    assert store.service_tiers.serve(call, "unspecified") == "standard" == call.service_tier
    assert store.service_tiers.serve(call_of("free", "gemini-2.0-flash"), "standard") == "standard"


@pytest.mark.parametrize("tier, flex, priority", [("free", False, False), ("tier1", True, False),
                                                  ("tier2", True, True), ("tier3", True, True)])
def test_who_may_ask_for_which_tier(store, tier, flex, priority):
    for asked, allowed in (("flex", flex), ("priority", priority)):
        if allowed:
            call = call_of(tier)
            assert store.service_tiers.serve(call, asked) == asked
            assert (call.service_tier, call.service_tier_asked) == (asked, asked)
        else:
            error = refused(store, tier, asked)
            assert (error.code, error.status) == (400, "FAILED_PRECONDITION")
            assert "service_tier" in error.message and f"{tier}-project" in error.message


@pytest.mark.parametrize("model", ["gemini-2.0-flash", "gemini-2.5-flash-image", "gemini-2.5-flash-preview-tts",
                                   "gemini-1.5-pro"])
def test_models_without_the_tiers(store, model):
    error = refused(store, "tier3", "flex", model)
    assert (error.code, error.status) == (400, "INVALID_ARGUMENT")
    assert error.details[0]["fieldViolations"][0]["field"] == "service_tier" and model in error.message


def test_the_field_name_is_the_callers(store):
    error = refused(store, "tier3", "deferred")
    assert error.code == 400 and error.details[0]["fieldViolations"][0]["field"] == "service_tier"
    with pytest.raises(ApiError) as caught:
        store.service_tiers.serve(call_of("tier3", "gemini-2.0-flash"), "flex", "serviceTier")
    assert caught.value.details[0]["fieldViolations"][0]["field"] == "serviceTier"


def test_priority_limits_are_a_share_of_the_standard_ones(store):
    tiers = store.service_tiers
    store.config.patch({"rateLimits": {"overrides": {"tier2": {MODEL: {"rpm": 10, "tpm": 1000, "rpd": None}}}}})
    assert tiers.priority_limits("tier2", MODEL) == {"rpm": 3, "tpm": 300, "rpd": None}
    store.config.patch({"rateLimits": {"overrides": {"tier2": {MODEL: {"rpm": 2}}}}})
    assert tiers.priority_limits("tier2", MODEL)["rpm"] == 1   # never below one call


def test_priority_downgrades_on_rpm_and_tpm_then_recovers(store):
    tiers = store.service_tiers
    store.config.patch({"rateLimits": {"overrides": {"tier2": {MODEL: {"rpm": 10, "tpm": 1000}}}}})
    served = [tiers.serve(call_of("tier2"), "priority") for _ in range(4)]
    assert served == ["priority"] * 3 + ["standard"]
    store.clock.advance(61)
    call = call_of("tier2")
    assert tiers.serve(call, "priority") == "priority"
    tiers.add_tokens(call, 300)   # the call's input tokens reach the priority TPM (300)
    later = call_of("tier2")
    assert tiers.serve(later, "priority") == "standard"
    assert (later.service_tier, later.service_tier_asked, later.priority_admitted_at) == ("standard", "priority", None)


def test_priority_is_not_limited_where_rate_limits_do_not_apply(store):
    store.config.patch({"rateLimits": {"enabled": False, "overrides": {"tier2": {MODEL: {"rpm": 1}}}}})
    assert [store.service_tiers.serve(call_of("tier2"), "priority") for _ in range(3)] == ["priority"] * 3


def test_prices_and_the_ledger_entry(store):
    tiers = store.service_tiers
    assert (tiers.price_factor(None), tiers.price_factor("standard"), tiers.price_factor("flex"),
            tiers.price_factor("priority")) == (1.0, 1.0, 0.5, 2.0)
    model = store.models.get(MODEL)
    metadata = {"promptTokenCount": 1000, "candidatesTokenCount": 500, "totalTokenCount": 1500}
    costs = {tier: store.usage.entry(KEYS["tier2"], model, metadata, batch=False, service_tier=tier).cost
             for tier in (None, "standard", "flex", "priority")}
    assert costs[None] == costs["standard"] > 0
    assert costs["flex"] == pytest.approx(costs[None] / 2) and costs["priority"] == pytest.approx(costs[None] * 2)


def test_windows_survive_export_and_import(store):
    tiers = store.service_tiers
    store.config.patch({"rateLimits": {"overrides": {"tier2": {MODEL: {"rpm": 4}}}}})
    assert tiers.serve(call_of("tier2"), "priority") == "priority"
    saved = tiers.export_state()
    tiers.reset()
    assert tiers.serve(call_of("tier2"), "priority") == "priority"   # an empty window again
    tiers.import_state(saved)
    assert tiers.serve(call_of("tier2"), "priority") == "standard"   # one saved + this one = the limit (1)
