"""The plugin's verification helpers and strict mode (pytest_plugin/verify.py)."""
from __future__ import annotations

import pytest

from gemini_mockserver.pytest_plugin.verify import VerificationError, matches

pytest_plugins = ["pytester"]

MODEL = "gemini-3.5-flash-lite"


def test_verify_counts_requests_matching_model_method_and_body(gemini_mock, client):
    client.models.generate_content(model=MODEL, contents="weather in Paris")
    client.models.generate_content(model=MODEL, contents="weather in Rome")
    client.models.count_tokens(model=MODEL, contents="weather in Oslo")
    found = gemini_mock.verify(2, model=MODEL, method="generateContent",
                               body=lambda b: "weather" in b["contents"][0]["parts"][0]["text"])
    assert [e.request_json["contents"][0]["parts"][0]["text"] for e in found] == ["weather in Paris",
                                                                                 "weather in Rome"]
    gemini_mock.verify(1, body={"contents": [{"parts": [{"text": "weather in Oslo"}], "role": "user"}]})
    gemini_mock.verify(1, method="countTokens", http_method="POST", status=200)
    gemini_mock.verify(0, path=r":embedContent$")
    gemini_mock.verify(model="models/" + MODEL)          # at least one; `models/` or not
    with pytest.raises(VerificationError) as failure:
        gemini_mock.verify(3, method="generateContent")
    message = str(failure.value)
    assert "expected 3 request(s) matching method='generateContent', found 2" in message
    assert "weather in Rome" in message and ":countTokens -> 200" in message   # what was sent instead


def test_find_requests_and_a_body_predicate_of_another_shape(gemini_mock, client):
    client.models.list()
    assert gemini_mock.find_requests(http_method="GET", path="/models") and \
        gemini_mock.find_requests(body=lambda b: b["contents"]) == []   # no body: no match, no error


def test_matches_on_plain_dicts_and_openai_paths():
    entry = {"method": "POST", "path": "/v1beta/openai/chat/completions", "model": "m", "status": 200}
    assert matches(entry, method="chat/completions") and matches(entry, model="models/m")
    assert not matches(entry, method="generateContent") and not matches(entry, status=400)


def test_a_rule_answer_is_marked_and_is_not_unmatched(gemini_mock, client):
    gemini_mock.rules.reply("Scripted.", prompt="hello")
    client.models.generate_content(model=MODEL, contents="hello")
    client.models.generate_content(model=MODEL, contents="goodbye")
    scripted, generated = gemini_mock.requests[-2:]
    assert scripted["source"] == "rule" and generated["source"] == "emulated"
    assert gemini_mock.unmatched_requests() == [generated]


STRICT_TESTS = '''
import pytest

MODEL = "gemini-3.5-flash-lite"

@pytest.mark.gemini(strict=True, rules=[{"match": {"prompt": "scripted"}, "respond": {"text": "Yes."}}])
def test_only_scripted(gemini_mock):
    client = gemini_mock.client()
    assert client.models.generate_content(model=MODEL, contents="scripted please").text == "Yes."
    client.models.list()   # runs no model: strict mode lets it be

@pytest.mark.gemini(strict=True)
def test_unscripted(gemini_mock):
    gemini_mock.client().models.generate_content(model=MODEL, contents="nobody scripted this")

def test_strict_by_attribute(gemini_mock):
    gemini_mock.strict = True
    gemini_mock.client().models.embed_content(model="gemini-embedding-001", contents="nor this")
'''


def test_strict_mode_fails_a_test_whose_request_no_rule_matched(pytester):
    pytester.makepyfile(STRICT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=2)
    result.stdout.fnmatch_lines(["*strict mode: 1 request(s) no rule or cassette matched*",
                                 "*POST /v1/models/gemini-3.5-flash-lite:generateContent -> 200*nobody scripted this*"])
    result.stdout.fnmatch_lines(["*:batchEmbedContents -> 200*"])
