"""Concurrency and load: 32 clients at once, mixed operations across several keys.

Every client thread keeps a ledger of what it created and deleted (files with their bytes' sha256,
caches, batches, the permissions it granted on its own tuned model). At the end the server must hold
exactly what the ledgers say: nothing lost, nothing twice, nothing in another project; every upload
downloads back sha256-exact while the others hammer the server; no answer is a 5xx.

The engine is shared with `bench/load.py` (longer runs, more figures); the test runs it a few seconds.
"""
from __future__ import annotations

import hashlib
import random
import statistics
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import httpx

from gemini_mockserver.schema import response_errors

PROMPT = {"contents": [{"role": "user", "parts": [{"text": "Explain how AI works in a few words"}]}]}
LONG = " ".join(f"Sentence {i} of a document long enough to be cached." for i in range(600))
TUNING = {"displayName": "load", "baseModel": "models/gemini-1.5-flash-001-tuning",
          "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "a", "output": "b"}]}}}}
GEN = "/v1beta/models/gemini-2.5-flash"

# operation -> weight
MIX = {"generate": 20, "stream": 10, "count": 5, "embed": 5, "upload": 14, "download": 10, "delete_file": 4,
       "create_cache": 5, "delete_cache": 2, "create_batch": 5, "delete_batch": 2, "grant": 4, "use_grant": 4,
       "revoke": 3, "list": 4}


@dataclass
class Ledger:
    """What one client did, by key."""
    key: str
    files: dict[str, str] = field(default_factory=dict)         # live: name -> sha256 hex
    deleted_files: set[str] = field(default_factory=set)
    caches: set[str] = field(default_factory=set)
    deleted_caches: set[str] = field(default_factory=set)
    batches: set[str] = field(default_factory=set)
    deleted_batches: set[str] = field(default_factory=set)
    tuned: str | None = None
    grants: dict[str, str] = field(default_factory=dict)         # grantee key -> permission name
    created: list[str] = field(default_factory=list)             # every name a create answered
    ops: Counter = field(default_factory=Counter)
    latencies: list[float] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    bytes_up: int = 0
    bytes_down: int = 0


class Client:
    """One load client: a thread with its own key's connection and ledger."""

    def __init__(self, base_url: str, key: str, emails: dict[str, str], seed: int, validate_every: int = 10):
        self.http = httpx.Client(base_url=base_url, headers={"x-goog-api-key": key}, timeout=120)
        self.base_url = base_url
        self.ledger = Ledger(key)
        self.emails = emails               # other keys -> their e-mails
        self.rng = random.Random(seed)
        self.validate_every = validate_every
        self.others: dict[str, httpx.Client] = {}

    # -- plumbing ------------------------------------------------------------------------------------
    def _check(self, what: str, answer: httpx.Response, ok=(200,), message: str | None = None) -> bool:
        if answer.status_code not in ok:
            self.ledger.problems.append(f"{what}: HTTP {answer.status_code} {answer.text[:300]}")
            return False
        if message and answer.status_code == 200 and self.ledger.ops[what] % self.validate_every == 1:
            errors = response_errors("v1beta", message, answer.json())
            if errors:
                self.ledger.problems.append(f"{what}: off-schema {errors[:3]}")
                return False
        return True

    def _created(self, name: str) -> None:
        self.ledger.created.append(name)

    def other(self, key: str) -> httpx.Client:
        if key not in self.others:
            self.others[key] = httpx.Client(base_url=self.base_url, headers={"x-goog-api-key": key}, timeout=120)
        return self.others[key]

    def close(self) -> None:
        self.http.close()
        for client in self.others.values():
            client.close()

    # -- operations ----------------------------------------------------------------------------------
    def generate(self):
        prompt = {"contents": [{"parts": [{"text": f"Question {self.rng.randrange(1000)} about load"}]}]}
        self._check("generate", self.http.post(f"{GEN}:generateContent", json=prompt), message="GenerateContentResponse")

    def stream(self):
        with self.http.stream("POST", f"{GEN}:streamGenerateContent", params={"alt": "sse"}, json=PROMPT) as answer:
            body = answer.read()
        if self._check("stream", answer) and body.count(b"data:") < 1:
            self.ledger.problems.append("stream: no events")

    def count(self):
        self._check("count", self.http.post(f"{GEN}:countTokens", json=PROMPT), message="CountTokensResponse")

    def embed(self):
        self._check("embed", self.http.post("/v1beta/models/gemini-embedding-001:embedContent",
                                            json={"content": {"parts": [{"text": "load"}]}}),
                    message="EmbedContentResponse")

    def upload(self):
        size = self.rng.choice([0, 1, 100, 5_000, 64_000, 300_000, 1_100_000])
        data = self.rng.randbytes(size)
        if self.rng.random() < 0.5:    # resumable, in two chunks
            start = self.http.post("/upload/v1beta/files", json={"file": {"displayName": "load"}},
                                   headers={"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start",
                                            "X-Goog-Upload-Header-Content-Length": str(size),
                                            "X-Goog-Upload-Header-Content-Type": "application/octet-stream"})
            if not self._check("upload", start):
                return
            url = start.headers["x-goog-upload-url"]
            cut = size // 2
            first = self.http.post(url, content=data[:cut], headers={"X-Goog-Upload-Command": "upload",
                                                                     "X-Goog-Upload-Offset": "0"})
            if not self._check("upload", first):
                return
            answer = self.http.post(url, content=data[cut:], headers={"X-Goog-Upload-Command": "upload, finalize",
                                                                      "X-Goog-Upload-Offset": str(cut)})
        else:                          # one request, the bytes as the body
            answer = self.http.post("/upload/v1beta/files", params={"uploadType": "media"}, content=data,
                                    headers={"Content-Type": "application/octet-stream"})
        if not self._check("upload", answer):
            return
        file = answer.json()["file"]
        digest = hashlib.sha256(data).hexdigest()
        if int(file.get("sizeBytes", "0")) != size:
            self.ledger.problems.append(f"upload: sizeBytes {file.get('sizeBytes')} != {size}")
        self.ledger.files[file["name"]] = digest
        self.ledger.bytes_up += size
        self._created(file["name"])

    def download(self):
        if not self.ledger.files:
            return self.upload()
        name = self.rng.choice(sorted(self.ledger.files))
        answer = self.http.get(f"/download/v1beta/{name}:download", params={"alt": "media"})
        if self._check("download", answer):
            self.ledger.bytes_down += len(answer.content)
            if hashlib.sha256(answer.content).hexdigest() != self.ledger.files[name]:
                self.ledger.problems.append(f"download: {name} came back with other bytes")

    def delete_file(self):
        if not self.ledger.files:
            return
        name = self.rng.choice(sorted(self.ledger.files))
        if self._check("delete_file", self.http.delete(f"/v1beta/{name}")):
            del self.ledger.files[name]
            self.ledger.deleted_files.add(name)

    def create_cache(self):
        body = {"model": "models/gemini-2.5-flash", "ttl": "3600s",
                "contents": [{"role": "user", "parts": [{"text": f"{self.rng.random()} {LONG}"}]}]}
        answer = self.http.post("/v1beta/cachedContents", json=body)
        if self._check("create_cache", answer, message="CachedContent"):
            self.ledger.caches.add(answer.json()["name"])
            self._created(answer.json()["name"])

    def delete_cache(self):
        if not self.ledger.caches:
            return
        name = self.rng.choice(sorted(self.ledger.caches))
        if self._check("delete_cache", self.http.delete(f"/v1beta/{name}")):
            self.ledger.caches.discard(name)
            self.ledger.deleted_caches.add(name)

    def create_batch(self):
        body = {"batch": {"displayName": "load", "inputConfig": {"requests": {"requests": [
            {"request": PROMPT, "metadata": {"key": str(i)}} for i in range(self.rng.randint(1, 4))]}}}}
        answer = self.http.post(f"{GEN}:batchGenerateContent", json=body)
        if self._check("create_batch", answer, message="GenerateContentBatchOperation"):
            self.ledger.batches.add(answer.json()["name"])
            self._created(answer.json()["name"])

    def delete_batch(self):
        if not self.ledger.batches:
            return
        name = self.rng.choice(sorted(self.ledger.batches))
        if self._check("delete_batch", self.http.delete(f"/v1beta/{name}")):
            self.ledger.batches.discard(name)
            self.ledger.deleted_batches.add(name)

    def ensure_tuned(self) -> str | None:
        if self.ledger.tuned is None:
            answer = self.http.post("/v1beta/tunedModels", json=TUNING)
            if self._check("create_tuned", answer, message="Operation"):
                self.ledger.tuned = answer.json()["metadata"]["tunedModel"]
                self._created(self.ledger.tuned)
        return self.ledger.tuned

    def grant(self):
        tuned = self.ensure_tuned()
        free = sorted(set(self.emails) - set(self.ledger.grants) - {self.ledger.key})
        if not tuned or not free:
            return
        grantee = self.rng.choice(free)
        answer = self.http.post(f"/v1beta/{tuned}/permissions", json={
            "granteeType": "USER", "emailAddress": self.emails[grantee], "role": "READER"})
        if self._check("grant", answer, message="Permission"):
            self.ledger.grants[grantee] = answer.json()["name"]

    def use_grant(self):
        """A grantee reads the tuned model; a key without a grant must get 403."""
        tuned = self.ledger.tuned
        others = sorted(set(self.emails) - {self.ledger.key})
        if not tuned or not others:
            return
        key = self.rng.choice(others)
        expect = 200 if key in self.ledger.grants else 403
        self._check("use_grant", self.other(key).get(f"/v1beta/{tuned}"), ok=(expect,))

    def revoke(self):
        if not self.ledger.grants:
            return
        grantee = self.rng.choice(sorted(self.ledger.grants))
        if self._check("revoke", self.http.delete(f"/v1beta/{self.ledger.grants[grantee]}")):
            del self.ledger.grants[grantee]

    def list(self):
        self._check("list", self.http.get("/v1beta/files", params={"pageSize": 100}), message="ListFilesResponse")

    def run(self, deadline: float) -> None:
        names, weights = list(MIX), list(MIX.values())
        try:
            while time.perf_counter() < deadline:
                op = self.rng.choices(names, weights)[0]
                started = time.perf_counter()
                try:
                    getattr(self, op)()
                except httpx.HTTPError as error:
                    self.ledger.problems.append(f"{op}: {error!r}")
                self.ledger.ops[op] += 1
                self.ledger.latencies.append(time.perf_counter() - started)
        finally:
            self.close()


def _listed(http: httpx.Client, path: str, field_name: str, problems: list[str], *, items: bool = False) -> list:
    names, token = [], None
    while True:
        answer = http.get(path, params={"pageSize": 100, **({"pageToken": token} if token else {})})
        if answer.status_code != 200:
            problems.append(f"list {path}: HTTP {answer.status_code}")
            return names
        body = answer.json()
        names += [item if items else item["name"] for item in body.get(field_name, [])]
        token = body.get("nextPageToken")
        if not token:
            return names


@dataclass
class LoadReport:
    seconds: float
    clients: int
    keys: int
    ops: Counter
    requests: int
    problems: list[str]
    p50_ms: float
    p99_ms: float
    bytes_up: int
    bytes_down: int
    files: int
    caches: int
    batches: int
    grants: int

    @property
    def ops_per_second(self) -> float:
        return sum(self.ops.values()) / self.seconds


def run_load(base_url: str, *, seconds: float, clients: int = 32, keys: int = 4, seed: int = 0,
             key_prefix: str = "load") -> LoadReport:
    """`clients` threads over `keys` keys for `seconds`; then the server's state checked against the ledgers."""
    key_names = [f"{key_prefix}-key-{i}" for i in range(keys)]
    with httpx.Client(base_url=base_url, timeout=60) as http:
        emails = {key: http.get("/_mock/whoami", headers={"x-goog-api-key": key}).json()["email"] for key in key_names}
    workers = [Client(base_url, key_names[i % keys], emails, seed * 1000 + i) for i in range(clients)]
    started = time.perf_counter()
    deadline = started + seconds
    threads = [threading.Thread(target=w.run, args=(deadline,), name=f"load-{i}") for i, w in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    problems = [p for w in workers for p in w.ledger.problems]

    # nothing twice: every create answered a new name
    created = Counter(name for w in workers for name in w.ledger.created)
    problems += [f"{name} was created {n} times" for name, n in created.items() if n > 1]

    # the server holds exactly what the ledgers say, per project
    owner = {name: w.ledger.key for w in workers for name in w.ledger.created}
    with httpx.Client(base_url=base_url, timeout=120) as http:
        for key in key_names:
            mine = [w.ledger for w in workers if w.ledger.key == key]
            http.headers["x-goog-api-key"] = key
            for label, path, field_name, live, gone in (
                    ("files", "/v1beta/files", "files", lambda l: set(l.files), lambda l: l.deleted_files),
                    ("caches", "/v1beta/cachedContents", "cachedContents", lambda l: l.caches, lambda l: l.deleted_caches),
                    ("batches", "/v1beta/batches", "operations", lambda l: l.batches, lambda l: l.deleted_batches)):
                listed = _listed(http, path, field_name, problems)
                expected = set().union(*(live(l) for l in mine)) if mine else set()
                dupes = [name for name, n in Counter(listed).items() if n > 1]
                lost = expected - set(listed)
                extra = set(listed) - expected
                foreign = {name for name in extra if owner.get(name, key) != key}
                resurrected = extra & set().union(*(gone(l) for l in mine)) if mine else set()
                for what, names in (("listed twice", dupes), ("lost", lost), ("from another project", foreign),
                                    ("deleted but listed", resurrected), ("unknown", extra - foreign - resurrected)):
                    if names:
                        problems.append(f"{key} {label} {what}: {sorted(names)[:5]} ({len(names)})")
            for ledger in mine:      # the permissions on each client's tuned model are its grants
                if ledger.tuned:
                    listed = _listed(http, f"/v1beta/{ledger.tuned}/permissions", "permissions", problems,
                                     items=True)
                    granted = sorted(p["name"] for p in listed if p.get("role") != "OWNER")
                    if granted != sorted(ledger.grants.values()):
                        problems.append(f"{ledger.tuned} permissions {granted} != grants {sorted(ledger.grants.values())}")
    latencies = sorted(x for w in workers for x in w.ledger.latencies) or [0.0]
    ops = sum((w.ledger.ops for w in workers), Counter())
    return LoadReport(
        seconds=elapsed, clients=clients, keys=keys, ops=ops, requests=sum(ops.values()), problems=problems,
        p50_ms=statistics.median(latencies) * 1000, p99_ms=latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        bytes_up=sum(w.ledger.bytes_up for w in workers), bytes_down=sum(w.ledger.bytes_down for w in workers),
        files=sum(len(w.ledger.files) for w in workers), caches=sum(len(w.ledger.caches) for w in workers),
        batches=sum(len(w.ledger.batches) for w in workers), grants=sum(len(w.ledger.grants) for w in workers))


# ---------------------------------------------------------------------------------------------------

def test_thirty_two_clients_lose_nothing(gemini_mock):
    gemini_mock.configure({"files": {"downloadUploaded": True}})
    report = run_load(gemini_mock.base_url, seconds=3.0, clients=32, keys=4, seed=1,
                      key_prefix=gemini_mock.api_key)
    assert not report.problems, "\n".join(report.problems[:20])
    assert report.requests > 200, report
    for op in ("generate", "stream", "upload", "download", "create_cache", "create_batch", "grant"):
        assert report.ops[op] > 0, (op, report.ops)
    assert not any(entry["status"] >= 500 for entry in gemini_mock.store.journal.entries())
    assert not gemini_mock.store.internal_errors


def test_concurrent_chunks_of_one_upload_are_serialised(gemini_mock):
    """Eight clients race to send the same chunk of one resumable upload: one wins, the others get 409
    or a wrong-offset 400, and the file holds the bytes exactly once."""
    http = httpx.Client(base_url=gemini_mock.base_url, headers={"x-goog-api-key": gemini_mock.api_key}, timeout=60)
    start = http.post("/upload/v1beta/files", json={"file": {"displayName": "race"}},
                      headers={"X-Goog-Upload-Protocol": "resumable", "X-Goog-Upload-Command": "start"})
    url = start.headers["x-goog-upload-url"]
    data = random.Random(5).randbytes(2_000_000)
    statuses = []

    def send():
        with httpx.Client(timeout=60) as client:
            statuses.append(client.post(url, content=data, headers={"X-Goog-Upload-Command": "upload",
                                                                    "X-Goog-Upload-Offset": "0"}).status_code)
    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses.count(200) == 1 and set(statuses) <= {200, 400, 409}, statuses
    final = http.post(url, headers={"X-Goog-Upload-Command": "finalize", "X-Goog-Upload-Offset": str(len(data))})
    assert final.status_code == 200, final.text
    assert int(final.json()["file"]["sizeBytes"]) == len(data)
    http.close()
    assert not gemini_mock.store.internal_errors
