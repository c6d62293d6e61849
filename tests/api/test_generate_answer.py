"""models/aqa:generateAnswer: attributed question answering over inline passages or a corpus, deterministic."""
from __future__ import annotations

import pytest

from gemini_mockserver.resources import answers

from support import assert_envelope, validate_response

URL = "/v1beta/models/aqa:generateAnswer"
PASSAGES = {"passages": [
    {"id": "weather", "content": {"parts": [{"text": "Rain fell all week in the valley. The river rose by a metre."}]}},
    {"id": "orbit", "content": {"parts": [
        {"text": "Mars orbits the Sun once every 687 Earth days. Its two moons are Phobos and Deimos."},
        {"text": "Olympus Mons on Mars is the tallest volcano in the solar system."}]}},
    {"id": "cooking", "content": {"parts": [{"text": "Bread dough rises when yeast ferments sugar."}]}},
]}


def _ask(http, question: str, style: str = "ABSTRACTIVE", **extra):
    body = {"contents": [{"role": "user", "parts": [{"text": question}]}], "answerStyle": style,
            "inlinePassages": PASSAGES, **extra}
    return http.post(URL, json=body)


def test_the_answer_quotes_the_best_passage_and_attributes_it(http):
    response = _ask(http, "How many moons does it have?", "EXTRACTIVE")
    assert response.status_code == 200, response.text
    body = response.json()
    validate_response("v1beta", "GenerateAnswerResponse", body)
    answer = body["answer"]
    assert answer["content"]["parts"][0]["text"] == "Its two moons are Phobos and Deimos."
    (attribution,) = answer["groundingAttributions"]
    assert attribution["sourceId"] == {"groundingPassage": {"passageId": "orbit", "partIndex": 0}}
    assert attribution["content"]["parts"][0]["text"] in PASSAGES["passages"][1]["content"]["parts"][0]["text"]
    assert body["answerableProbability"] == 0.5   # one of its two content words (many, moons) is quoted


def test_styles_differ_in_length_and_every_quote_is_attributed(http):
    texts = {}
    for style in answers.ANSWER_STYLES:
        answer = _ask(http, "What rose on Mars and in the valley river?", style).json()["answer"]
        texts[style] = answer["content"]["parts"][0]["text"]
        for attribution in answer["groundingAttributions"]:
            assert attribution["content"]["parts"][0]["text"] in texts[style]
    assert len(texts["EXTRACTIVE"]) < len(texts["ABSTRACTIVE"]) <= len(texts["VERBOSE"])


def test_the_answer_is_deterministic(http):
    first = _ask(http, "Which volcano is the tallest?").json()
    assert _ask(http, "Which volcano is the tallest?").json() == first
    assert first["answer"]["groundingAttributions"][0]["sourceId"]["groundingPassage"] == {
        "passageId": "orbit", "partIndex": 1}


def test_an_unanswerable_question_has_a_low_probability(http):
    body = _ask(http, "Who composed the Moonlight Sonata?").json()
    assert body["answerableProbability"] < 0.1
    assert body["answer"]["content"]["parts"]   # it still attempts a grounded answer


def test_a_corpus_source_must_be_readable(gemini_mock, http):
    corpus = http.post("/v1beta/corpora", json={"displayName": "Notes"}).json()["name"]
    body = {"contents": [{"parts": [{"text": "What is in my notes?"}]}], "answerStyle": "VERBOSE",
            "semanticRetriever": {"source": corpus, "query": {"parts": [{"text": "notes"}]}}}
    answered = http.post(URL, json=body)
    assert answered.status_code == 200, answered.text
    assert answered.json()["answerableProbability"] == 0 and answered.json()["answer"]["groundingAttributions"] == []
    other = {"x-goog-api-key": gemini_mock.other_key("other")}
    assert_envelope(http.post(URL, json=body, headers=other), 403, "PERMISSION_DENIED")
    body["semanticRetriever"]["source"] = "corpora/missing"
    assert_envelope(http.post(URL, json=body), 403, "PERMISSION_DENIED")


@pytest.mark.parametrize("change, field", [
    ({"answerStyle": None}, "answerStyle"),
    ({"answerStyle": "POETIC"}, "answer_style"),   # the schema's enum check at the edge
    ({"contents": []}, "contents"),
    ({"contents": [{"parts": [{"inlineData": {"mimeType": "image/png", "data": "AAAA"}}]}]}, "contents"),
    ({"inlinePassages": None}, "inlinePassages"),
    ({"semanticRetriever": {"source": "corpora/x"}}, "inlinePassages"),
    ({"inlinePassages": {"passages": []}}, "inlinePassages.passages"),
    ({"inlinePassages": {"passages": [{"content": {"parts": [{"text": "x"}]}}]}}, "inlinePassages.passages[0].id"),
    ({"inlinePassages": {"passages": [{"id": "a", "content": {"parts": [{"text": "x"}]}},
                                      {"id": "a", "content": {"parts": [{"text": "y"}]}}]}},
     "inlinePassages.passages[1].id"),
    ({"temperature": 1.5}, "temperature"),
])
def test_bad_requests_name_the_field(http, change, field):
    body = {"contents": [{"parts": [{"text": "How many moons does Mars have?"}]}], "answerStyle": "EXTRACTIVE",
            "inlinePassages": PASSAGES}
    for key, value in change.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    assert_envelope(http.post(URL, json=body), 400, "INVALID_ARGUMENT", field=field)


def test_other_models_do_not_answer(http):
    body = {"contents": [{"parts": [{"text": "q"}]}], "answerStyle": "EXTRACTIVE", "inlinePassages": PASSAGES}
    assert_envelope(http.post("/v1beta/models/gemini-3.5-flash:generateAnswer", json=body), 400, "INVALID_ARGUMENT",
                    field="model")
    assert_envelope(http.post("/v1beta/models/nope:generateAnswer", json=body), 404, "NOT_FOUND")


def test_the_catalog_lists_aqa(beta_client):
    model = beta_client.models.get(model="models/aqa")
    assert model.supported_actions == ["generateAnswer"] and model.input_token_limit == 7168


def test_answers_are_counted_and_journaled(gemini_mock, http):
    _ask(http, "How many moons does Mars have?")
    (entry,) = [e for e in gemini_mock.requests if e["path"] == URL]
    assert entry["status"] == 200 and entry["model"] == "aqa"
    usage = http.get(f"{gemini_mock.base_url}/_mock/usage").json()
    assert "aqa" in str(usage)


def test_a_scripted_error_rule_applies(gemini_mock, http):
    gemini_mock.fail_next(429)
    assert _ask(http, "How many moons does Mars have?").status_code == 429


def test_backend_directly(gemini_mock):
    store = gemini_mock.store
    request = {"contents": [{"parts": [{"text": "Which volcano is the tallest?"}]}], "answerStyle": "EXTRACTIVE",
               "inlinePassages": PASSAGES}
    answer = answers.generate_answer(store, gemini_mock.identity, store.models.get("aqa"), request)
    assert answer["answer"]["content"]["parts"][0]["text"] == (
        "Olympus Mons on Mars is the tallest volcano in the solar system.")
    assert answer == answers.generate_answer(store, gemini_mock.identity, store.models.get("aqa"), request)


def test_passages_beyond_the_models_input_limit_are_a_400(http):
    many = {"passages": [{"id": f"p{i}", "content": {"parts": [{"text": "word " * 50}]}} for i in range(200)]}
    body = {"contents": [{"parts": [{"text": "q?"}]}], "answerStyle": "EXTRACTIVE", "inlinePassages": many}
    assert_envelope(http.post(URL, json=body), 400, "INVALID_ARGUMENT", field="inlinePassages")
