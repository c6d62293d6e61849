"""`gemini-mock`: version, help, settings from the environment, start-up errors, the first run's output
(URLs, access log), the landing page and the health check, and a clean Ctrl-C."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
from importlib.metadata import version

import httpx
import pytest

from gemini_mockserver import cli
from gemini_mockserver.access_log import format_line, model_of
from gemini_mockserver.landing import wants_html

MODEL = "gemini-2.5-flash"
BODY = {"contents": [{"parts": [{"text": "Explain how AI works in a few words"}]}]}


def run_cli(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(cli.ENV_PREFIX)}
    return subprocess.run([sys.executable, "-m", "gemini_mockserver", *args], env={**clean, **(env or {})},
                          capture_output=True, text=True, timeout=timeout)


# -- version, help, environment ----------------------------------------------------------------------

def test_version():
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"gemini-mock {version('gemini-mockserver')}"


def test_serve_help_shows_every_default_and_variable():
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for option in cli.SERVE_OPTIONS:
        assert option.flag in text
        assert f"env {option.env})" in text
        shown = option.shown_default if option.shown_default is not None else option.default
        assert f"(default: {shown};" in text, option.flag
    assert "GEMINI_MOCK_STATE_DIR" in text and "GEMINI_MOCK_PORT" in text


def test_every_serve_flag_comes_from_the_environment_and_flags_win(tmp_path):
    env = {"GEMINI_MOCK_HOST": "127.0.0.2", "GEMINI_MOCK_PORT": "9123", "GEMINI_MOCK_SEED": "7",
           "GEMINI_MOCK_STATE_DIR": str(tmp_path / "state"), "GEMINI_MOCK_KEYS": str(tmp_path / "keys.json"),
           "GEMINI_MOCK_REPLAY": str(tmp_path), "GEMINI_MOCK_LOG_LEVEL": "INFO", "GEMINI_MOCK_QUIET": "yes",
           "GEMINI_MOCK_CONTROL_TOKEN": "s3cret", "GEMINI_MOCK_ALLOW_HOST": "mock.internal, dev.box",
           "GEMINI_MOCK_RECOVER": "true", "GEMINI_MOCK_READ_TIMEOUT": "2.5",
           "GEMINI_MOCK_RETIRED_MODELS": "Refuse", "GEMINI_MOCK_CATALOG": str(tmp_path / "models.json"),
           "GEMINI_MOCK_TLS": "false", "GEMINI_MOCK_LOG_BODIES": "1", "GEMINI_MOCK_REALISTIC": "true"}
    assert {option.env for option in cli.SERVE_OPTIONS} == set(env)   # a new flag needs a line here
    args = cli.build_parser(env).parse_args(["serve"])
    assert (args.host, args.port, args.seed, args.log_level, args.quiet) == ("127.0.0.2", 9123, 7, "info", True)
    assert (args.state_dir, args.keys, args.replay) == (str(tmp_path / "state"), str(tmp_path / "keys.json"),
                                                        str(tmp_path))
    assert (args.control_token, args.allow_host, args.recover) == ("s3cret", ["mock.internal", "dev.box"], True)
    assert args.read_timeout == 2.5
    assert (args.retired_models, args.catalog) == ("refuse", str(tmp_path / "models.json"))
    assert (args.log_bodies, args.realistic) == (True, True)
    args = cli.build_parser(env).parse_args(["serve", "--port", "0", "--seed", "3", "--host", "::1",
                                             "--allow-host", "third.name"])
    assert (args.port, args.seed, args.host) == (0, 3, "::1")
    assert args.allow_host == ["mock.internal", "dev.box", "third.name"]
    assert cli.build_parser({}).parse_args(["serve", "--allow-host", "a", "--allow-host", "b"]).allow_host == ["a", "b"]
    assert cli.build_parser({"GEMINI_MOCK_QUIET": "0"}).parse_args(["serve"]).quiet is False
    assert cli.build_parser({}).parse_args(["serve"]).port == 8000


# -- start-up errors: one line on stderr, exit status 2, no traceback --------------------------------

def _one_line_error(result: subprocess.CompletedProcess, *expected: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0]
    assert "listening" not in result.stdout   # nothing half-started


@pytest.mark.parametrize("args, env, expected", [
    (["--port", "99999"], {}, ["--port", "0 to 65535"]),
    (["--port", "eighty"], {}, ["--port", "not a number"]),
    (["--seed", "x"], {}, ["--seed", "not a number"]),
    (["--log-level", "loud"], {}, ["--log-level", "one of"]),
    ([], {"GEMINI_MOCK_PORT": "http"}, ["GEMINI_MOCK_PORT='http'", "not a number"]),
    ([], {"GEMINI_MOCK_QUIET": "maybe"}, ["GEMINI_MOCK_QUIET", "true or false"]),
])
def test_bad_values(args, env, expected):
    _one_line_error(run_cli("serve", *args, env=env), *expected)


@pytest.mark.parametrize("content, expected", [
    ("{", "not a valid keys file: Expecting property name"),
    ("[1, 2]", "every entry is an object"),
    ('"text"', "expected a list"),
    ('{"keys": [{"key": "k", "tier": "platinum"}]}', "platinum"),
])
def test_a_bad_keys_file(tmp_path, capsys, content, expected):
    keys = tmp_path / "keys.json"
    keys.write_text(content)
    assert cli.main(["serve", "--port", "0", "--keys", str(keys)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(keys) in err and expected in err


def test_a_missing_keys_file_and_a_state_dir_that_is_a_file(tmp_path, capsys):
    assert cli.main(["serve", "--port", "0", "--keys", str(tmp_path / "nope.yaml")]) == 2
    assert "No such file or directory" in capsys.readouterr().err
    (tmp_path / "file").write_text("x")
    assert cli.main(["serve", "--port", "0", "--state-dir", str(tmp_path / "file")]) == 2
    assert capsys.readouterr().err == f"gemini-mock: error: --state-dir {tmp_path / 'file'}: not a directory\n"
    assert cli.main(["serve", "--port", "0", "--replay", str(tmp_path / "none")]) == 2
    assert "--replay" in capsys.readouterr().err


def test_a_busy_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        _one_line_error(run_cli("serve", "--port", str(port)), f"--port {port}", "already in use")


def test_an_unbindable_host():
    _one_line_error(run_cli("serve", "--port", "0", "--host", "no-such-host.invalid"), "--host")


# -- a first run ---------------------------------------------------------------------------------------

def _start(*args: str, env: dict | None = None) -> tuple[subprocess.Popen, list[str]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(cli.ENV_PREFIX)}
    proc = subprocess.Popen([sys.executable, "-m", "gemini_mockserver", "serve", *args],
                            env={**clean, **(env or {})}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline() for _ in range(4)]
    if not lines[0].startswith("gemini-mock listening on "):
        proc.kill()
        raise AssertionError(f"did not start: {lines} {proc.stderr.read()}")
    return proc, lines


def test_a_first_run_explains_itself():
    proc, lines = _start(env={"GEMINI_MOCK_PORT": "0", "GEMINI_MOCK_SEED": "7"})
    try:
        url = lines[0].split()[-1]
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url)
        assert lines[1].split() == ["dashboard:", f"{url}/_mock/ui"]
        assert lines[2].split() == ["OpenAPI:", f"{url}/openapi.json"]
        assert httpx.get(f"{url}/_mock/config").json()["seed"] == 7   # from GEMINI_MOCK_SEED
        answer = httpx.post(f"{url}/v1beta/models/{MODEL}:generateContent?key=very-secret-key", json=BODY)
        assert answer.status_code == 200
        missing = httpx.post(f"{url}/v1beta/models/{MODEL}:generateContent", json=BODY,
                             headers={"x-goog-api-key": "another-secret"})
        assert missing.status_code == 200
        assert httpx.get(f"{url}/healthz").status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)   # Ctrl-C
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err and "KeyboardInterrupt" not in err
    log = [line for line in err.splitlines() if line.startswith(("GET ", "POST "))]
    assert log[0].startswith("GET /_mock/config model=- 200 ")
    assert re.fullmatch(rf"POST /v1beta/models/{MODEL}:generateContent model={MODEL} 200 \d+\.\d ms", log[1])
    assert log[3].startswith("GET /healthz model=- 200 ")
    assert "secret" not in err + out   # keys are never printed


def test_quiet_prints_no_access_log():
    proc, lines = _start("--port", "0", "--quiet")
    try:
        url = lines[0].split()[-1]
        assert httpx.post(f"{url}/v1beta/models/{MODEL}:generateContent", json=BODY,
                          headers={"x-goog-api-key": "k"}).status_code == 200
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "generateContent" not in err and "Traceback" not in err


# -- landing page and health check ---------------------------------------------------------------------

def test_the_landing_page_is_json_for_scripts_and_html_for_browsers(gemini_mock):
    base = gemini_mock.base_url
    info = httpx.get(base + "/").json()
    assert info["dashboard"] == f"{base}/_mock/ui" and info["openapi"] == f"{base}/openapi.json"
    assert info["baseUrl"] == base and info["version"] == version("gemini-mockserver")
    browser = httpx.get(base + "/", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert browser.headers["content-type"].startswith("text/html")
    assert f'href="{base}/_mock/ui"' in browser.text and f'href="{base}/openapi.json"' in browser.text
    for link in (info["dashboard"], info["openapi"], info["health"]):
        assert httpx.get(link).status_code == 200
    assert gemini_mock.store.journal.entries() == []   # not API calls
    assert httpx.post(base + "/").json()["error"]["code"] == 404   # only GET


def test_healthz_needs_no_key_and_leaves_no_journal_entry(gemini_mock):
    answer = httpx.get(gemini_mock.base_url + "/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok"}
    assert gemini_mock.store.journal.entries() == []


def test_a_browsers_favicon_request_is_no_failed_request(gemini_mock):
    answer = httpx.get(gemini_mock.base_url + "/favicon.ico")
    assert answer.status_code == 204 and answer.content == b""
    assert gemini_mock.store.journal.entries() == []   # the inspector shows no 404 nobody made


@pytest.mark.parametrize("accept, html", [
    (None, False), ("*/*", False), ("application/json", False), ("text/html", True),
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", True),
    ("application/json, text/html;q=0.5", False), ("text/html;q=0", False), ("text/*", False),
])
def test_which_clients_get_html(accept, html):
    assert wants_html(accept) is html


def test_access_log_lines():
    assert format_line("GET", "/v1beta/tunedModels/my-model-7", 404, 1.25) == \
        "GET /v1beta/tunedModels/my-model-7 model=my-model-7 404 1.2 ms"
    assert model_of("/v1/models/gemini-2.5-pro:streamGenerateContent") == "gemini-2.5-pro"
    assert model_of("/v1beta/files") == "-"
    forged = format_line("GET", "/x\nPOST /fake 200", 404, 0)
    assert "\n" not in forged and "\\n" in forged   # one request, one line
    assert len(format_line("GET", "/" + "a" * 5000, 404, 0)) < 400
    assert json.dumps(format_line("GET", "/", 200, 0))
