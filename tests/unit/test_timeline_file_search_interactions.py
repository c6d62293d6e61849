"""The timelines of File Search documents and operations and of background interactions: each gives the
states its rule gave before the timeline held it, over a grid of times (timeline.py)."""
from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from gemini_mockserver.resources.file_search_stores import (ACTIVE, FAILED, PENDING, DocumentRecord,
                                                            OperationRecord)
from gemini_mockserver.resources.interactions.backend import CANCELLED, IN_PROGRESS, Interaction
from gemini_mockserver.timeline import OPERATION_DONE, OPERATION_RUNNING, Transition, operation_timeline

CREATED = 1000.0
GRID = [CREATED - 10, CREATED - 0.001] + [CREATED + s / 2 for s in range(0, 130)]


def _document(ready_in: float, error: str | None) -> DocumentRecord:
    return DocumentRecord(project="p", store="fileSearchStores/s", id="d", display_name="", mime_type="text/plain",
                          size=1, custom_metadata=[], chunk_tokens=100, overlap_tokens=0, create_time=CREATED,
                          ready_time=CREATED + ready_in, path=Path("/nonexistent"), seq=0, error=error)


def _operation(ready_in: float, error: str | None) -> OperationRecord:
    return OperationRecord(project="p", name="fileSearchStores/s/upload/operations/o", kind="upload",
                           store="fileSearchStores/s", document="fileSearchStores/s/documents/d",
                           mime_type="text/plain", size=1, ready_time=CREATED + ready_in, error=error)


@pytest.mark.parametrize("ready_in, error", list(itertools.product((0, 0.5, 5, 30), (None, "no text"))))
def test_a_file_search_document_and_its_operation_keep_their_rule(ready_in, error):
    doc, op = _document(ready_in, error), _operation(ready_in, error)
    for now in GRID:
        # the rule as it was written before (FileSearchStores.state, render_operation)
        old_state = PENDING if now < doc.ready_time else (FAILED if doc.error else ACTIVE)
        assert doc.timeline().state_at(now) == old_state, now
        assert op.done(now) == (now >= op.ready_time), now
    assert doc.timeline().next_transition(CREATED - 1) == Transition(FAILED if error else ACTIVE, CREATED + ready_in)
    assert doc.timeline().next_transition(CREATED + ready_in) is None
    assert op.timeline().next_transition(CREATED - 1) == Transition(OPERATION_DONE, CREATED + ready_in)


def test_an_operation_timeline_runs_until_its_instant_and_is_done_from_then_on():
    line = operation_timeline(10)
    assert [line.state_at(t) for t in (9.999, 10, 1e9)] == [OPERATION_RUNNING, OPERATION_DONE, OPERATION_DONE]
    assert line.next_transition(10) is None and not line.expired(1e12)


def _interaction(seconds: float, outcome: str, cancelled_in: float | None) -> Interaction:
    return Interaction(id="i", project="p", created=CREATED, request={"background": seconds > 0}, input_steps=[],
                       steps=[], usage={}, outcome=outcome, contents=[], done_time=CREATED + seconds,
                       cancelled_at=None if cancelled_in is None else CREATED + cancelled_in)


def _old_status(record: Interaction, now: float) -> str:
    if record.cancelled_at is not None:
        return "cancelled"
    return record.outcome if now >= record.done_time else "in_progress"


def _old_updated(record: Interaction, now: float) -> float:
    if record.cancelled_at is not None:
        return record.cancelled_at
    return record.done_time if now >= record.done_time else record.created


@pytest.mark.parametrize("seconds, outcome, cancelled_in", list(itertools.product(
    (0, 10, 30), ("completed", "requires_action", "failed"), (None, 0, 5))))
def test_an_interaction_keeps_its_status_rule(seconds, outcome, cancelled_in):
    record = _interaction(seconds, outcome, cancelled_in)
    for now in GRID:
        assert record.status(now) == _old_status(record, now), now
        assert record.updated(now) == _old_updated(record, now), now


def test_a_background_interaction_is_in_progress_until_its_outcome_and_a_cancel_holds_whatever_the_clock_says():
    record = _interaction(30, "completed", None)
    assert record.timeline().next_transition(CREATED) == Transition("completed", CREATED + 30)
    assert [record.status(CREATED + s) for s in (0, 29.9, 30)] == [IN_PROGRESS, IN_PROGRESS, "completed"]
    assert _interaction(0, "failed", None).status(CREATED) == "failed"   # a foreground run is over at once
    record.cancelled_at = CREATED + 5
    assert {record.status(now) for now in GRID} == {CANCELLED}   # even before the cancel, should the clock go back
