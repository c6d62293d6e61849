"""Webhooks: `/{version}/webhooks` create, list, get, update, delete, `:ping`, `:rotateSigningSecret`, and the
signed deliveries of finished batches, background interactions and video operations.

Paths and fields are google-genai 3.6.1's (`_gaos/webhooks.py`, `_gaos/types/webhooks/`): a Webhook has
`id`, `name`, `uri`, `subscribed_events`, `state` (enabled | disabled | disabled_due_to_failed_deliveries),
`signing_secrets` [{truncated_secret, expire_time}], `new_signing_secret` (on create only), `create_time`,
`update_time`; rotation takes `revocation_behavior` (revoke_previous_secrets_after_h24 by default, or
revoke_previous_secrets_immediately) and answers `{"secret"}`; ping answers `{}`.

Deliveries follow the Standard Webhooks specification, as the webhooks page says the Gemini API's static
webhooks do (ai.google.dev/gemini-api/docs/webhooks, read 2026-12): a JSON POST with the headers
`webhook-id`, `webhook-timestamp` (Unix seconds) and `webhook-signature` (space-separated `v1,<base64
HMAC-SHA256 of "<id>.<timestamp>.<body>">`, one per live secret, keyed by the base64 secret after its `whsec_`
prefix). The body is `{"type": <event>, "timestamp", "data": {...}}`; `data` names the resource (`name` /
`id`, and its final state). Per-request `webhook_config` (JWT-signed dynamic webhooks) is not emulated.

Finished work is found by a sweep over the projects that have webhooks (the states themselves stay computed
from the clock when read); a sender thread, started with the first webhook, runs the sweep and sends due
deliveries. A failed delivery (no 2xx) is retried `webhooks.maxAttempts` times, `webhooks.retrySeconds`
doubling on the emulator's clock; every attempt goes to the request journal. A delivery that exhausts its
attempts disables the webhook (`disabled_due_to_failed_deliveries`).
"""
from __future__ import annotations

import base64
import builtins
import hashlib
import hmac
import json
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from ...auth import Identity
from ...errors import ApiError, invalid_argument
from ...http import Context, dumps, json_response, parse_json

if TYPE_CHECKING:
    from ...store import Store

EVENTS = ("batch.succeeded", "batch.cancelled", "batch.expired", "batch.failed", "interaction.requires_action",
          "interaction.completed", "interaction.failed", "interaction.cancelled", "video.generated")
STATES = ("enabled", "disabled")
BATCH_EVENTS = {"BATCH_STATE_SUCCEEDED": "batch.succeeded", "BATCH_STATE_FAILED": "batch.failed",
                "BATCH_STATE_CANCELLED": "batch.cancelled", "BATCH_STATE_EXPIRED": "batch.expired"}
SECRET_GRACE_SECONDS = 24 * 3600
SEND_TIMEOUT_SECONDS = 5.0
SWEEP_INTERVAL_SECONDS = 0.1     # real time between the sender thread's looks (never a state's timing)


def missing(webhook_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", f"Webhook {webhook_id} was not found.")


@dataclass
class Secret:
    value: str
    expires: float | None = None


@dataclass
class Webhook:
    id: str
    project: str
    uri: str
    events: list[str]
    name: str | None
    created: float
    updated: float
    state: str = "enabled"
    secrets: list[Secret] = field(default_factory=list)


@dataclass
class Delivery:
    id: str
    webhook: str
    project: str
    event: str
    body: bytes
    due: float
    attempts: int = 0
    done: bool = False
    log: list[dict[str, Any]] = field(default_factory=list)


def sign(secrets: list[str], message_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: one `v1,<base64>` per secret."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    out = []
    for secret in secrets:
        key = base64.b64decode(secret.removeprefix("whsec_"))
        out.append("v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode())
    return " ".join(out)


class Webhooks:
    """Every project's webhooks and the deliveries waiting or done. Registered as `store.webhooks`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lock = threading.RLock()
        self._hooks: dict[str, dict[str, Webhook]] = {}
        self._deliveries: list[Delivery] = []
        self._announced: set[tuple[str, str, str]] = set()   # (project, resource, event) already queued
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def reset(self) -> None:
        with self.lock:
            self._hooks.clear()
            self._deliveries.clear()
            self._announced.clear()

    # -- the resource ---------------------------------------------------------------------------------
    def _validate(self, body: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if "uri" in body or not partial:
            uri = body.get("uri")
            if not isinstance(uri, str) or not uri.startswith(("http://", "https://")):
                raise invalid_argument("uri must be an http:// or https:// URL.", "uri")
            out["uri"] = uri
        if "subscribed_events" in body or not partial:
            events = body.get("subscribed_events")
            if not isinstance(events, list) or not events:
                raise invalid_argument("subscribed_events must list at least one event.", "subscribed_events")
            unknown = [e for e in events if e not in EVENTS]
            if unknown:
                raise invalid_argument(f"subscribed_events: unknown event {unknown[0]!r}; the events are "
                                       f"{', '.join(EVENTS)}.", "subscribed_events")
            out["events"] = list(dict.fromkeys(events))
        if "state" in body:
            if body["state"] not in STATES:
                raise invalid_argument(f"state must be one of {', '.join(STATES)}.", "state")
            out["state"] = body["state"]
        if body.get("name") is not None:
            out["name"] = str(body["name"])
        return out

    def _secret(self, project: str) -> str:
        raw = hashlib.blake2b(f"{self.store.seed}|{project}|{self.store.new_id(project, 'webhook-secret')}".encode(),
                              digest_size=32).digest()
        return "whsec_" + base64.b64encode(raw).decode()

    def create(self, project: str, body: dict[str, Any]) -> dict[str, Any]:
        fields = self._validate(body, partial=False)
        now = self.store.now()
        hook = Webhook(id=self.store.new_id(project, "webhook"), project=project, uri=fields["uri"],
                       events=fields["events"], name=fields.get("name"), created=now, updated=now,
                       state=fields.get("state", "enabled"), secrets=[Secret(self._secret(project))])
        with self.lock:
            self._hooks.setdefault(project, {})[hook.id] = hook
        self.store.changed()
        self._start()
        return self.render(hook) | {"new_signing_secret": hook.secrets[0].value}

    def find(self, project: str, webhook_id: str) -> Webhook:
        with self.lock:
            hook = self._hooks.get(project, {}).get(webhook_id)
        if hook is None:
            raise missing(webhook_id)
        return hook

    def list(self, project: str) -> list[dict[str, Any]]:
        with self.lock:
            hooks = sorted(self._hooks.get(project, {}).values(), key=lambda h: (h.created, h.id))
        return [self.render(h) for h in hooks]

    def update(self, project: str, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
        hook = self.find(project, webhook_id)
        fields = self._validate(body, partial=True)
        with self.lock:
            hook.uri = fields.get("uri", hook.uri)
            hook.events = fields.get("events", hook.events)
            hook.state = fields.get("state", hook.state)
            hook.name = fields.get("name", hook.name)
            hook.updated = self.store.now()
        self.store.changed()
        return self.render(hook)

    def delete(self, project: str, webhook_id: str) -> None:
        with self.lock:
            if self._hooks.get(project, {}).pop(webhook_id, None) is None:
                raise missing(webhook_id)
        self.store.changed()

    def rotate(self, project: str, webhook_id: str, body: dict[str, Any]) -> dict[str, Any]:
        hook = self.find(project, webhook_id)
        behavior = body.get("revocation_behavior") or "revoke_previous_secrets_after_h24"
        if behavior not in ("revoke_previous_secrets_after_h24", "revoke_previous_secrets_immediately"):
            raise invalid_argument(f"revocation_behavior {behavior!r} is not supported.", "revocation_behavior")
        now = self.store.now()
        new = Secret(self._secret(project))
        with self.lock:
            if behavior == "revoke_previous_secrets_immediately":
                hook.secrets = [new]
            else:
                for old in hook.secrets:
                    old.expires = min(old.expires or now + SECRET_GRACE_SECONDS, now + SECRET_GRACE_SECONDS)
                hook.secrets = [new] + hook.secrets
            hook.updated = now
        self.store.changed()
        return {"secret": new.value}

    def ping(self, project: str, webhook_id: str) -> dict[str, Any]:
        hook = self.find(project, webhook_id)
        self._queue(hook, "webhook.ping", {"id": hook.id})
        return {}

    def live_secrets(self, hook: Webhook) -> builtins.list[str]:
        now = self.store.now()
        return [s.value for s in hook.secrets if s.expires is None or s.expires > now]

    def render(self, hook: Webhook) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": hook.id, "uri": hook.uri, "subscribed_events": list(hook.events), "state": hook.state,
            "create_time": self.store.timestamp(hook.created), "update_time": self.store.timestamp(hook.updated)}
        if hook.name:
            out["name"] = hook.name
        now = self.store.now()
        out["signing_secrets"] = [
            {"truncated_secret": s.value[:10] + "..."} | (
                {"expire_time": self.store.timestamp(s.expires)} if s.expires else {})
            for s in hook.secrets if s.expires is None or s.expires > now]
        return out

    # -- events and deliveries ------------------------------------------------------------------------
    def announce(self, project: str, resource: str, event: str, data: dict[str, Any]) -> None:
        """Queue one delivery per enabled webhook of `project` subscribed to `event` (once per resource)."""
        with self.lock:
            key = (project, resource, event)
            if key in self._announced:
                return
            self._announced.add(key)
            hooks = [h for h in self._hooks.get(project, {}).values() if h.state == "enabled" and event in h.events]
        for hook in hooks:
            self._queue(hook, event, data)

    def _queue(self, hook: Webhook, event: str, data: dict[str, Any]) -> None:
        now = self.store.now()
        body = dumps({"type": event, "timestamp": self.store.timestamp(now), "data": data})
        delivery = Delivery(id="msg_" + self.store.new_id(hook.project, "webhook-message", 20), webhook=hook.id,
                            project=hook.project, event=event, body=body, due=now)
        with self.lock:
            self._deliveries.append(delivery)

    def deliveries(self, project: str | None = None) -> builtins.list[Delivery]:
        with self.lock:
            return [d for d in self._deliveries if project is None or d.project == project]

    def sweep(self) -> None:
        """Queue the events of work that has finished, in the projects that have webhooks."""
        with self.lock:
            projects = [p for p, hooks in self._hooks.items() if hooks]
        for project in projects:
            self._sweep_interactions(project)
            self._sweep_batches(project)
            self._sweep_videos(project)

    def _sweep_interactions(self, project: str) -> None:
        now = self.store.now()
        for record in self.store.interactions.all(project):
            status = record.status(now)
            if record.background and status != "in_progress":
                self.announce(project, record.id, f"interaction.{status}", {"id": record.id, "status": status})

    def _sweep_batches(self, project: str) -> None:
        batches = self.store.batches
        if project not in batches.projects():
            return
        owner, token = Identity(key="", project=project, email=""), None   # names only the project
        while True:
            page = batches.list(owner, 1000, token)
            for operation in page.get("operations") or ():
                state = (operation.get("metadata") or {}).get("state")
                if state in BATCH_EVENTS:
                    self.announce(project, operation["name"], BATCH_EVENTS[state],
                                  {"name": operation["name"], "state": state})
            token = page.get("nextPageToken")
            if not token:
                return

    def _sweep_videos(self, project: str) -> None:
        now = self.store.now()
        # reads the operations' done times; the video files stay made on first read
        done = [op.name for owner, op in self.store.video_operations.records()
                if owner == project and op.done(now)]
        for name in done:
            self.announce(project, name, "video.generated", {"name": name})

    def send_due(self) -> None:
        now = self.store.now()
        config = self.store.config["webhooks"]
        for delivery in [d for d in self.deliveries() if not d.done and d.due <= now]:
            with self.lock:
                hook = self._hooks.get(delivery.project, {}).get(delivery.webhook)
            if hook is None or hook.state != "enabled":
                delivery.done = True
                continue
            status = self._post(hook, delivery)
            delivery.attempts += 1
            delivery.log.append({"attempt": delivery.attempts, "status": status, "time": self.store.timestamp()})
            self.store.journal.add({"time": self.store.now(), "method": "POST", "path": hook.uri,
                                    "project": delivery.project, "model": None, "status": status,
                                    "webhook": f"{hook.id} {delivery.event} {delivery.id}"})
            if 200 <= status < 300:
                delivery.done = True
            elif delivery.attempts >= int(config["maxAttempts"]):
                delivery.done = True
                with self.lock:
                    hook.state = "disabled_due_to_failed_deliveries"
            else:
                delivery.due = self.store.now() + float(config["retrySeconds"]) * 2 ** (delivery.attempts - 1)

    def _post(self, hook: Webhook, delivery: Delivery) -> int:
        """One attempt: the receiver's HTTP status, or 0 when it could not be reached."""
        timestamp = int(self.store.now())
        headers = {"content-type": "application/json", "user-agent": "gemini-mockserver-webhooks",
                   "webhook-id": delivery.id, "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(self.live_secrets(hook), delivery.id, timestamp, delivery.body)}
        request = urllib.request.Request(hook.uri, data=delivery.body, headers=headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=SEND_TIMEOUT_SECONDS) as answer:
                return int(answer.status)
        except urllib.error.HTTPError as error:
            return error.code
        except (OSError, ValueError):
            return 0

    # -- export and import (the webhooks and what was announced; deliveries in flight are not kept) ----
    def export_state(self) -> dict[str, Any]:
        with self.lock:
            hooks = [{**h.__dict__, "secrets": [s.__dict__ for s in h.secrets]}
                     for group in self._hooks.values() for h in group.values()]
            return {"webhooks": hooks, "announced": sorted(list(key) for key in self._announced)}

    def import_state(self, data: dict[str, Any]) -> None:
        hooks: dict[str, dict[str, Webhook]] = {}
        for raw in data.get("webhooks") or ():
            hook = Webhook(**{**raw, "secrets": [Secret(**s) for s in raw.get("secrets") or ()]})
            hooks.setdefault(hook.project, {})[hook.id] = hook
        with self.lock:
            self._hooks = hooks
            self._deliveries = []
            self._announced = {tuple(key) for key in data.get("announced") or ()}
        if any(hooks.values()):
            self._start()

    # -- the sender thread ----------------------------------------------------------------------------
    def _start(self) -> None:
        with self.lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="gemini-mock-webhooks", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        """Runs while some project has a webhook or a delivery is pending."""
        while not self._stop.wait(SWEEP_INTERVAL_SECONDS):
            with self.lock:
                if not any(self._hooks.values()) and all(d.done for d in self._deliveries):
                    self._thread = None
                    return
            try:
                self.sweep()
                self.send_due()
            except Exception:   # a bug here must not kill deliveries for good: keep it, go on
                import traceback
                self.store.internal_errors.append(traceback.format_exc())

    def close(self) -> None:
        self._stop.set()


# -- HTTP skin --------------------------------------------------------------------------------------

async def _body(ctx: Context) -> dict[str, Any]:
    body = parse_json(await ctx.body())
    if not isinstance(body, dict):
        raise invalid_argument("The request body must be a JSON object.")
    return body


async def create_webhook(ctx: Context) -> Response:
    return json_response(ctx.store.webhooks.create(ctx.project, await _body(ctx)))


async def list_webhooks(ctx: Context) -> Response:
    return json_response({"webhooks": ctx.store.webhooks.list(ctx.project)})


async def get_webhook(ctx: Context) -> Response:
    return json_response(ctx.store.webhooks.render(ctx.store.webhooks.find(ctx.project, ctx.params["id"])))


async def update_webhook(ctx: Context) -> Response:
    return json_response(ctx.store.webhooks.update(ctx.project, ctx.params["id"], await _body(ctx)))


async def delete_webhook(ctx: Context) -> Response:
    ctx.store.webhooks.delete(ctx.project, ctx.params["id"])
    return Response(dumps({}), media_type="application/json")


async def ping_webhook(ctx: Context) -> Response:
    return json_response(ctx.store.webhooks.ping(ctx.project, ctx.params["id"]))


async def rotate_secret(ctx: Context) -> Response:
    return json_response(ctx.store.webhooks.rotate(ctx.project, ctx.params["id"], await _body(ctx)))


def describe(store: Store) -> list[dict[str, Any]]:
    """The webhooks and their deliveries, for the dashboard and the control plane."""
    out: list[dict[str, Any]] = []
    for delivery in store.webhooks.deliveries():
        out.append({"id": delivery.id, "webhook": delivery.webhook, "project": delivery.project,
                    "event": delivery.event, "attempts": delivery.attempts, "done": delivery.done,
                    "log": list(delivery.log), "body": json.loads(delivery.body)})
    return out
