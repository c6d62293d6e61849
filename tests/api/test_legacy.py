"""The PaLM-era text methods (generateText, generateMessage, the token counts, embedText, batchEmbedText)
on v1beta3 and on v1beta, over plain HTTP."""
from __future__ import annotations

import pytest

from gemini_mockserver.generation.tokens import count_text

from support import assert_envelope, validate_response

VERSIONS = ["v1beta3", "v1beta"]
TEXT = "text-bison-001"
CHAT = "chat-bison-001"
GECKO = "embedding-gecko-001"
CHAT_PROMPT = {"prompt": {"messages": [{"author": "user", "content": "Explain the importance of bees."}]}}


@pytest.fixture(params=VERSIONS)
def version(request):
    return request.param


def post(http, version, model, method, body):
    return http.post(f"/{version}/models/{model}:{method}", json=body)


# -- generateText ----------------------------------------------------------------------------------------

def test_generate_text_answers_candidates_with_output_and_safety_ratings(http, version):
    body = {"prompt": {"text": "Write a tagline for a coffee shop."}, "temperature": 0.8, "candidateCount": 3}
    response = post(http, version, TEXT, "generateText", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_response(version, "GenerateTextResponse", answer)
    assert len(answer["candidates"]) == 3
    for candidate in answer["candidates"]:
        assert isinstance(candidate["output"], str) and candidate["output"].strip()
        assert {r["category"] for r in candidate["safetyRatings"]} >= {"HARM_CATEGORY_TOXICITY"}
        assert all(r["probability"] == "NEGLIGIBLE" for r in candidate["safetyRatings"])


def test_generate_text_is_deterministic_and_depends_on_the_prompt(http, version):
    first = post(http, version, TEXT, "generateText", {"prompt": {"text": "Describe the sea"}}).json()
    again = post(http, version, TEXT, "generateText", {"prompt": {"text": "Describe the sea"}}).json()
    other = post(http, version, TEXT, "generateText", {"prompt": {"text": "Describe a mountain"}}).json()
    assert first == again
    assert first["candidates"][0]["output"] != other["candidates"][0]["output"]


def test_generate_text_is_the_same_on_both_versions(http):
    body = {"prompt": {"text": "Name a colour"}}
    assert post(http, "v1beta3", TEXT, "generateText", body).json() == \
        post(http, "v1beta", TEXT, "generateText", body).json()


def test_generate_text_honours_max_output_tokens(http, version):
    body = {"prompt": {"text": "Tell me a long story about rivers"}, "maxOutputTokens": 5}
    answer = post(http, version, TEXT, "generateText", body).json()
    assert 0 < count_text(answer["candidates"][0]["output"]) <= 5


def test_generate_text_accepts_snake_case_fields(http, version):
    body = {"prompt": {"text": "Hello there"}, "candidate_count": 2, "max_output_tokens": 20}
    response = post(http, version, TEXT, "generateText", body)
    assert response.status_code == 200, response.text
    assert len(response.json()["candidates"]) == 2


@pytest.mark.parametrize("field,value", [
    ("temperature", 1.5), ("temperature", -0.1), ("candidateCount", 0), ("candidateCount", 9),
    ("topP", 1.01), ("topK", -1), ("maxOutputTokens", 5000), ("stopSequences", ["a", "b", "c", "d", "e", "f"]),
])
def test_generate_text_out_of_range_is_400_naming_the_field(http, version, field, value):
    body = {"prompt": {"text": "Hi"}, field: value}
    assert_envelope(post(http, version, TEXT, "generateText", body), 400, "INVALID_ARGUMENT", field=field)


def test_generate_text_needs_a_prompt(http, version):
    assert_envelope(post(http, version, TEXT, "generateText", {}), 400, "INVALID_ARGUMENT", field="prompt")


@pytest.mark.parametrize("model", [CHAT, GECKO, "gemini-2.5-flash"])
def test_generate_text_only_on_models_that_offer_it(http, version, model):
    response = post(http, version, model, "generateText", {"prompt": {"text": "Hi"}})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="generateText")


def test_unknown_model_is_404(http, version):
    response = post(http, version, "no-such-model", "generateText", {"prompt": {"text": "Hi"}})
    assert_envelope(response, 404, "NOT_FOUND")


def test_legacy_methods_are_not_served_on_v1(http):
    response = post(http, "v1", TEXT, "generateText", {"prompt": {"text": "Hi"}})
    assert_envelope(response, 404, "NOT_FOUND")


# -- generateMessage -------------------------------------------------------------------------------------

def test_generate_message_answers_a_message_and_echoes_the_history(http, version):
    body = {**CHAT_PROMPT, "temperature": 0.7, "candidateCount": 2}
    response = post(http, version, CHAT, "generateMessage", body)
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_response(version, "GenerateMessageResponse", answer)
    assert len(answer["candidates"]) == 2
    assert all(c["content"].strip() and c["author"] == "1" for c in answer["candidates"])
    assert answer["messages"] == CHAT_PROMPT["prompt"]["messages"]


def test_generate_message_with_context_examples_and_alternating_authors(http, version):
    prompt = {
        "context": "You are a helpful gardener.",
        "examples": [{"input": {"content": "What is soil?"}, "output": {"content": "The ground plants grow in."}}],
        "messages": [{"author": "ann", "content": "Hello"}, {"author": "bot", "content": "Hi, Ann."},
                     {"author": "ann", "content": "How do I water tomatoes?"}],
    }
    answer = post(http, version, CHAT, "generateMessage", {"prompt": prompt}).json()
    assert answer["candidates"][0]["author"] == "bot"
    assert [m["author"] for m in answer["messages"]] == ["ann", "bot", "ann"]
    again = post(http, version, CHAT, "generateMessage", {"prompt": prompt}).json()
    assert again == answer


def test_generate_message_fills_in_missing_authors(http, version):
    prompt = {"messages": [{"content": "Hi"}, {"content": "Hello!"}, {"content": "How are you?"}]}
    answer = post(http, version, CHAT, "generateMessage", {"prompt": prompt}).json()
    assert [m["author"] for m in answer["messages"]] == ["0", "1", "0"]
    assert answer["candidates"][0]["author"] == "1"


@pytest.mark.parametrize("field,value", [("temperature", 1.2), ("candidateCount", 9), ("candidateCount", 0),
                                         ("topP", -0.5), ("topK", -3)])
def test_generate_message_out_of_range_is_400_naming_the_field(http, version, field, value):
    body = {**CHAT_PROMPT, field: value}
    assert_envelope(post(http, version, CHAT, "generateMessage", body), 400, "INVALID_ARGUMENT", field=field)


def test_generate_message_needs_messages(http, version):
    response = post(http, version, CHAT, "generateMessage", {"prompt": {"context": "only context"}})
    assert_envelope(response, 400, "INVALID_ARGUMENT", field="messages")


def test_generate_message_only_on_chat_models(http, version):
    assert_envelope(post(http, version, TEXT, "generateMessage", CHAT_PROMPT), 400, "INVALID_ARGUMENT",
                    field="generateMessage")


# -- token counts ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("model", [TEXT, GECKO])
def test_count_text_tokens(http, version, model):
    text = "Count the tokens in this sentence."
    response = post(http, version, model, "countTextTokens", {"prompt": {"text": text}})
    assert response.status_code == 200, response.text
    validate_response(version, "CountTextTokensResponse", response.json())
    assert response.json() == {"tokenCount": count_text(text)}


def test_count_message_tokens_counts_context_examples_and_messages(http, version):
    prompt = {"context": "Be brief.", "examples": [{"input": {"content": "Hi"}, "output": {"content": "Hello"}}],
              "messages": [{"author": "0", "content": "How many tokens are in this sentence?"}]}
    response = post(http, version, CHAT, "countMessageTokens", {"prompt": prompt})
    assert response.status_code == 200, response.text
    validate_response(version, "CountMessageTokensResponse", response.json())
    expected = sum(count_text(t) for t in ("Be brief.", "Hi", "Hello", "How many tokens are in this sentence?"))
    assert response.json() == {"tokenCount": expected}


def test_count_tokens_methods_follow_the_catalog(http, version):
    assert_envelope(post(http, version, CHAT, "countTextTokens", {"prompt": {"text": "x"}}), 400,
                    "INVALID_ARGUMENT", field="countTextTokens")
    assert_envelope(post(http, version, TEXT, "countMessageTokens", CHAT_PROMPT), 400,
                    "INVALID_ARGUMENT", field="countMessageTokens")


# -- embeddings ------------------------------------------------------------------------------------------

def test_embed_text(http, version):
    response = post(http, version, GECKO, "embedText", {"text": "This is the text to be embedded."})
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_response(version, "EmbedTextResponse", answer)
    assert len(answer["embedding"]["value"]) == 768
    assert post(http, version, GECKO, "embedText", {"text": "This is the text to be embedded."}).json() == answer


def test_embed_text_needs_text(http, version):
    assert_envelope(post(http, version, GECKO, "embedText", {}), 400, "INVALID_ARGUMENT", field="text")


def test_embed_text_only_on_embedding_models(http, version):
    assert_envelope(post(http, version, TEXT, "embedText", {"text": "x"}), 400, "INVALID_ARGUMENT",
                    field="embedText")


def test_batch_embed_text_matches_single_embeddings(http, version):
    texts = ["This is the first text.", "This is the second text."]
    response = post(http, version, GECKO, "batchEmbedText", {"texts": texts})
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_response(version, "BatchEmbedTextResponse", answer)
    singles = [post(http, version, GECKO, "embedText", {"text": t}).json()["embedding"] for t in texts]
    assert answer["embeddings"] == singles


def test_batch_embed_text_takes_at_most_100_texts(http, version):
    ok = post(http, version, GECKO, "batchEmbedText", {"texts": [f"text {i}" for i in range(100)]})
    assert ok.status_code == 200 and len(ok.json()["embeddings"]) == 100
    too_many = post(http, version, GECKO, "batchEmbedText", {"texts": [f"text {i}" for i in range(101)]})
    assert_envelope(too_many, 400, "INVALID_ARGUMENT", field="texts")


def test_batch_embed_text_needs_texts(http, version):
    assert_envelope(post(http, version, GECKO, "batchEmbedText", {"texts": []}), 400, "INVALID_ARGUMENT",
                    field="texts")


def test_batch_embed_text_takes_requests_on_v1beta(http):
    response = post(http, "v1beta", GECKO, "batchEmbedText", {"requests": [{"text": "one"}, {"text": "two"}]})
    assert response.status_code == 200, response.text
    assert len(response.json()["embeddings"]) == 2


# -- the catalog on v1beta3 ------------------------------------------------------------------------------

def test_v1beta3_lists_the_legacy_models_with_their_methods(http):
    models = {m["name"]: m for m in http.get("/v1beta3/models").json()["models"]}
    assert models[f"models/{TEXT}"]["supportedGenerationMethods"][:2] == ["generateText", "countTextTokens"]
    assert "generateMessage" in models[f"models/{CHAT}"]["supportedGenerationMethods"]
    assert "embedText" in models[f"models/{GECKO}"]["supportedGenerationMethods"]


def test_zero_top_k_and_max_output_tokens_mean_unset(http, version):
    body = {"prompt": {"text": "Describe the sea"}}
    plain = post(http, version, TEXT, "generateText", body).json()
    zeros = post(http, version, TEXT, "generateText", {**body, "topK": 0, "maxOutputTokens": 0})
    assert zeros.status_code == 200, zeros.text
    assert zeros.json()["candidates"][0]["output"]
    assert plain["candidates"][0]["output"]


def test_stop_sequences_cut_the_output(http, version):
    plain = post(http, version, TEXT, "generateText", {"prompt": {"text": "Describe the sea"}}).json()
    output = plain["candidates"][0]["output"]
    stop = output.split()[3]
    cut = post(http, version, TEXT, "generateText",
               {"prompt": {"text": "Describe the sea"}, "stopSequences": [stop]}).json()
    assert stop not in cut["candidates"][0]["output"]
