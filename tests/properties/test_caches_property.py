"""Property: for any sequence of create / update / advance / delete, a cache is visible (get and list)
exactly while `now < expireTime` and it has not been deleted; another project never sees it."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, consumes, initialize, invariant, rule

from gemini_mockserver.clock import Clock
from gemini_mockserver.errors import ApiError
from gemini_mockserver.resources import caches, models
from gemini_mockserver.store import Store
from gemini_mockserver.wire import format_time

MODEL = "models/gemini-2.5-flash"
CONTENTS = [{"role": "user", "parts": [{"text": " ".join(["word"] * 1100)}]}]
START = 1_750_000_000.0


class ManualClock(Clock):
    """A clock that moves only when told (so boundaries are exact, whatever the wall clock does)."""

    def __init__(self, start: float = START) -> None:
        super().__init__()
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        self._now += float(seconds)
        return self._now

    def set(self, when: float) -> float:
        self._now = float(when)
        return self._now

    def reset(self) -> None:
        self._now = START


def new_store() -> Store:
    store = Store(clock=ManualClock())
    models.register(store)
    caches.register(store)
    return store


# ttl or expireTime, in whole seconds from now; None: the default TTL
expiries = st.one_of(
    st.none(),
    st.tuples(st.just("ttl"), st.integers(1, 900)),
    st.tuples(st.just("expireTime"), st.integers(1, 900)),
)
updates = expiries.filter(lambda e: e is not None)
advances = st.one_of(st.integers(0, 400), st.sampled_from([3599, 3600, 3601, 2 * 86400]))


def expiry_fields(store: Store, expiry) -> dict:
    if expiry is None:
        return {}
    kind, seconds = expiry
    if kind == "ttl":
        return {"ttl": f"{seconds}s"}
    return {"expireTime": format_time(store.now() + seconds)}


def expected_expire(store: Store, expiry) -> float:
    if expiry is None:
        return store.now() + store.config["cache"]["defaultTtlSeconds"]
    return store.now() + expiry[1]


class CacheLifecycle(RuleBasedStateMachine):
    """The backend driven directly; the model is {name: expireTime} plus the set of deleted names."""

    names = Bundle("names")

    @initialize()
    def setup(self):
        self.store = new_store()
        self.me = self.store.keys.identify("property-key")
        self.stranger = self.store.keys.identify("property-stranger")
        self.expire: dict[str, float] = {}
        self.deleted: set[str] = set()
        self.order: list[str] = []

    def visible(self, name: str) -> bool:
        return name not in self.deleted and self.store.now() < self.expire[name]

    @rule(target=names, expiry=expiries)
    def create(self, expiry):
        body = {"model": MODEL, "contents": CONTENTS, **expiry_fields(self.store, expiry)}
        expire = expected_expire(self.store, expiry)
        created = self.store.caches.create(self.me, body)
        assert created["expireTime"] == format_time(expire)
        self.expire[created["name"]] = expire
        self.order.append(created["name"])
        return created["name"]

    @rule(name=names, expiry=updates)
    def update(self, name, expiry):
        fields = expiry_fields(self.store, expiry)
        if self.visible(name):
            updated = self.store.caches.update(self.me, name, fields)
            self.expire[name] = expected_expire(self.store, expiry)
            assert updated["expireTime"] == format_time(self.expire[name])
        else:
            with pytest.raises(ApiError) as excinfo:
                self.store.caches.update(self.me, name, fields)
            assert excinfo.value.code == 403

    @rule(seconds=advances)
    def advance(self, seconds):
        self.store.clock.advance(seconds)

    @rule(name=consumes(names))
    def delete(self, name):
        if self.visible(name):
            self.store.caches.delete(self.me, name)
            self.deleted.add(name)
        else:
            with pytest.raises(ApiError) as excinfo:
                self.store.caches.delete(self.me, name)
            assert excinfo.value.code == 403

    @rule(name=names)
    def use(self, name):
        model = self.store.models.get(MODEL)
        request = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "cachedContent": name}
        if self.visible(name):
            assert self.store.caches.prefix_for(self.me, name, model, request)["contents"] == CONTENTS
        else:
            with pytest.raises(ApiError) as excinfo:
                self.store.caches.prefix_for(self.me, name, model, request)
            assert excinfo.value.code == 403

    @invariant()
    def get_and_list_agree_with_the_model(self):
        listed = [c["name"] for c in self.store.caches.list(self.me)]
        assert listed == [name for name in self.order if self.visible(name)]
        for name in self.order:
            if self.visible(name):
                assert self.store.caches.get(self.me, name)["expireTime"] == format_time(self.expire[name])
            else:
                with pytest.raises(ApiError) as excinfo:
                    self.store.caches.get(self.me, name)
                assert excinfo.value.code == 403
            with pytest.raises(ApiError) as excinfo:
                self.store.caches.get(self.stranger, name)
            assert excinfo.value.code == 403
        assert self.store.caches.list(self.stranger) == []


CacheLifecycle.TestCase.settings = settings(max_examples=50, stateful_step_count=25, deadline=None)
TestCacheLifecycle = CacheLifecycle.TestCase


# -- the same property over HTTP, with the live server's clock held still ---------------------------

steps = st.lists(st.one_of(
    st.tuples(st.just("create"), expiries),
    st.tuples(st.just("update"), st.integers(0, 5), updates),
    st.tuples(st.just("advance"), advances),
    st.tuples(st.just("delete"), st.integers(0, 5)),
), max_size=12)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plan=steps)
def test_visibility_over_http(gemini_mock, http, monkeypatch, plan):
    store = gemini_mock.store
    monkeypatch.setattr(store, "clock", ManualClock())
    store.caches.reset()
    expire: dict[str, float] = {}
    deleted: set[str] = set()
    order: list[str] = []

    def visible(name: str) -> bool:
        return name not in deleted and store.now() < expire[name]

    for step in plan:
        if step[0] == "create":
            body = {"model": MODEL, "contents": CONTENTS, **expiry_fields(store, step[1])}
            response = http.post("/v1beta/cachedContents", json=body)
            assert response.status_code == 200, response.text
            name = response.json()["name"]
            expire[name] = expected_expire(store, step[1])
            order.append(name)
        elif step[0] == "advance":
            store.clock.advance(step[1])
        elif order:
            name = order[step[1] % len(order)]
            was_visible = visible(name)
            if step[0] == "update":
                response = http.patch(f"/v1beta/{name}", json=expiry_fields(store, step[2]))
                if was_visible:
                    expire[name] = expected_expire(store, step[2])
            else:
                response = http.delete(f"/v1beta/{name}")
                if was_visible:
                    deleted.add(name)
                    assert response.json() == {}
            assert response.status_code == (200 if was_visible else 403), response.text
        listed = [c["name"] for c in http.get("/v1beta/cachedContents").json()["cachedContents"]]
        assert listed == [name for name in order if visible(name)]
        for name in order:
            assert http.get(f"/v1beta/{name}").status_code == (200 if visible(name) else 403)
