"""The pytest plugin itself: the fixtures, the marker, scripted answers and faults, time travel with
freezegun and time-machine, xdist, the cheap SDK clients, and the example suite of examples/."""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import freezegun
import httpx
import pytest
import time_machine
from google import genai
from google.genai import errors, types

from gemini_mockserver.wire import parse_time
from gemini_mockserver.pytest_plugin import sdk
from gemini_mockserver.pytest_plugin.plugin import GeminiMock, test_key
from gemini_mockserver.pytest_plugin.server import LiveServer

from support.paths import ROOT

pytest_plugins = ["pytester"]

MODEL = "gemini-2.5-flash"
LONG_TEXT = " ".join(f"Paragraph {i} of a long document about rivers, deltas and estuaries." for i in range(400))


def run_pytest(*args: str, cwd: Path, timeout: float = 240, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "GEMINI_", "GOOGLE_"))}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout)


# -- clients -----------------------------------------------------------------------------------------

def test_a_client_used_as_a_temporary_stays_open(gemini_mock):
    reply = gemini_mock.client().models.generate_content(model=MODEL, contents="hi")
    assert reply.text
    reply = gemini_mock.client(api_version="v1beta").models.generate_content(model=MODEL, contents="hi")
    assert reply.text


def test_the_fixture_closes_its_clients(gemini_server):
    mock = GeminiMock(gemini_server, "close-check")
    client = mock.client()
    assert client.models.generate_content(model=MODEL, contents="hi").text
    mock.close()
    assert client._api_client._httpx_client.is_closed


def test_async_client(gemini_mock):
    aio = gemini_mock.async_client(api_version="v1beta")

    async def go():
        reply = await aio.models.generate_content(model=MODEL, contents="hi")
        chunks = [c async for c in await aio.models.generate_content_stream(model=MODEL, contents="hi")]
        return reply, chunks

    reply, chunks = asyncio.run(go())
    assert reply.text and "".join(c.text or "" for c in chunks) == reply.text


def test_unmodified_code_reaches_the_emulator_through_the_environment(gemini_mock):
    assert os.environ["GOOGLE_API_KEY"] == os.environ["GEMINI_API_KEY"] == gemini_mock.api_key
    assert os.environ["GOOGLE_GEMINI_BASE_URL"] == gemini_mock.base_url
    client = genai.Client()                      # what application code does
    assert client.models.generate_content(model=MODEL, contents="hello").text
    assert gemini_mock.requests[-1]["path"] == f"/v1/models/{MODEL}:generateContent"
    assert gemini_mock.requests[-1]["project"] == gemini_mock.project


def test_each_test_has_a_key_of_its_own(gemini_mock, request):
    assert gemini_mock.api_key == test_key(request.node.nodeid)
    assert gemini_mock.other_key("b") != gemini_mock.api_key
    assert gemini_mock.identity.project == gemini_mock.project


def test_every_test_starts_from_a_clean_emulator(gemini_mock):
    assert gemini_mock.store.journal.entries() == []
    assert gemini_mock.now() - datetime.now(timezone.utc) < timedelta(seconds=5)
    assert gemini_mock.store.config["seed"] == 0
    assert gemini_mock.rules.list() == [] and gemini_mock.faults == []


# -- the marker --------------------------------------------------------------------------------------

@pytest.mark.gemini(seed=7)
def test_marker_seed(gemini_mock):
    seeded = gemini_mock.client().models.generate_content(model=MODEL, contents="hello").text
    gemini_mock.configure({"seed": 0})
    assert gemini_mock.client().models.generate_content(model=MODEL, contents="hello").text != seeded


@pytest.mark.gemini(config={"batch": {"pendingSeconds": 100}}, rules=[{"respond": {"text": "scripted"}}])
def test_marker_config_and_rules(gemini_mock):
    assert gemini_mock.store.config["batch"]["pendingSeconds"] == 100
    assert gemini_mock.client().models.generate_content(model=MODEL, contents="x").text == "scripted"
    assert [r["match"]["project"] for r in gemini_mock.rules.list()] == [gemini_mock.project]


@pytest.mark.gemini(seed=3)
class TestMarkerOnAClass:
    @pytest.mark.gemini(seed=4)
    def test_the_closest_marker_wins(self, gemini_mock):
        assert gemini_mock.store.config["seed"] == 4


# -- scripted answers and faults ---------------------------------------------------------------------

def test_rules_answer_only_this_tests_project(gemini_mock):
    gemini_mock.rules.reply("Sunny.", prompt="weather")
    gemini_mock.rules.function_call("get_time", {"zone": "UTC"}, prompt="time")
    gemini_mock.rules.json({"ok": True}, prompt="status")
    gemini_mock.rules.error(429, prompt="quota", times=1)
    mine = gemini_mock.client()
    assert mine.models.generate_content(model=MODEL, contents="the weather?").text == "Sunny."
    call = mine.models.generate_content(model=MODEL, contents="what time is it").function_calls[0]
    assert (call.name, call.args) == ("get_time", {"zone": "UTC"})
    assert json.loads(mine.models.generate_content(model=MODEL, contents="status").text) == {"ok": True}
    with pytest.raises(errors.ClientError) as raised:
        mine.models.generate_content(model=MODEL, contents="quota")
    assert raised.value.code == 429
    assert mine.models.generate_content(model=MODEL, contents="quota").text   # times=1: used up
    theirs = gemini_mock.client(api_key=gemini_mock.other_key("b"))
    assert theirs.models.generate_content(model=MODEL, contents="the weather?").text != "Sunny."
    assert len(gemini_mock.rules) == 4
    gemini_mock.rules.clear()
    assert gemini_mock.rules.list() == []


def test_fail_next(gemini_mock):
    gemini_mock.fail_next(503)
    client = gemini_mock.client()
    with pytest.raises(errors.ServerError) as raised:
        client.models.generate_content(model=MODEL, contents="x")
    assert raised.value.code == 503 and raised.value.status == "UNAVAILABLE"
    assert client.models.generate_content(model=MODEL, contents="x").text

    gemini_mock.fail_next(429, times=2, path=":countTokens", retry_delay="7s")
    assert client.models.generate_content(model=MODEL, contents="x").text     # not a match
    for _ in range(2):
        with pytest.raises(errors.ClientError) as raised:
            client.models.count_tokens(model=MODEL, contents="x")
        assert raised.value.code == 429
    assert client.models.count_tokens(model=MODEL, contents="x").total_tokens

    gemini_mock.fail_next(500)
    assert len(gemini_mock.faults) == 1
    other = httpx.post(f"{gemini_mock.base_url}/v1beta/models/{MODEL}:generateContent",
                       headers={"x-goog-api-key": gemini_mock.other_key("b")},
                       json={"contents": [{"parts": [{"text": "x"}]}]})
    assert other.status_code == 200                # another project: the fault is not for it
    with pytest.raises(errors.ServerError):
        client.models.generate_content(model=MODEL, contents="x")
    assert gemini_mock.faults == []


def test_fail_next_cuts_a_stream(gemini_mock):
    gemini_mock.fail_next(kind="streamCut", after_chunks=1)
    client = gemini_mock.client()
    seen = []
    with pytest.raises(errors.APIError):
        for chunk in client.models.generate_content_stream(model=MODEL, contents=LONG_TEXT[:4000]):
            seen.append(chunk)
    assert len(seen) == 1


def test_fail_next_latency_is_real_time(gemini_mock):
    gemini_mock.fail_next(kind="latency", latency_ms=300)
    started = time.perf_counter()
    assert gemini_mock.client().models.generate_content(model=MODEL, contents="x").text
    assert time.perf_counter() - started >= 0.3


# -- seeding and inspecting without HTTP -------------------------------------------------------------

def test_seed_state_without_http(gemini_mock):
    file = gemini_mock.upload_file(b"hello world", "text/plain", display_name="hello.txt")
    client = gemini_mock.client(api_version="v1beta")
    assert client.files.get(name=file["name"]).display_name == "hello.txt"
    cache = gemini_mock.create_cache({"model": f"models/{MODEL}", "ttl": "300s",
                                      "contents": [{"role": "user", "parts": [{"text": LONG_TEXT}]}]})
    assert client.caches.get(name=cache["name"]).name == cache["name"]
    batch = gemini_mock.create_batch(MODEL, [{"contents": [{"parts": [{"text": "hi"}]}]}], display_name="b")
    assert client.batches.get(name=batch["name"]).display_name == "b"
    assert [c["name"] for c in gemini_mock.caches.list(gemini_mock.identity)] == [cache["name"]]
    assert gemini_mock.files.list_files(gemini_mock.identity)[0]["name"] == file["name"]
    operation = gemini_mock.create_tuned_model({
        "baseModel": "models/gemini-1.5-flash-001-tuning", "displayName": "mine",
        "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "1", "output": "2"}]}}}})
    tuned = operation["metadata"]["tunedModel"]
    grant = gemini_mock.share(tuned, "friend@example.com")
    assert grant["role"] == "READER"
    stranger = gemini_mock.client(api_key=gemini_mock.other_key("stranger"), api_version="v1beta")
    assert list(stranger.files.list()) == [] and list(stranger.caches.list()) == []


def test_upload_file_from_a_path(gemini_mock, tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("# Notes\n")
    file = gemini_mock.upload_file(path)
    assert file["displayName"] == "notes.md" and file["sizeBytes"] == "8"


# -- time --------------------------------------------------------------------------------------------

def test_advance_and_set_time(gemini_mock):
    batch = gemini_mock.create_batch(MODEL, [{"contents": [{"parts": [{"text": "hi"}]}]}])
    assert gemini_mock.batches.get(gemini_mock.identity, batch["name"])["metadata"]["state"] == "BATCH_STATE_PENDING"
    gemini_mock.advance(timedelta(minutes=1))
    assert gemini_mock.batches.get(gemini_mock.identity, batch["name"])["metadata"]["state"] == "BATCH_STATE_SUCCEEDED"
    when = gemini_mock.set_time(datetime(2031, 5, 1))            # naive: UTC
    assert when.year == 2031 and abs(gemini_mock.now().timestamp() - when.timestamp()) < 5


@pytest.mark.gemini(config={"batch": {"runningSeconds": 72 * 3600}})
def test_freezegun_expires_a_batch_and_a_cache(gemini_mock):
    client = gemini_mock.client(api_version="v1beta")
    with freezegun.freeze_time("2030-01-01T00:00:00Z") as frozen:
        batch = client.batches.create(model=MODEL, src=[{"contents": [{"parts": [{"text": "hi"}]}]}])
        cache = client.caches.create(model=MODEL, config=types.CreateCachedContentConfig(
            ttl="3600s", contents=[types.Content(role="user", parts=[types.Part(text=LONG_TEXT)])]))
        assert parse_time(gemini_mock.caches.get(gemini_mock.identity, cache.name)["expireTime"], "t") \
            == datetime(2030, 1, 1, 1, tzinfo=timezone.utc).timestamp()
        frozen.tick(timedelta(minutes=30))
        assert client.batches.get(name=batch.name).state.name == "JOB_STATE_RUNNING"
        assert client.caches.get(name=cache.name).name == cache.name
        frozen.tick(timedelta(minutes=31))
        with pytest.raises(errors.ClientError) as raised:
            client.caches.get(name=cache.name)
        assert raised.value.code == 403
        assert list(client.caches.list()) == []
        frozen.tick(timedelta(hours=48))
        assert client.batches.get(name=batch.name).state.name == "JOB_STATE_EXPIRED"
    # back to real time: the batch was created in 2030, so it is PENDING again (time went backwards)
    assert client.models.generate_content(model=MODEL, contents="x").text


def test_time_machine_moves_files_and_tuned_models(gemini_mock):
    client = gemini_mock.client(api_version="v1beta")
    with time_machine.travel(datetime(2030, 1, 1, tzinfo=timezone.utc), tick=False) as traveller:
        file = gemini_mock.upload_file(b"data", "text/plain")
        operation = gemini_mock.create_tuned_model({
            "baseModel": "models/gemini-1.5-flash-001-tuning",
            "tuningTask": {"trainingData": {"examples": {"examples": [{"textInput": "1", "output": "2"}]}}}})
        tuned = operation["metadata"]["tunedModel"]
        assert client.tunings.get(name=tuned).state.name != "JOB_STATE_SUCCEEDED"
        traveller.shift(timedelta(hours=1))
        assert client.tunings.get(name=tuned).state.name == "JOB_STATE_SUCCEEDED"
        assert client.files.get(name=file["name"]).state.name == "ACTIVE"
        traveller.shift(timedelta(hours=48))
        with pytest.raises(errors.ClientError):
            client.files.get(name=file["name"])


def test_the_server_keeps_working_while_time_is_frozen(gemini_mock):
    client = gemini_mock.client()
    with freezegun.freeze_time("2030-01-01") as frozen:
        assert client.models.generate_content(model=MODEL, contents="hi").text
        frozen.tick(timedelta(days=3))
        assert "".join(c.text or "" for c in client.models.generate_content_stream(model=MODEL, contents="hi"))
        uploaded = client.files.upload(file=__file__, config={"mime_type": "text/plain"})
        assert uploaded.state.name == "ACTIVE"

        async def go():
            return await client.aio.models.generate_content(model=MODEL, contents="hi")

        assert asyncio.run(go()).text
        gemini_mock.fail_next(kind="latency", latency_ms=50)     # real-time sleeps in the server
        assert client.models.generate_content(model=MODEL, contents="hi").text


def test_a_plain_asyncio_server_keeps_working_and_stops_while_time_is_frozen(monkeypatch):
    from gemini_mockserver.pytest_plugin import server as server_module
    monkeypatch.setattr(server_module, "new_real_time_loop", lambda: server_module._RealTimeLoop())
    with freezegun.freeze_time("2030-01-01"):
        live = LiveServer().start()
        try:
            answer = httpx.post(f"{live.base_url}/v1beta/models/{MODEL}:generateContent",
                                headers={"x-goog-api-key": "k"}, json={"contents": [{"parts": [{"text": "x"}]}]})
            assert answer.status_code == 200
        finally:   # stopping must not wait on timers of the frozen clock (join measures real time)
            stopper = threading.Thread(target=live.stop)
            stopper.start()
            stopper.join(timeout=4)
    assert not stopper.is_alive()


def test_freezegun_with_the_network_side_on_real_time(gemini_mock):
    """The documented asyncio caveat's remedy: ignoring the network libraries keeps their timers on
    real time, while the emulator's clock (gemini_mockserver is not ignored) still follows the frozen time."""
    from freezegun import config as freezegun_config
    saved = list(freezegun_config.settings.default_ignore_list)
    freezegun.configure(extend_ignore_list=["asyncio", "uvicorn", "h11", "httptools", "httpx", "httpcore"])
    try:
        client = gemini_mock.client()
        with freezegun.freeze_time("2030-06-01T00:00:00Z"):
            batch = client.batches.create(model=MODEL, src=[{"contents": [{"parts": [{"text": "hi"}]}]}])
            assert batch.create_time.year == 2030
            assert client.models.generate_content(model=MODEL, contents="hi").text
    finally:
        freezegun.configure(default_ignore_list=saved)


# -- cheap clients -----------------------------------------------------------------------------------

def test_clients_of_an_http_emulator_skip_the_tls_setup(gemini_mock):
    assert sdk.installed()
    clients = [gemini_mock.client() for _ in range(20)]
    assert clients[0].models.generate_content(model=MODEL, contents="x").text
    https = genai.Client(api_key="k")            # not the emulator: the SDK's own TLS setup
    ours = clients[0]._api_client._httpx_client
    assert https._api_client._httpx_client is not ours
    https.close()


def test_clients_of_the_emulator_share_one_connection_pool(gemini_mock):
    first, second = gemini_mock.client(), gemini_mock.client(api_version="v1beta")
    assert first.models.generate_content(model=MODEL, contents="x").text
    connections = set(gemini_mock.server._server.server_state.connections)
    first.close()                                   # closing one client leaves the pool to the others
    assert second.models.generate_content(model=MODEL, contents="y").text
    assert set(gemini_mock.server._server.server_state.connections) == connections   # no new connection
    own = gemini_mock.client(client_args={"limits": httpx.Limits(max_connections=1)})   # asks for its own
    assert type(own._api_client._httpx_client._transport).__name__ != "SharedTransport"


def test_tls_setup_is_untouched_for_https():
    from google.genai import _api_client
    options = types.HttpOptions(base_url="https://example.invalid/")
    args, _ = _api_client.BaseApiClient._ensure_httpx_ssl_ctx(options)
    again, _ = _api_client.BaseApiClient._ensure_httpx_ssl_ctx(options)
    assert args["verify"] is not again["verify"]   # built anew, as the SDK does
    plain = types.HttpOptions(base_url="http://127.0.0.1:1/")
    first, _ = _api_client.BaseApiClient._ensure_httpx_ssl_ctx(plain)
    second, _ = _api_client.BaseApiClient._ensure_httpx_ssl_ctx(plain)
    assert first["verify"] is second["verify"]     # shared
    assert plain.client_args is None               # the caller's options are not changed


def test_clients_with_no_args_of_their_own_get_fresh_copies_of_the_shared_args():
    from google.genai import _api_client
    plain = types.HttpOptions(base_url="http://127.0.0.1:1/")
    first, first_async = _api_client.BaseApiClient._ensure_httpx_ssl_ctx(plain)
    first["headers"] = {"x-mine": "1"}            # what one client does to its args stays its own
    first_async["proxy"] = "http://proxy.invalid"
    second, second_async = _api_client.BaseApiClient._ensure_httpx_ssl_ctx(plain)
    assert "headers" not in second and "proxy" not in second_async
    assert second["verify"] is first["verify"] and second["transport"] is first["transport"]
    ws = _api_client.BaseApiClient._ensure_websocket_ssl_ctx(plain)
    ws["extra"] = True
    assert "extra" not in _api_client.BaseApiClient._ensure_websocket_ssl_ctx(plain)
    given = types.HttpOptions(base_url="http://127.0.0.1:1/", client_args={"headers": {"x-given": "1"}})
    args, _ = _api_client.BaseApiClient._ensure_httpx_ssl_ctx(given)   # args of its own: built for it
    assert args["headers"] == {"x-given": "1"} and args["verify"] is first["verify"]


# -- whole suites in a subprocess: the examples, xdist, the environment ------------------------------

SUITE = '''
import json, os, pytest
from google import genai

MODEL = "gemini-2.5-flash"
ORIGINAL = {k: os.environ.get(k) for k in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GEMINI_BASE_URL")}

@pytest.mark.parametrize("n", range(6))
def test_isolated(gemini_mock, n):
    client = genai.Client()
    client.files.upload(file=__file__, config={"mime_type": "text/plain", "display_name": f"f{n}"})
    names = [f.display_name for f in client.files.list()]
    assert names == [f"f{n}"]                      # nothing of any other test
    out = os.path.join(os.environ["SEEN_DIR"], f"seen-{n}.json")
    open(out, "w").write(json.dumps({"base_url": gemini_mock.base_url, "key": gemini_mock.api_key,
                               "pid": os.getpid()}))

def test_environment_is_restored_after_a_test():
    assert {k: os.environ.get(k) for k in ORIGINAL} == ORIGINAL
'''


def test_a_downstream_suite(pytester, monkeypatch):
    pytester.makepyfile(test_downstream=SUITE)
    seen_dir = pytester.path / "seen"
    seen_dir.mkdir()
    monkeypatch.setenv("SEEN_DIR", str(seen_dir))
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=7)
    seen = [json.loads(p.read_text()) for p in seen_dir.glob("seen-*.json")]
    assert len({s["key"] for s in seen}) == 6 and len({s["base_url"] for s in seen}) == 1


def test_the_example_suite():
    result = run_pytest("-q", cwd=ROOT / "examples")
    assert result.returncode == 0, result.stdout + result.stderr
    assert " passed" in result.stdout and "failed" not in result.stdout


def test_the_example_suite_and_a_downstream_suite_under_xdist(tmp_path):
    (tmp_path / "test_downstream.py").write_text(SUITE)
    seen_dir = tmp_path / "seen"
    seen_dir.mkdir()
    examples = ROOT / "examples"
    result = run_pytest("-q", "-n", "2", "-c", str(examples / "pytest.ini"), "--rootdir", str(examples),
                        str(examples / "tests"), str(tmp_path / "test_downstream.py"), cwd=tmp_path,
                        SEEN_DIR=str(seen_dir))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "failed" not in result.stdout
    seen = [json.loads(p.read_text()) for p in seen_dir.glob("seen-*.json")]
    assert len(seen) == 6 and len({s["key"] for s in seen}) == 6
    # one server per worker process, never shared: at most as many servers as processes
    assert len({s["base_url"] for s in seen}) == len({s["pid"] for s in seen})


def test_the_marker_is_registered(pytestconfig):
    assert any(line.startswith("gemini(") for line in pytestconfig.getini("markers"))


def test_a_500_of_the_emulator_fails_the_test(pytester):
    pytester.makepyfile(test_boom='''
        def test_boom(gemini_mock):
            def broken(*args, **kwargs):
                raise RuntimeError("bug")
            gemini_mock.store.models.get = broken
            import httpx
            httpx.get(gemini_mock.base_url + "/v1beta/models/x", headers={"x-goog-api-key": "k"})
    ''')
    result = pytester.runpytest_inprocess("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    assert "the emulator answered 500 INTERNAL" in result.stdout.str()
