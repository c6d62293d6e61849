"""What the dashboard and the control plane show of interactions (their steps) and webhook deliveries."""
from __future__ import annotations

from .backend import view
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...store import Store


def _step_summary(step: dict[str, Any]) -> str:
    """One line per step: its type and what it holds."""
    kind: str = step.get("type", "")
    if kind in ("user_input", "model_output"):
        texts = [c.get("text", f"[{c.get('type')}]") for c in step.get("content") or ()]
        text = " ".join(texts)
        return f"{kind}: {text[:160] + '...' if len(text) > 160 else text}"
    if kind == "function_call":
        return f"function_call {step.get('name')}({step.get('arguments')}) id={step.get('id')}"
    if kind == "function_result":
        return f"function_result call_id={step.get('call_id')}"
    if kind == "thought":
        return "thought" + (" (signed)" if step.get("signature") else "")
    return kind


def interactions(store: Store) -> list[dict[str, Any]]:
    rows = []
    for record in store.interactions.all():
        wire = view(store, record, timeline=True)
        rows.append({"project": record.project, "id": record.id, "model": wire.get("model") or wire.get("agent"),
                     "status": wire["status"], "background": record.background, "created": wire["created"],
                     "previous": record.request.get("previous_interaction_id"),
                     "steps": [_step_summary(s) for s in wire.get("steps") or ()], "usage": wire.get("usage")})
    return rows


def deliveries(store: Store) -> list[dict[str, Any]]:
    return [{"id": d.id, "project": d.project, "webhook": d.webhook, "event": d.event, "attempts": d.attempts,
             "done": d.done, "log": list(d.log)} for d in store.webhooks.deliveries()]
