"""The Gemini Robotics ER models through google-genai 3.6.1 and raw HTTP: ER 2 Preview's model card (limits,
methods, tools) and ER 1.6 Preview, shut down on 2026-08-31 in favour of ER 2."""
from __future__ import annotations

from datetime import datetime, timezone

from google.genai import types

from support import assert_envelope

ER2 = "gemini-robotics-er-2-preview"
ER16 = "gemini-robotics-er-1.6-preview"
BODY = {"contents": [{"parts": [{"text": "Point to the red cup on the table."}]}]}


def test_er2_shows_its_model_card(beta_client):
    model = beta_client.models.get(model=ER2)
    assert (model.input_token_limit, model.output_token_limit, model.thinking) == (131072, 65536, True)
    assert set(model.supported_actions) == {"generateContent", "countTokens", "createCachedContent",
                                            "batchGenerateContent"}


def test_er2_answers_streams_and_counts(beta_client):
    whole = beta_client.models.generate_content(model=ER2, contents="Point to the red cup")
    chunks = list(beta_client.models.generate_content_stream(model=ER2, contents="Point to the red cup"))
    assert whole.text and "".join(c.text or "" for c in chunks) == whole.text
    counted = beta_client.models.count_tokens(model=ER2, contents="Point to the red cup").total_tokens
    assert counted == whole.usage_metadata.prompt_token_count


def test_er2_takes_the_tools_its_card_lists(beta_client):
    config = types.GenerateContentConfig(tools=[types.Tool(code_execution=types.ToolCodeExecution()),
                                                types.Tool(google_maps=types.GoogleMaps())])
    response = beta_client.models.generate_content(model=ER2, contents="Where is the nearest cafe?", config=config)
    assert response.candidates[0].content.parts


def test_er2_input_limit_is_131072_tokens(http):
    body = {"contents": [{"parts": [{"text": "word " * 140000}]}]}
    error = assert_envelope(http.post(f"/v1beta/models/{ER2}:generateContent", json=body), 400,
                            "INVALID_ARGUMENT", field="contents")
    assert "(131072)" in error["message"]


def test_er16_is_retired_in_favour_of_er2(gemini_mock, http):
    gemini_mock.set_time(datetime(2026, 12, 6, tzinfo=timezone.utc))
    response = http.get(f"/v1beta/models/{ER16}")
    assert response.headers["x-gemini-mock-model-stage"] == "retired"
    assert response.headers["x-gemini-mock-replacement"] == f"models/{ER2}"
    body = http.post(f"/v1beta/models/{ER16}:generateContent", json=BODY).json()
    assert body["modelStatus"]["retirementTime"] == "2026-08-31T00:00:00Z"
    gemini_mock.configure({"models": {"retired": "refuse"}})
    assert_envelope(http.post(f"/v1beta/models/{ER16}:generateContent", json=BODY), 404, "NOT_FOUND")


def test_er16_answers_before_its_shutdown(gemini_mock, beta_client):
    gemini_mock.set_time(datetime(2026, 8, 1, tzinfo=timezone.utc))
    gemini_mock.configure({"models": {"retired": "refuse"}})
    response = beta_client.models.generate_content(model=ER16, contents="Point to the red cup")
    assert response.text and response.model_status.model_stage.value == "LEGACY"
