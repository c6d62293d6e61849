"""The timeline rule of clock-driven states (timeline.py), and the lifecycles that read their states from it:
batch jobs (with the dashboard's next transition), files, caches, tuned-model training, video operations."""
from __future__ import annotations

import itertools

import httpx
import pytest

from gemini_mockserver.auth import Identity
from gemini_mockserver.resources.batches.job import (EXPIRED, FAILED, GENERATE, PENDING, RUNNING, SUCCEEDED, Job)
from gemini_mockserver.resources.caches import CachedContent
from gemini_mockserver.resources.files.records import ACTIVE, PROCESSING, FileRecord
from gemini_mockserver.resources.media_generation import VideoOperation
from gemini_mockserver.timeline import Timeline, Transition

from support.servers import api_client, serve


def test_state_at_follows_the_changes_and_the_first_state_holds_before_any():
    line = Timeline("A", Transition("B", 10), Transition("C", 20))
    assert [line.state_at(t) for t in (-5, 0, 9.9, 10, 15, 20, 1e9)] == ["A", "A", "A", "B", "B", "C", "C"]
    assert line.next_transition(0) == Transition("B", 10)
    assert line.next_transition(10) == Transition("C", 20)
    assert line.next_transition(20) is None


def test_the_end_wins_ties_and_cuts_off_every_later_change():
    line = Timeline("A", Transition("B", 30), end=Transition("END", 20))
    assert [line.state_at(t) for t in (19, 20, 30, 40)] == ["A", "END", "END", "END"]
    assert line.changes == (Transition("END", 20),)
    tie = Timeline("A", Transition("B", 20), end=Transition("END", 20))
    assert tie.state_at(20) == "END" and tie.next_transition(0) == Transition("END", 20)


def test_changes_at_one_instant_keep_their_order_and_a_change_to_the_same_state_is_no_transition():
    line = Timeline("A", Transition("B", 5), Transition("C", 5), Transition("C", 8), Transition("D", 9))
    assert line.state_at(5) == "C"
    assert line.next_transition(0) == Transition("B", 5)   # the first change after now, as given
    assert line.next_transition(5) == Transition("D", 9)    # C at 8 changes nothing
    assert Timeline("A", Transition("A", 5)).next_transition(0) is None


def test_expiry_holds_from_its_instant_on_and_never_without_one():
    line = Timeline("A", expires=100)
    assert not line.expired(99.999) and line.expired(100) and line.expired(1e12)
    assert not Timeline("A").expired(1e12)


def _job(pending: float, running: float, expiry: float, *, input_error: str | None = None,
         seen_running: bool = False) -> Job:
    return Job(id="b1", identity=Identity(key="k", project="p", email="p@example.com"), kind=GENERATE, version="v1beta",
               model="models/m", display_name="", priority=0, webhook=None, created=1000.0, pending_s=pending,
               running_s=running, expiry_s=expiry, request_count=3, seq=0, input_error=input_error,
               seen_running=seen_running)


def _reference_state(job: Job, now: float) -> str:
    """The batch rule as it was written before the timeline held it (batches/backend.py)."""
    if job.will_expire and now >= job.expires:
        return EXPIRED
    if now >= job.finish:
        return FAILED if job.input_error else SUCCEEDED
    if now >= job.start or job.seen_running:
        return RUNNING
    return PENDING


@pytest.mark.parametrize("pending, running, expiry, input_error, seen_running", list(itertools.product(
    (0, 10, 50), (0, 10, 50), (0, 10, 30, 100), (None, "bad input"), (False, True))))
def test_a_batch_job_keeps_its_state_machine(pending, running, expiry, input_error, seen_running):
    job = _job(pending, running, expiry, input_error=input_error, seen_running=seen_running)
    for now in [990.0, 1000.0] + [1000.0 + s for s in range(0, 120, 5)]:
        assert job.state(now) == _reference_state(job, now), now
        upcoming = job.next_transition(now)
        if upcoming is not None:   # the next transition is when the state really changes, and to what
            assert upcoming.at > now and job.state(upcoming.at) == upcoming.state != job.state(now)
            assert all(job.state(t) == job.state(now) for t in (now, (now + upcoming.at) / 2))
        else:
            assert job.state(now) in (EXPIRED, FAILED, SUCCEEDED)


def test_a_batch_job_that_expires_before_it_would_start_goes_from_pending_to_expired():
    job = _job(pending=100, running=10, expiry=50)
    assert job.next_transition(1000) == Transition(EXPIRED, 1050)
    job.final = SUCCEEDED
    assert job.next_transition(1000) is None and job.state(2000) == SUCCEEDED   # an ended job keeps its end


def test_file_cache_tuned_model_and_video_operation_lifecycles():
    record = FileRecord(project="p", id="f", display_name=None, mime_type="text/plain", size=1, sha256_hex="",
                        source="UPLOADED", path=None, create_time=0, ready_time=5, expire_time=100, base_url=None,
                        seq=0)
    line = record.timeline()
    assert (line.state_at(4), line.state_at(5), line.next_transition(0)) == (PROCESSING, ACTIVE,
                                                                           Transition(ACTIVE, 5))
    assert not line.expired(99) and line.expired(100)
    record.error = "undecodable"
    assert record.timeline().state_at(5) == "FAILED"
    cache = CachedContent(id="c", project="p", model="models/m", display_name=None, contents=[],
                          system_instruction=None, tools=None, tool_config=None, create_time=0, update_time=0,
                          expire_time=60)
    assert cache.alive(59.9) and not cache.alive(60)
    op = VideoOperation(name="models/v/operations/o", model="models/v", digest=b"", seconds=1, width=1, height=1,
                        videos=1, done_time=11)
    assert not op.done(10.9) and op.done(11) and op.timeline().next_transition(11) is None


def test_the_dashboard_shows_a_batch_jobs_next_transition_from_the_job():
    """A job whose 50 s expiry comes before its 100 s of pending: the next transition is EXPIRED, not RUNNING."""
    config = {"batch": {"pendingSeconds": 100, "runningSeconds": 10, "expirySeconds": 50}}
    with serve(config=config) as server, api_client(server, "k") as client:
        created = client.post("/v1beta/models/gemini-3.5-flash:batchGenerateContent", json={
            "batch": {"inputConfig": {"requests": {"requests": [
                {"request": {"contents": [{"parts": [{"text": "hi"}]}]}}]}}}})
        assert created.status_code == 200, created.text
        name = created.json()["name"]
        state = client.get("/_mock/ui/state").json()
        assert state["errors"] == {}
        (row,) = [row for row in state["batches"] if row["name"] == name]
        assert row["state"] == PENDING
        assert row["next"] == {"state": EXPIRED, "epoch": row["expireEpoch"]}
