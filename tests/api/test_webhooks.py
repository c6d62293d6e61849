"""Webhooks through google-genai's `client.webhooks`, and the signed deliveries a local receiver gets."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from google.genai import _interactions_errors as errors
from google.genai import types

MODEL = "gemini-3.6-flash"
WAIT_SECONDS = 20.0   # how long to wait for a delivery the sender thread makes (not a timing assertion)


class Receiver:
    """A local HTTP endpoint that records every POST; `statuses` scripts its answers (then 200)."""

    def __init__(self) -> None:
        self.received: list[dict] = []
        self.statuses: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                outer.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                status = outer.statuses.pop(0) if outer.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, count: int) -> list[dict]:
        deadline = time.monotonic() + WAIT_SECONDS
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.received) >= count, f"{len(self.received)} deliveries, expected {count}"
        return self.received


@pytest.fixture
def receiver():
    made = Receiver()
    yield made
    made.server.shutdown()


def webhook_entries(gemini_mock, count: int) -> list[dict]:
    """The journal's delivery entries, once `count` are there: the sender writes each one after the receiver
    has answered, so a test that has just seen a delivery arrive may look a moment too early."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        entries = [e for e in gemini_mock.store.journal.entries() if e.get("webhook")]
        if len(entries) >= count or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


def verify(delivery: dict, secret: str) -> bool:
    """Standard Webhooks verification, as a receiver writes it."""
    headers = delivery["headers"]
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + delivery["body"]
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(hmac.compare_digest(entry.split(",", 1)[1], expected)
               for entry in headers["webhook-signature"].split(" "))


def test_webhook_crud_through_the_sdk(gemini_mock, client):
    made = client.webhooks.create(uri="https://example.com/hook", subscribed_events=["batch.succeeded"],
                                  name="MyBatchWebhook")
    assert made.id and made.new_signing_secret.startswith("whsec_") and made.state == "enabled"
    assert made.signing_secrets[0].truncated_secret.endswith("...")
    got = client.webhooks.get(made.id)
    assert got.uri == "https://example.com/hook" and got.new_signing_secret is None
    assert [w.id for w in client.webhooks.list().webhooks] == [made.id]
    changed = client.webhooks.update(made.id, subscribed_events=["batch.failed", "video.generated"],
                                     state="disabled")
    assert changed.subscribed_events == ["batch.failed", "video.generated"] and changed.state == "disabled"
    other = gemini_mock.client(api_key=gemini_mock.other_key("webhooks-other"))
    with pytest.raises(errors.NotFoundError):
        other.webhooks.get(made.id)
    client.webhooks.delete(made.id)
    with pytest.raises(errors.NotFoundError) as caught:
        client.webhooks.get(made.id)
    assert caught.value.body["error"]["code"] == "not_found"


def test_invalid_webhooks_are_refused(client):
    with pytest.raises(errors.BadRequestError) as caught:
        client.webhooks.create(uri="ftp://example.com", subscribed_events=["batch.succeeded"])
    assert "uri" in caught.value.body["error"]["message"]
    with pytest.raises(errors.BadRequestError) as caught:
        client.webhooks.create(uri="https://example.com", subscribed_events=["batch.exploded"])
    assert "batch.exploded" in caught.value.body["error"]["message"]


def test_ping_delivers_a_signed_post(client, receiver):
    made = client.webhooks.create(uri=receiver.url, subscribed_events=["interaction.completed"])
    assert client.webhooks.ping(made.id) is not None
    delivery = receiver.wait_for(1)[0]
    assert delivery["headers"]["webhook-id"].startswith("msg_")
    assert verify(delivery, made.new_signing_secret)
    assert not verify(delivery, "whsec_" + base64.b64encode(b"x" * 32).decode())
    assert json.loads(delivery["body"])["type"] == "webhook.ping"


def test_background_interaction_completion_is_delivered(gemini_mock, client, receiver):
    made = client.webhooks.create(uri=receiver.url, subscribed_events=["interaction.completed"])
    started = client.interactions.create(model=MODEL, input="Tell me about the ocean", background=True)
    time.sleep(0.3)   # the sender looks a few times while the interaction is still in progress
    assert receiver.received == []
    gemini_mock.advance(3600)
    delivery = receiver.wait_for(1)[0]
    body = json.loads(delivery["body"])
    assert body["type"] == "interaction.completed" and body["data"]["id"] == started.id
    assert verify(delivery, made.new_signing_secret)
    entries = webhook_entries(gemini_mock, 1)
    assert entries and entries[0]["path"] == receiver.url and entries[0]["status"] == 200


def test_batch_and_video_completion_are_delivered(gemini_mock, client, http, receiver):
    client.webhooks.create(uri=receiver.url, subscribed_events=["batch.succeeded", "video.generated"])
    job = client.batches.create(model=MODEL, src=[types.InlinedRequest(contents="Why is the sky blue?")])
    started = http.post("/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
                        json={"instances": [{"prompt": "a cat"}]}).json()
    gemini_mock.advance(3600)
    received = receiver.wait_for(2)
    events = {json.loads(d["body"])["type"]: json.loads(d["body"])["data"] for d in received}
    assert events["batch.succeeded"]["name"] == job.name
    assert events["video.generated"]["name"] == started["name"]


def test_failed_delivery_is_retried_on_the_clock(gemini_mock, client, receiver):
    receiver.statuses = [500]
    made = client.webhooks.create(uri=receiver.url, subscribed_events=["interaction.completed"])
    client.webhooks.ping(made.id)
    receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.received) == 1          # the retry waits for the emulator's clock
    gemini_mock.advance(1.5)
    retried = receiver.wait_for(2)
    assert retried[0]["headers"]["webhook-id"] == retried[1]["headers"]["webhook-id"]
    statuses = [e["status"] for e in webhook_entries(gemini_mock, 2)]
    assert statuses == [500, 200]


def test_exhausted_retries_disable_the_webhook(gemini_mock, client, receiver):
    gemini_mock.configure({"webhooks": {"maxAttempts": 2}})
    receiver.statuses = [503, 503]
    made = client.webhooks.create(uri=receiver.url, subscribed_events=["interaction.completed"])
    client.webhooks.ping(made.id)
    receiver.wait_for(1)
    gemini_mock.advance(10)
    receiver.wait_for(2)
    deadline = time.monotonic() + WAIT_SECONDS
    while client.webhooks.get(made.id).state == "enabled" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.webhooks.get(made.id).state == "disabled_due_to_failed_deliveries"
    [delivery] = gemini_mock.webhook_deliveries()
    assert delivery["event"] == "webhook.ping" and [a["status"] for a in delivery["log"]] == [503, 503]


def test_rotation_signs_with_both_secrets_for_a_day(gemini_mock, client, receiver):
    made = client.webhooks.create(uri=receiver.url, subscribed_events=["interaction.completed"])
    rotated = client.webhooks.rotate_signing_secret(made.id)
    assert rotated.secret.startswith("whsec_") and rotated.secret != made.new_signing_secret
    secrets = client.webhooks.get(made.id).signing_secrets
    assert len(secrets) == 2 and secrets[1].expire_time is not None
    client.webhooks.ping(made.id)
    delivery = receiver.wait_for(1)[0]
    assert verify(delivery, made.new_signing_secret) and verify(delivery, rotated.secret)
    gemini_mock.advance(25 * 3600)
    assert len(client.webhooks.get(made.id).signing_secrets) == 1
    client.webhooks.ping(made.id)
    late = receiver.wait_for(2)[1]
    assert verify(late, rotated.secret) and not verify(late, made.new_signing_secret)
    now = client.webhooks.rotate_signing_secret(made.id, revocation_behavior="revoke_previous_secrets_immediately")
    assert len(client.webhooks.get(made.id).signing_secrets) == 1 and now.secret != rotated.secret
