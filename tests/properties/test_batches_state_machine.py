"""A stateful property test of the batch state machine, driving the backend (`store.batches`) directly:
random creates (inline and file, some requests bound to fail, random timings), clock moves, cancels,
deletes and reads, checked against a reference model of the states and against the invariants:

* states only move forward (PENDING -> RUNNING -> a terminal state) and a terminal state stays;
* the state is the one the clock gives: PENDING, RUNNING, SUCCEEDED, EXPIRED (not done 48 h after
  creation) or CANCELLED (cancelled while PENDING or RUNNING; a cancel of an ended job is refused);
* requestCount = successful + failed + pending at every read; successful and failed never fall;
* `done` if and only if the state is terminal; `output` (and `response`) only when SUCCEEDED or when
  CANCELLED after some requests were done, holding exactly the requests done; `error` on every other end;
* a deleted (or another project's) job answers 403 to everything.
"""
from __future__ import annotations

import json
import math

import pytest
from hypothesis import HealthCheck, settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gemini_mockserver.app import create_store
from gemini_mockserver.config import Config
from gemini_mockserver.errors import ApiError
from gemini_mockserver.wire import parse_time

MODEL = "models/gemini-2.5-flash"
EXPIRY = 48 * 3600
ORDER = {"BATCH_STATE_PENDING": 0, "BATCH_STATE_RUNNING": 1}
TERMINAL = {"BATCH_STATE_SUCCEEDED", "BATCH_STATE_FAILED", "BATCH_STATE_CANCELLED", "BATCH_STATE_EXPIRED"}


class Frozen:
    """A clock that moves only when told to (the store's real clock follows the wall clock)."""

    def __init__(self) -> None:
        self.t = 2_000_000_000.0

    def now(self) -> float:
        return self.t

    def advance(self, seconds: float) -> float:
        self.t += seconds
        return self.t

    def reset(self) -> None:
        pass


def request(i: int, bad: bool) -> dict:
    body = {"contents": [{"parts": [{"text": f"prompt {i}"}]}]}
    if bad:
        body["model"] = "models/no-such-model"
    return body


class Model:
    """What the reference model knows of one job."""

    def __init__(self, name: str, created: float, pending: float, running: float, count: int):
        self.name, self.created, self.pending, self.running, self.count = name, created, pending, running, count
        self.cancelled_at: float | None = None
        self.last_state = "BATCH_STATE_PENDING"
        self.last_done = (0, 0)

    def expected(self, now: float) -> str:
        if self.cancelled_at is not None:
            return "BATCH_STATE_CANCELLED"
        end = self.created + self.pending + self.running
        if end > self.created + EXPIRY and now >= self.created + EXPIRY:
            return "BATCH_STATE_EXPIRED"
        if now >= end:
            return "BATCH_STATE_SUCCEEDED"
        if now >= self.created + self.pending:
            return "BATCH_STATE_RUNNING"
        return "BATCH_STATE_PENDING"

    def due(self, now: float) -> int:
        start = self.created + self.pending
        if now < start:
            return 0
        if now >= start + self.running or self.running <= 0:
            return self.count
        return math.floor(self.count * (now - start) / self.running)


class BatchMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.clock = Frozen()
        self.store = create_store(Config({"batch": {"pendingSeconds": 5.0, "runningSeconds": 10.0}}))
        self.store.clock = self.clock
        self.me = self.store.keys.identify("machine-key")
        self.stranger = self.store.keys.identify("machine-key-other")
        self.jobs: dict[str, Model] = {}
        self.deleted: list[str] = []

    def teardown(self) -> None:
        self.store.close()

    # -- rules ---------------------------------------------------------------------------------------
    @rule(count=st.integers(1, 4), bad=st.sets(st.integers(0, 3), max_size=2),
          pending=st.sampled_from([0.0, 5.0, 60.0, 30 * 3600.0, 50 * 3600.0]),
          running=st.sampled_from([0.0, 10.0, 1000.0, 20 * 3600.0, 49 * 3600.0]), from_file=st.booleans())
    def create(self, count, bad, pending, running, from_file):
        requests = [request(i, i in bad) for i in range(count)]
        if from_file:
            data = b"".join(json.dumps({"key": f"k{i}", "request": r}).encode() + b"\n"
                            for i, r in enumerate(requests))
            file = self.store.files.create_generated(self.me, "input", "application/jsonl", data=data)
            source = {"fileName": file["name"]}
        else:
            source = {"requests": {"requests": [{"request": r, "metadata": {"key": f"k{i}"}}
                                                for i, r in enumerate(requests)]}}
        operation = self.store.batches.create(self.me, MODEL, {"batch": {"inputConfig": source}})
        name = operation["name"]
        assert name not in self.jobs and name not in self.deleted
        self.store.batches.set_timings(name, pending=pending, running=running)
        assert operation["metadata"]["state"] == "BATCH_STATE_PENDING" and operation["done"] is False
        self.jobs[name] = Model(name, self.clock.now(), pending, running, count)
        self.check(name, self.store.batches.get(self.me, name))

    @rule(seconds=st.sampled_from([0.5, 1.0, 3.0, 5.0, 10.0, 100.0, 3600.0, 20 * 3600.0, 48 * 3600.0, 72 * 3600.0]))
    def advance(self, seconds):
        self.clock.advance(seconds)

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def get(self, data):
        name = data.draw(st.sampled_from(sorted(self.jobs)))
        self.check(name, self.store.batches.get(self.me, name))

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def cancel(self, data):
        name = data.draw(st.sampled_from(sorted(self.jobs)))
        job = self.jobs[name]
        expected = job.expected(self.clock.now())
        try:
            self.store.batches.cancel(self.me, name)
        except ApiError as error:
            assert expected in TERMINAL, (expected, error)
            assert (error.code, error.status) == (400, "FAILED_PRECONDITION")
        else:
            assert expected not in TERMINAL, expected
            job.cancelled_at = self.clock.now()
        self.check(name, self.store.batches.get(self.me, name))

    @precondition(lambda self: self.jobs)
    @rule(data=st.data())
    def delete(self, data):
        name = data.draw(st.sampled_from(sorted(self.jobs)))
        self.store.batches.delete(self.me, name)
        del self.jobs[name]
        self.deleted.append(name)

    @precondition(lambda self: self.deleted or self.jobs)
    @rule(data=st.data())
    def gone_or_foreign_is_403(self, data):
        name = data.draw(st.sampled_from(sorted(self.deleted + list(self.jobs))))
        who = self.me if name in self.deleted else self.stranger
        for call in (lambda: self.store.batches.get(who, name), lambda: self.store.batches.cancel(who, name),
                     lambda: self.store.batches.delete(who, name)):
            with pytest.raises(ApiError) as error:
                call()
            assert (error.value.code, error.value.status) == (403, "PERMISSION_DENIED")

    @invariant()
    def listing_shows_exactly_the_live_jobs(self):
        listed = self.store.batches.list(self.me, page_size=1000).get("operations", [])
        assert sorted(op["name"] for op in listed) == sorted(self.jobs)
        for operation in listed:
            self.check(operation["name"], operation)
        assert self.store.batches.list(self.stranger) == {}

    # -- the checks ------------------------------------------------------------------------------------
    def check(self, name: str, operation: dict) -> None:
        job = self.jobs[name]
        now = self.clock.now()
        meta = operation["metadata"]
        state = meta["state"]
        assert state == job.expected(now), (name, state, job.expected(now))
        # monotone; terminal stays
        if job.last_state in TERMINAL:
            assert state == job.last_state
        else:
            assert state in TERMINAL or ORDER[state] >= ORDER[job.last_state]
        job.last_state = state
        # counts
        stats = {k: int(meta["batchStats"].get(k, "0")) for k in
                 ("requestCount", "successfulRequestCount", "failedRequestCount", "pendingRequestCount")}
        total, ok, failed, pending = (stats["requestCount"], stats["successfulRequestCount"],
                                      stats["failedRequestCount"], stats["pendingRequestCount"])
        assert total == job.count and ok + failed + pending == total, stats
        assert ok >= job.last_done[0] and failed >= job.last_done[1], (stats, job.last_done)
        job.last_done = (ok, failed)
        if state == "BATCH_STATE_RUNNING":
            assert ok + failed == job.due(now)
        if state == "BATCH_STATE_SUCCEEDED":
            assert pending == 0
        if state == "BATCH_STATE_PENDING":
            assert ok + failed == 0
        # done <=> terminal; output only when SUCCEEDED or CANCELLED with work done
        assert operation["done"] is (state in TERMINAL)
        has_output = "output" in meta
        if state == "BATCH_STATE_SUCCEEDED" or (state == "BATCH_STATE_CANCELLED" and ok + failed):
            assert has_output
            assert operation["response"]["@type"].endswith("GenerateContentBatchOutput")
            output = meta["output"]
            if "inlinedResponses" in output:
                items = output["inlinedResponses"]["inlinedResponses"]
                assert [item["metadata"]["key"] for item in items] == [f"k{i}" for i in range(ok + failed)]
                assert sum("error" in item for item in items) == failed
            else:
                assert output["responsesFile"].startswith("files/")
                try:
                    data = self.store.files.path_of(self.me, output["responsesFile"]).read_bytes()
                except ApiError as error:   # results files expire like every file, 48 h after the job ended
                    assert error.code == 403
                    assert now - parse_time(meta["endTime"], "endTime") >= self.store.config["files"]["ttlSeconds"]
                else:
                    lines = [json.loads(line) for line in data.splitlines()]
                    assert [line["key"] for line in lines] == [f"k{i}" for i in range(ok + failed)]
                    assert sum("error" in line for line in lines) == failed
        else:
            assert not has_output and "response" not in operation
        if state in TERMINAL and not has_output:
            assert "error" in operation
        else:
            assert "error" not in operation
        assert ("endTime" in meta) is (state in TERMINAL)


BatchMachine.TestCase.settings = settings(max_examples=40, stateful_step_count=25, deadline=None,
                                          suppress_health_check=[HealthCheck.too_slow])
TestBatchStateMachine = BatchMachine.TestCase
