"""The model catalog as data (fixtures/models.json), the retired-model rules and `catalog record`.

Through google-genai 3.6.1 and raw HTTP; the pytest warning through a pytester run of the plugin.
"""
from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from google.genai import errors

from gemini_mockserver import cli
from gemini_mockserver.catalog_record import RecordError, fetch_models, record_catalog
from gemini_mockserver.resources.lifecycle import lifecycle_of
from gemini_mockserver.resources.models import load_catalog

from support import assert_envelope, validate_response

pytest_plugins = ["pytester"]

CATALOG = load_catalog(None)
BY_NAME = {m["name"]: m for m in CATALOG}
BODY = {"contents": [{"parts": [{"text": "Tell me about bees."}]}]}
# What the issue and the current models, deprecation and changelog pages list.
CURRENT = ["gemini-3-flash-preview", "gemini-3.1-pro-preview", "gemini-3.1-pro-preview-customtools",
           "gemini-3.1-flash-lite", "gemini-3.5-flash",
           "gemini-3.5-flash-lite", "gemini-3.6-flash", "gemini-3.7-flash", "gemini-3.8-flash", "gemini-4-argon",
           "gemini-4-carbon", "gemini-4-hydrogen", "gemini-flash-latest", "gemini-flash-lite-latest",
           "gemini-pro-latest", "gemini-2.5-pro", "gemini-2.5-flash",
           "gemini-2.5-flash-lite", "gemini-embedding-2", "gemini-embedding-001", "gemini-2.5-flash-image",
           "gemini-3-pro-image-preview", "gemini-3-pro-image", "gemini-3.1-flash-image",
           "gemini-2.5-flash-preview-tts", "gemini-2.5-pro-preview-tts", "gemini-2.5-flash-native-audio-preview-12-2025",
           "gemini-3.8-live", "gemini-robotics-er-2-preview", "imagen-4.0-generate-001", "imagen-4.0-ultra-generate-001",
           "imagen-4.0-fast-generate-001", "veo-3.1-generate-preview", "veo-3.1-fast-generate-preview",
           "gemini-3.8-flash-tts", "gemini-3.8-flash-lite-tts", "veo-3.1-lite-generate-preview",
           "gemini-2.0-flash-lite", "gemini-2.0-flash-lite-001"]


# -- the catalog data ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("model_id", CURRENT)
def test_the_current_models_are_listed_with_their_sources(model_id):
    model = BY_NAME[f"models/{model_id}"]
    facts = model["emulator"]
    assert facts["source"].startswith("https://"), model_id
    assert facts["lifecycle"]["stage"] in ("stable", "preview", "deprecated", "retired")
    assert model["inputTokenLimit"] > 0 and model["supportedGenerationMethods"]


def test_media_and_live_models_carry_the_contract_fields():
    assert "IMAGE" in BY_NAME["models/gemini-3-pro-image-preview"]["emulator"]["responseModalities"]
    assert BY_NAME["models/gemini-2.5-flash-preview-tts"]["emulator"]["responseModalities"] == ["AUDIO"]
    assert BY_NAME["models/gemini-3.8-flash-tts"]["emulator"]["speechContainer"] == "wav"
    assert BY_NAME["models/veo-3.1-lite-generate-preview"]["emulator"]["veo"]["resolutions"] == ["720p", "1080p"]
    assert BY_NAME["models/imagen-4.0-generate-001"]["supportedGenerationMethods"] == ["predict"]
    assert BY_NAME["models/veo-3.1-generate-preview"]["supportedGenerationMethods"] == ["predictLongRunning"]
    live = BY_NAME["models/gemini-2.5-flash-native-audio-preview-12-2025"]
    assert live["emulator"]["live"] is True and "bidiGenerateContent" in live["supportedGenerationMethods"]
    assert BY_NAME["models/gemini-3.8-flash"]["emulator"]["thinkingLevels"] == ["low", "medium", "high"]


def test_the_seed_models_stay(beta_client):
    for name in ("models/gemini-1.5-flash-001", "models/text-bison-001", "models/chat-bison-001",
                 "models/embedding-gecko-001", "models/embedding-001", "models/text-embedding-004"):
        assert name in BY_NAME
    assert {"generateMessage", "countMessageTokens", "createTunedModel"} <= \
        set(BY_NAME["models/gemini-1.5-flash-001"]["supportedGenerationMethods"])


def test_models_list_through_the_sdk_pages_through_the_gemini_models(beta_client):
    names = [m.name for m in beta_client.models.list(config={"page_size": 7})]
    assert len(names) == len(set(names))
    assert {"models/gemini-3.8-flash", "models/gemini-flash-latest", "models/gemini-embedding-2",
            "models/veo-3.1-generate-preview"} <= set(names)
    assert "models/chat-bison-001" not in names   # v1beta3 only
    model = beta_client.models.get(model="gemini-3.6-flash")
    assert (model.input_token_limit, model.output_token_limit, model.thinking) == (1048576, 65536, True)
    assert model.max_temperature == 2.0


def test_an_alias_answers_as_the_model_it_points_at(http):
    body = http.post("/v1beta/models/gemini-flash-latest:generateContent", json=BODY).json()
    assert body["modelVersion"] == BY_NAME["models/gemini-flash-latest"]["emulator"]["aliasOf"].split("/")[1]


def test_an_unknown_model_is_the_real_404(http, beta_client):
    error = assert_envelope(http.post("/v1beta/models/gemini-9-ultra:generateContent", json=BODY), 404, "NOT_FOUND")
    assert error["message"] == ("models/gemini-9-ultra is not found for API version v1beta, or is not supported for "
                                "generateContent. Call ListModels to see the list of available models and their "
                                "supported methods.")
    with pytest.raises(errors.ClientError) as caught:
        beta_client.models.get(model="gemini-9-ultra")
    assert caught.value.code == 404 and caught.value.status == "NOT_FOUND"


# -- lifecycle --------------------------------------------------------------------------------------------

def at(gemini_mock, day: str) -> None:
    gemini_mock.set_time(datetime.fromisoformat(day).replace(tzinfo=timezone.utc))


def test_a_retired_model_keeps_answering_and_says_so(gemini_mock, http, beta_client):
    at(gemini_mock, "2026-12-05T12:00:00")
    response = http.get("/v1beta/models/gemini-2.0-flash")
    assert response.status_code == 200
    assert response.headers["x-gemini-mock-model-stage"] == "retired"
    assert response.headers["x-gemini-mock-shutdown-date"] == "2026-06-01"
    assert response.headers["x-gemini-mock-replacement"] == "models/gemini-3.5-flash"
    body = http.post("/v1beta/models/gemini-2.0-flash:generateContent", json=BODY).json()
    validate_response("v1beta", "GenerateContentResponse", body)
    assert body["modelStatus"]["modelStage"] == "RETIRED"
    assert body["modelStatus"]["retirementTime"] == "2026-06-01T00:00:00Z"
    assert "models/gemini-3.5-flash" in body["modelStatus"]["message"]
    sdk = beta_client.models.generate_content(model="gemini-2.0-flash", contents="Tell me about bees.")
    assert sdk.model_status.model_stage.value == "RETIRED"
    assert sdk.text


def test_before_its_shutdown_date_a_deprecated_model_is_not_retired(gemini_mock, http):
    at(gemini_mock, "2026-05-01T00:00:00")
    gemini_mock.configure({"models": {"retired": "refuse"}})
    body = http.post("/v1beta/models/gemini-2.0-flash:generateContent", json=BODY).json()
    assert body["modelStatus"]["modelStage"] == "LEGACY"
    assert "shuts down on 2026-06-01" in body["modelStatus"]["message"]
    assert http.get("/v1beta/models/gemini-2.0-flash").headers["x-gemini-mock-model-stage"] == "deprecated"
    current = http.post("/v1beta/models/gemini-3.6-flash:generateContent", json=BODY).json()
    assert "modelStatus" not in current   # a stable model without a shutdown date


def test_refuse_answers_as_the_real_service_after_the_shutdown(gemini_mock, http):
    at(gemini_mock, "2026-12-05T12:00:00")
    gemini_mock.configure({"models": {"retired": "refuse"}})
    error = assert_envelope(http.post("/v1beta/models/gemini-2.0-flash:generateContent", json=BODY), 404, "NOT_FOUND")
    assert error["message"].startswith("models/gemini-2.0-flash is not found for API version v1beta")
    assert_envelope(http.get("/v1beta/models/gemini-2.0-flash"), 404, "NOT_FOUND")
    names = {m["name"] for m in http.get("/v1beta/models", params={"pageSize": 1000}).json()["models"]}
    assert "models/gemini-2.0-flash" not in names and "models/gemini-3.8-flash" in names
    # The changelog: requests to gemini-2.5-flash are routed to gemini-3.5-flash-lite after its shutdown.
    routed = http.post("/v1beta/models/gemini-2.5-flash:generateContent", json=BODY).json()
    assert routed["modelVersion"] == "gemini-3.5-flash-lite"
    at(gemini_mock, "2026-01-01T00:00:00")   # the same model, before its shutdown date
    assert http.post("/v1beta/models/gemini-2.0-flash:generateContent", json=BODY).status_code == 200


def test_the_mode_is_checked(gemini_mock, http):
    response = http.patch(f"{gemini_mock.base_url}/_mock/config", json={"models": {"retired": "maybe"}})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="models.retired")


def test_one_log_warning_per_retired_model(gemini_mock, http, caplog):
    at(gemini_mock, "2026-12-05T12:00:00")
    caplog.set_level(logging.WARNING, logger="gemini_mockserver.models")
    catalog = gemini_mock.store.models
    catalog.lifecycle._warned.discard("models/gemini-1.5-pro")
    for _ in range(3):
        assert http.post("/v1beta/models/gemini-1.5-pro:generateContent", json=BODY).status_code == 200
    lines = [r.getMessage() for r in caplog.records if "models/gemini-1.5-pro " in r.getMessage()]
    assert len(lines) == 1 and "use models/gemini-2.5-pro instead" in lines[0]


def test_lifecycle_reads_the_catalog_fields():
    life = lifecycle_of(BY_NAME["models/gemini-3-pro-preview"])
    assert (life.shutdown.isoformat(), life.replacement) == ("2026-03-09", "models/gemini-3.1-pro-preview")
    assert life.retired_on(datetime(2026, 3, 9).date()) and not life.retired_on(datetime(2026, 3, 8).date())


PYTESTER_TEST = '''
import pytest
from google import genai

def test_calls_a_retired_model(gemini_mock):
    gemini_mock.set_time(__import__("datetime").datetime(2026, 12, 5))
    client = gemini_mock.client(api_version="v1beta")
    assert client.models.generate_content(model="gemini-2.0-flash", contents="hi").text
    assert client.models.generate_content(model="gemini-2.0-flash", contents="again").text

def test_calls_a_current_model(gemini_mock):
    client = gemini_mock.client(api_version="v1beta")
    assert client.models.generate_content(model="gemini-3.8-flash", contents="hi").text
'''


def test_the_plugin_warns_naming_the_replacement(pytester):
    pytester.makepyfile(PYTESTER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "default")
    result.assert_outcomes(passed=2, warnings=1)
    result.stdout.fnmatch_lines(["*RetiredModelWarning: models/gemini-2.0-flash was shut down by the real Gemini "
                                 "API on 2026-06-01; use models/gemini-3.5-flash instead*"])


def test_the_plugin_option_refuses_retired_models(pytester):
    pytester.makepyfile(PYTESTER_TEST)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--gemini-mock-retired-models=refuse")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(["*404 NOT_FOUND*models/gemini-2.0-flash is not found*"])


# -- catalog record and serve --catalog ------------------------------------------------------------------

RECORDED = [  # the shape of the real models.list answer, over two pages
    {"models": [{"name": "models/gemini-3.8-flash", "version": "3.8", "displayName": "Gemini 3.8 Flash",
                 "inputTokenLimit": 1048576, "outputTokenLimit": 65536,
                 "supportedGenerationMethods": ["generateContent", "countTokens"], "thinking": True}],
     "nextPageToken": "page2"},
    {"models": [{"name": "models/gemini-4-preview", "version": "4", "displayName": "Gemini 4 Preview",
                 "inputTokenLimit": 2097152, "outputTokenLimit": 65536,
                 "supportedGenerationMethods": ["generateContent", "countTokens"]}]},
]


@pytest.fixture
def upstream():
    """A local stand-in for generativelanguage.googleapis.com that answers RECORDED and notes requests."""
    seen: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append({"path": self.path, "key": self.headers.get("x-goog-api-key")})
            if self.headers.get("x-goog-api-key") != "real-key":
                status, body = 400, {"error": {"code": 400, "message": "API key not valid.", "status": "INVALID_ARGUMENT"}}
            else:
                status, body = 200, RECORDED[1] if "pageToken=page2" in self.path else RECORDED[0]
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def test_record_pages_through_the_models_list(upstream, tmp_path):
    url, seen = upstream
    out = tmp_path / "models.json"
    assert cli.main(["catalog", "record", "--api-key", "real-key", "--out", str(out), "--upstream", url]) == 0
    assert [s["path"].split("?")[0] for s in seen] == ["/v1beta/models", "/v1beta/models"]
    assert "pageToken=page2" in seen[1]["path"] and {s["key"] for s in seen} == {"real-key"}
    recorded = json.loads(out.read_text())
    assert [m["name"] for m in recorded["models"]] == ["models/gemini-3.8-flash", "models/gemini-4-preview"]
    # A model the shipped catalog knows keeps the emulator's facts; a new one has only the wire fields.
    assert recorded["models"][0]["emulator"]["thinkingLevels"] == ["low", "medium", "high"]
    assert "emulator" not in recorded["models"][1]


def test_record_reports_an_upstream_error_in_one_line(upstream, tmp_path, capsys):
    url, _ = upstream
    assert cli.main(["catalog", "record", "--api-key", "wrong", "--out", str(tmp_path / "m.json"),
                     "--upstream", url]) == 2
    assert "HTTP 400: API key not valid." in capsys.readouterr().err
    with pytest.raises(RecordError):
        fetch_models("wrong", url)


def test_serve_catalog_loads_a_recorded_file(upstream, tmp_path, gemini_mock, http):
    url, _ = upstream
    out = tmp_path / "models.json"
    record_catalog("real-key", out, url, recorded_at="2026-12-05", echo=lambda line: None)
    gemini_mock.configure({"models": {"catalog": str(out)}})
    names = [m["name"] for m in http.get("/v1beta/models").json()["models"]]
    assert names == ["models/gemini-3.8-flash", "models/gemini-4-preview"]
    body = http.post("/v1beta/models/gemini-4-preview:generateContent", json=BODY).json()
    assert body["candidates"][0]["content"]["parts"][0]["text"]
    assert_envelope(http.get("/v1beta/models/gemini-2.5-flash"), 404, "NOT_FOUND")
    args = cli.build_parser({}).parse_args(["serve", "--catalog", str(out), "--retired-models", "refuse"])
    assert (args.catalog, args.retired_models) == (str(out), "refuse")
    assert cli.check_catalog(str(out)) == str(out.resolve())


def test_serve_refuses_a_file_that_is_not_a_catalog(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"models": "no"}')
    with pytest.raises(cli.StartupError, match="--catalog .*not a catalog file"):
        cli.check_catalog(str(bad))
    with pytest.raises(cli.StartupError, match="--catalog"):
        cli.check_catalog(str(tmp_path / "missing.json"))
