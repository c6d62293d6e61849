"""Memory stays bounded: many resources cost little each, the request journal stays at its cap
(`limits.journalEntries`) and says how many entries it dropped, and serving requests does not grow
memory once the journal is full.

Resources are made through the backends directly (no HTTP), so tens of thousands take seconds. The
engine is shared with `bench/load.py`, which makes 100,000 and prints the figures.
"""
from __future__ import annotations

import gc
import hashlib
import os
import time
import tracemalloc
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from gemini_mockserver.app import create_app, create_store
from gemini_mockserver.config import Config
from gemini_mockserver.schema import normalize

PROMPT = {"contents": [{"role": "user", "parts": [{"text": "Explain how AI works in a few words"}]}]}
CACHE_TEXT = " ".join(f"w{i}" for i in range(1400))        # just over gemini-2.5-flash's cache minimum
TUNING = {"displayName": "t", "baseModel": "models/text-bison-001",
          "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "a", "output": "b"}]}}}}

# kind -> share of the resources made
MIX = {"file": 0.15, "batch": 0.25, "tuned_model": 0.15, "permission": 0.15, "corpus": 0.25, "cache": 0.05}


def rss_bytes() -> int:
    with open(f"/proc/{os.getpid()}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@dataclass
class Growth:
    count: int
    traced: int        # bytes tracemalloc saw allocated and still held
    rss: int           # resident set growth
    seconds: float

    @property
    def traced_per_item(self) -> float:
        return self.traced / max(self.count, 1)

    @property
    def rss_per_item(self) -> float:
        return self.rss / max(self.count, 1)


@contextmanager
def measured(count: int, *, trace: bool = True):
    """Memory growth over the block (after a full collection at both ends)."""
    gc.collect()
    if trace:
        tracemalloc.start()
    traced_before = tracemalloc.get_traced_memory()[0] if trace else 0
    rss_before = rss_bytes()
    started = time.perf_counter()
    growth = Growth(count, 0, 0, 0.0)
    try:
        yield growth
    finally:
        growth.seconds = time.perf_counter() - started
        gc.collect()
        growth.rss = rss_bytes() - rss_before
        if trace:
            growth.traced = tracemalloc.get_traced_memory()[0] - traced_before
            tracemalloc.stop()


class Maker:
    """Makes resources of every kind in a store, through its backends, spread over `keys` projects."""

    def __init__(self, store, keys: int = 20) -> None:
        self.store = store
        # thousands of batch jobs in flight per project: past the Batch API's own limit, which this
        # memory measure is not about
        store.batches.limits.concurrent_jobs = 10 ** 9
        self.identities = [store.keys.identify(f"memory-key-{i}") for i in range(keys)]
        self.tuned: list[tuple] = []
        self.made: Counter = Counter()
        self.n = 0

    def _identity(self):
        self.n += 1
        return self.identities[self.n % len(self.identities)]

    def file(self):
        identity = self._identity()
        files = self.store.files
        data = b"file %d" % self.n
        part = files.new_part(identity)
        part.write_bytes(data)
        files.store_bytes(identity, {"displayName": f"f{self.n}"}, part, size=len(data),
                          sha256_hex=hashlib.sha256(data).hexdigest(), mime_type="text/plain",
                          base_url="http://127.0.0.1")

    def batch(self):
        request = {"contents": [{"parts": [{"text": f"Batch line {self.n}"}]}]}
        self.store.batches.create(self._identity(), "models/gemini-2.5-flash",
                                  {"batch": {"displayName": f"b{self.n}",
                                             "inputConfig": {"requests": {"requests": [{"request": request}]}}}},
                                  kind="generate", version="v1beta")

    def tuned_model(self):
        identity = self._identity()
        operation = self.store.tuned_models.create(identity, normalize("v1beta", "TunedModel", TUNING), None, "v1beta")
        self.tuned.append((identity, operation["metadata"]["tunedModel"]))

    def permission(self):
        if not self.tuned:
            self.tuned_model()
        identity, name = self.tuned[self.n % len(self.tuned)]
        self.n += 1
        self.store.permissions.create(identity, name, {"granteeType": "USER", "role": "READER",
                                                       "emailAddress": f"reader{self.n}@example.com"})

    def corpus(self):
        self.store.corpora.create(self._identity(), {"displayName": f"c{self.n}"})

    def cache(self):
        body = {"model": "models/gemini-2.5-flash", "ttl": "86400s",
                "contents": [{"role": "user", "parts": [{"text": f"{self.n} {CACHE_TEXT}"}]}]}
        self.store.caches.create(self._identity(), normalize("v1beta", "CachedContent", body), version="v1beta")

    def make(self, count: int) -> dict[str, int]:
        """`count` resources in MIX's proportions, interleaved; returns how many of each."""
        plan = {kind: int(count * share) for kind, share in MIX.items()}
        plan["file"] += count - sum(plan.values())
        left = dict(plan)
        while any(left.values()):
            for kind in MIX:
                if left[kind]:
                    getattr(self, kind)()
                    left[kind] -= 1
        self.made.update(plan)
        return plan


def journal_entry(store, n: int, path_chars: int = 48) -> dict:
    return {"time": store.now(), "method": "POST", "path": "/v1beta/" + "p" * path_chars + str(n),
            "project": "project-x", "model": "gemini-2.5-flash", "status": 200}


# ---------------------------------------------------------------------------------------------------

def test_twenty_thousand_resources_cost_a_few_kilobytes_each():
    store = create_store(Config())
    try:
        maker = Maker(store)
        maker.make(500)   # warm every code path (first-use caches, compiled schemas)
        with measured(2_000) as traced:                 # allocations, counted exactly (tracing is slow)
            maker.make(2_000)
        with measured(20_000, trace=False) as growth:   # the resident set over many more
            maker.make(20_000)
        assert traced.traced_per_item < 4096, traced
        assert growth.rss_per_item < 8192, growth
        # every file is there
        listed = sum(len(store.files.list_files(identity)) for identity in maker.identities)
        assert listed == maker.made["file"] == int(22_500 * MIX["file"])
    finally:
        store.close()


def test_the_journal_stays_at_its_cap_and_counts_what_it_dropped():
    store = create_store(Config({"limits": {"journalEntries": 1_000}}))
    try:
        tracemalloc.start()
        try:
            for n in range(2_000):                     # fill it (with traced entries), everything warmed
                store.journal.add(journal_entry(store, n))
            full = tracemalloc.get_traced_memory()[0]
            for n in range(20_000):
                store.journal.add(journal_entry(store, n))
            grown = tracemalloc.get_traced_memory()[0] - full
        finally:
            tracemalloc.stop()
        entries = store.journal.entries()
        assert len(entries) == 1_000 and store.journal.dropped == 21_000
        assert entries[-1]["path"].endswith("p19999") and entries[0]["path"].endswith("p19000")
        assert grown < 64 * 1024, grown                 # a full journal does not grow
    finally:
        store.close()


def test_serving_requests_does_not_grow_memory_once_the_journal_is_full():
    """Once the journal is full, serving more requests holds no more objects (gc-tracked containers:
    a journal entry, a cached answer, a per-request record would all be one) and hardly more memory."""
    from starlette.testclient import TestClient
    app = create_app({"limits": {"journalEntries": 200}})
    store = app.state.store
    long_path = "/v1beta/models/" + "m" * 10_000 + ":generateContent"
    requests = [("POST", "/v1beta/models/gemini-2.5-flash:generateContent", PROMPT),
                ("POST", "/v1beta/models/gemini-2.5-flash:countTokens", PROMPT),
                ("GET", "/v1beta/models", None), ("GET", "/v1beta/files", None),
                ("POST", long_path, PROMPT), ("GET", "/v1beta/files/" + "x" * 5_000, None)]
    try:
        with TestClient(app, headers={"x-goog-api-key": "memory"}) as client:
            def serve(start: int, rounds: int) -> None:
                for n in range(start, start + rounds):
                    method, path, body = requests[n % len(requests)]
                    if body is not None:   # a different prompt each time: no answer is the same
                        body = {"contents": [{"parts": [{"text": f"request {n}"}]}]}
                    assert client.request(method, path, json=body).status_code < 500
            serve(0, 400)                               # warm up, fill the journal
            gc.collect()
            objects, rss = len(gc.get_objects()), rss_bytes()
            serve(400, 800)
            gc.collect()
            more_objects, more_rss = len(gc.get_objects()) - objects, rss_bytes() - rss
            journal = client.get("/_mock/requests").json()
        assert len(journal["requests"]) == 200 and journal["dropped"] == 1_000
        assert max(len(entry["path"]) for entry in journal["requests"]) <= 2_100   # long paths are clipped
        assert more_objects < 500, more_objects
        assert more_rss < 4 * 1024 * 1024, more_rss
        assert not store.internal_errors
    finally:
        store.close()


def test_journal_entries_of_long_paths_are_clipped():
    from gemini_mockserver.app import JOURNAL_TEXT_CHARS, _clip
    assert _clip("a" * 10) == "a" * 10 and _clip(None) is None
    assert len(_clip("a" * 100_000)) == JOURNAL_TEXT_CHARS + 3


@pytest.mark.gemini(config={"limits": {"journalEntries": 5}})
def test_the_journal_follows_its_config_at_run_time(gemini_mock, http):
    # The journal took its cap once, when the store was made: a marker or PATCH /_mock/config changed
    # nothing. It now resizes at the next entry.
    for _ in range(12):
        assert http.get("/v1beta/models").status_code == 200
    body = http.get("/_mock/requests").json()
    assert len(body["requests"]) == 5 and body["dropped"] == 7
    assert http.patch("/_mock/config", json={"limits": {"journalEntries": 2}}).status_code == 200
    http.get("/v1beta/models")
    body = http.get("/_mock/requests").json()
    assert len(body["requests"]) == 2 and body["dropped"] == 7 + 3 + 1
