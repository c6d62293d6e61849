"""The Live API (BidiGenerateContent over WebSocket) driven by a raw WebSocket client speaking the
documented JSON protocol: setup, turns, realtime input, audio and text answers, tools, limits, resumption,
rules and faults, errors as close frames, and the journal."""
from __future__ import annotations

import base64
import json
import time

import pytest
from websockets.sync.client import connect

from gemini_mockserver.generation.media import audio_tokens
from support.live import (AUDIO_MODEL, closed, expected_text, last_session, open_session, pcm_of, receive, say,
                          text_model, transcript, until_turn_complete, ws_url)  # noqa: F401 (text_model: a fixture)


# -- answers -----------------------------------------------------------------------------------------

def test_audio_answer_is_24khz_pcm_as_long_as_its_transcript(gemini_mock):
    prompt = "Tell me about the ocean"
    with open_session(gemini_mock, {"model": AUDIO_MODEL, "outputAudioTranscription": {}}) as ws:
        messages = say(ws, prompt, snake=True)     # google-genai's spelling
    text = transcript(messages)
    assert text == expected_text(gemini_mock, AUDIO_MODEL, [{"role": "user", "parts": [{"text": prompt}]}])
    pcm = pcm_of(messages)
    seconds = len(pcm) / 2 / 24000
    assert seconds > 1 and len(pcm) % 2 == 0
    assert messages[-2] == {"serverContent": {"generationComplete": True}}
    usage = messages[-1]["usageMetadata"]
    assert usage["responseTokensDetails"] == [{"modality": "AUDIO", "tokenCount": audio_tokens(seconds)}]
    assert usage["responseTokenCount"] == audio_tokens(seconds)
    assert usage["totalTokenCount"] == (usage["promptTokenCount"] + usage["responseTokenCount"]
                                        + usage.get("thoughtsTokenCount", 0))
    # the same session again: the same bytes
    with open_session(gemini_mock, {"model": AUDIO_MODEL, "outputAudioTranscription": {}}) as ws:
        assert pcm_of(say(ws, prompt)) == pcm


def test_audio_only_model_refuses_text(gemini_mock):
    with connect(ws_url(gemini_mock)) as ws:
        ws.send(json.dumps({"setup": {"model": AUDIO_MODEL, "generationConfig": {"responseModalities": ["TEXT"]}}}))
        code, reason = closed(ws)
    assert code == 1007 and "response modality TEXT" in reason


def test_text_model_streams_text_in_pieces(gemini_mock, text_model):
    prompt = "Describe a lighthouse at night"
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        messages = say(ws, prompt)
        pieces = [m["serverContent"]["modelTurn"]["parts"][0]["text"] for m in messages
                  if "modelTurn" in m.get("serverContent", {})]
        assert len(pieces) >= 2
        assert "".join(pieces) == expected_text(gemini_mock, text_model, [{"role": "user", "parts": [{"text": prompt}]}])
        usage = messages[-1]["usageMetadata"]
        assert usage["responseTokensDetails"][0]["modality"] == "TEXT"
        # a second turn sees the first: the whole conversation is the prompt
        second = say(ws, "And in the morning?")
        assert second[-1]["usageMetadata"]["promptTokenCount"] > usage["promptTokenCount"]


def test_realtime_audio_counts_32_tokens_a_second_and_is_transcribed(gemini_mock, text_model):
    setup = {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}, "inputAudioTranscription": {}}
    pcm = b"\x10\x00" * 16000 * 2                      # two seconds at 16 kHz
    with open_session(gemini_mock, setup) as ws:
        for start in range(0, len(pcm), 16000):
            ws.send(json.dumps({"realtimeInput": {"audio": {"data": base64.b64encode(pcm[start:start + 16000]).decode(),
                                                            "mimeType": "audio/pcm;rate=16000"}}}))
        ws.send(json.dumps({"realtime_input": {"audio_stream_end": True}}))
        messages = until_turn_complete(ws)
    assert transcript(messages, "inputTranscription").strip()
    details = {d["modality"]: d["tokenCount"] for d in messages[-1]["usageMetadata"]["promptTokensDetails"]}
    assert details == {"AUDIO": 64}


def test_manual_activity_detection(gemini_mock, text_model):
    setup = {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]},
             "realtimeInputConfig": {"automaticActivityDetection": {"disabled": True}}}
    with open_session(gemini_mock, setup) as ws:
        ws.send(json.dumps({"realtimeInput": {"activityStart": {}}}))
        ws.send(json.dumps({"realtimeInput": {"audio": {"data": base64.b64encode(b"\0\0" * 8000).decode(),
                                                        "mimeType": "audio/pcm;rate=16000"}}}))
        ws.send(json.dumps({"realtimeInput": {"activityEnd": {}}}))
        messages = until_turn_complete(ws)
    assert {"modality": "AUDIO", "tokenCount": 16} in messages[-1]["usageMetadata"]["promptTokensDetails"]
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        ws.send(json.dumps({"realtimeInput": {"activityStart": {}}}))
        code, reason = closed(ws)
    assert code == 1007 and "automaticActivityDetection" in reason


def test_realtime_text_is_answered_at_once(gemini_mock, text_model):
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        ws.send(json.dumps({"realtimeInput": {"text": "Name a colour"}}))
        messages = until_turn_complete(ws)
    assert "".join(m["serverContent"]["modelTurn"]["parts"][0]["text"] for m in messages
                   if "modelTurn" in m.get("serverContent", {})) == expected_text(
        gemini_mock, text_model, [{"role": "user", "parts": [{"text": "Name a colour"}]}])


# -- tools -------------------------------------------------------------------------------------------

WEATHER = {"functionDeclarations": [{"name": "get_weather", "description": "Get the weather in a city",
                                     "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}},
                                                    "required": ["city"]}}]}


def test_tool_call_and_tool_response(gemini_mock, text_model):
    setup = {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}, "tools": [WEATHER]}
    with open_session(gemini_mock, setup) as ws:
        ws.send(json.dumps({"clientContent": {"turns": [{"role": "user", "parts": [
            {"text": "What is the weather in Paris? Use get_weather."}]}], "turnComplete": True}}))
        call = receive(ws)["toolCall"]["functionCalls"][0]
        assert call["name"] == "get_weather" and isinstance(call["args"].get("city"), str) and call["id"]
        ws.send(json.dumps({"tool_response": {"function_responses": [
            {"id": call["id"], "name": "get_weather", "response": {"forecast": "sunny"}}]}}))
        messages = until_turn_complete(ws)
        assert any("modelTurn" in m.get("serverContent", {}) for m in messages)
        # an unknown call id is refused, naming the field
        ws.send(json.dumps({"toolResponse": {"functionResponses": [{"id": "nope", "name": "get_weather",
                                                                    "response": {}}]}}))
        code, reason = closed(ws)
    assert code == 1007 and "nope" in reason


def test_new_input_cancels_pending_tool_calls(gemini_mock, text_model):
    setup = {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}, "tools": [WEATHER]}
    with open_session(gemini_mock, setup) as ws:
        ws.send(json.dumps({"clientContent": {"turns": [{"role": "user", "parts": [
            {"text": "get_weather for Rome"}]}], "turnComplete": True}}))
        call = receive(ws)["toolCall"]["functionCalls"][0]
        ws.send(json.dumps({"realtimeInput": {"text": "Never mind"}}))
        assert receive(ws) == {"toolCallCancellation": {"ids": [call["id"]]}}


# -- session limits and resumption ---------------------------------------------------------------------

def test_go_away_before_the_connection_limit_then_the_end(gemini_mock, text_model):
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        gemini_mock.advance(560)
        ws.send(json.dumps({"realtimeInput": {"text": "hello"}}))
        first = receive(ws)
        left = float(first["goAway"]["timeLeft"].rstrip("s"))
        assert 0 < left <= 40
        until_turn_complete(ws)
        gemini_mock.advance(60)
        ws.send(json.dumps({"realtimeInput": {"text": "still there?"}}))
        code, reason = closed(ws)
    assert code == 1000 and "time limit" in reason


def test_session_resumption_carries_the_conversation(gemini_mock, text_model):
    setup = {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}, "sessionResumption": {}}
    with open_session(gemini_mock, setup) as ws:
        assert receive(ws)["sessionResumptionUpdate"]["resumable"] is True
        first = say(ws, "Remember the word pineapple")
        handle = receive(ws)["sessionResumptionUpdate"]["newHandle"]
    with open_session(gemini_mock, {**setup, "sessionResumption": {"handle": handle}}) as ws:
        receive(ws)
        resumed = say(ws, "What was the word?")
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        fresh = say(ws, "What was the word?")
    assert resumed[-1]["usageMetadata"]["promptTokenCount"] > fresh[-1]["usageMetadata"]["promptTokenCount"]
    assert first[-1]["usageMetadata"]["promptTokenCount"] < resumed[-1]["usageMetadata"]["promptTokenCount"]
    # another project cannot use the handle
    with connect(ws_url(gemini_mock, key=gemini_mock.other_key("b"))) as ws:
        ws.send(json.dumps({"setup": {**setup, "sessionResumption": {"handle": handle}}}))
        code, reason = closed(ws)
    assert code == 1007 and "resumption handle" in reason


def test_context_window_compression_is_accepted_and_lifts_the_limit(gemini_mock, text_model):
    setup = {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]},
             "contextWindowCompression": {"slidingWindow": {"targetTokens": 1000}, "triggerTokens": 2000}}
    with open_session(gemini_mock, setup) as ws:
        gemini_mock.advance(3600)
        assert say(ws, "hello")[-1]["serverContent"]["turnComplete"]


# -- errors as close frames, and the journal -------------------------------------------------------------

@pytest.mark.parametrize("send, code, words", [
    ("{not json", 1007, "Invalid JSON payload"),
    (json.dumps({"clientContent": {"turns": [], "turnComplete": True}}), 1007, "must be setup"),
    (json.dumps({"setup": {"model": "models/gemini-404"}}), 1008, "not supported for bidiGenerateContent"),
    (json.dumps({"setup": {"model": "models/gemini-2.5-flash"}}), 1008, "not supported for bidiGenerateContent"),
    (json.dumps({"setup": {"model": AUDIO_MODEL, "bogus": 1}}), 1007, "bogus"),
    (json.dumps({"setup": {"model": AUDIO_MODEL}, "clientContent": {}}), 1007, "Oneof field"),
    (json.dumps([1]), 1007, "JSON object"),
])
def test_protocol_errors_close_with_the_documented_codes(gemini_mock, send, code, words):
    with connect(ws_url(gemini_mock)) as ws:
        ws.send(send)
        got_code, reason = closed(ws)
    assert got_code == code and words in reason
    entry = last_session(gemini_mock)
    assert entry["method"] == "WEBSOCKET" and entry["live"]["closeCode"] == code and entry["status"] in (400, 404)
    assert not gemini_mock.store.internal_errors


def test_missing_key_and_unknown_paths(gemini_mock):
    with connect(ws_url(gemini_mock, key=None)) as ws:
        code, reason = closed(ws)
    assert code == 1008 and "API Key" in reason
    with connect(gemini_mock.base_url.replace("http", "ws", 1) + "/ws/nothing/here") as ws:
        code, reason = closed(ws)
    assert code == 1008 and "not found" in reason
    deadline = time.monotonic() + 10
    while len([e for e in gemini_mock.store.journal.entries() if e["method"] == "WEBSOCKET"]) < 2:
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert gemini_mock.store.journal.entries()[-1]["status"] == 404
    assert not gemini_mock.store.internal_errors


def test_journal_shows_the_session_messages(gemini_mock):
    with open_session(gemini_mock, {"model": AUDIO_MODEL}) as ws:
        say(ws, "hi")
    entry = last_session(gemini_mock)
    assert entry["status"] == 200 and entry["model"] == "gemini-2.5-flash-native-audio-preview-12-2025"
    kinds = [(m["from"], m["type"]) for m in entry.events]
    assert kinds[:3] == [("client", "setup"), ("server", "setupComplete"), ("client", "clientContent")]
    assert ("server", "serverContent.turnComplete") in kinds
    # the messages themselves are kept too (the per-entry cap allowing)
    assert entry.events[0]["message"]["model"].endswith(AUDIO_MODEL.removeprefix("models/"))
    assert entry.events[2]["message"]["turns"][0]["parts"][0]["text"] == "hi"


# -- rules and faults ------------------------------------------------------------------------------------

def test_rules_script_live_answers(gemini_mock):
    gemini_mock.rules.reply("Scripted answer.", prompt="weather")
    with open_session(gemini_mock, {"model": AUDIO_MODEL, "outputAudioTranscription": {}}) as ws:
        assert transcript(say(ws, "How is the weather?")) == "Scripted answer."
    gemini_mock.rules.error(429, prompt="quota")
    with open_session(gemini_mock, {"model": AUDIO_MODEL}) as ws:
        ws.send(json.dumps({"realtimeInput": {"text": "quota please"}}))
        code, reason = closed(ws)
    assert code == 1011 and reason


def test_faults_close_or_drop_the_session(gemini_mock):
    gemini_mock.fail_next(503, path="BidiGenerateContent")
    with connect(ws_url(gemini_mock)) as ws:
        ws.send(json.dumps({"setup": {"model": AUDIO_MODEL}}))
        code, reason = closed(ws)
    assert code == 1011 and "overloaded" in reason
    gemini_mock.fail_next(kind="streamCut", after_chunks=3, path="BidiGenerateContent")
    with open_session(gemini_mock, {"model": AUDIO_MODEL}) as ws:
        ws.send(json.dumps({"realtimeInput": {"text": "hello"}}))
        receive(ws)
        receive(ws)
        code, _ = closed(ws)
    assert code == 1011
    assert not gemini_mock.store.internal_errors


# -- interruption (paced answers take time to deliver) -------------------------------------------------

def _paced(gemini_mock) -> None:
    """Answers spoken slowly: a long model turn takes seconds, so the next input lands in the middle."""
    gemini_mock.configure({"stream": {"tokensPerSecond": 40.0, "firstTokenSeconds": 0.05}})


def _long_prompt() -> list[dict]:
    return [{"role": "user", "parts": [{"text": "Tell me a long story about the sea, the ships and the harbour."}]}]


def test_new_input_interrupts_a_paced_answer(gemini_mock, text_model):
    _paced(gemini_mock)
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        ws.send(json.dumps({"clientContent": {"turns": _long_prompt(), "turnComplete": True}}))
        first = receive(ws)
        assert first["serverContent"]["modelTurn"]["parts"][0]["text"]
        ws.send(json.dumps({"realtimeInput": {"text": "Stop, what time is it?"}}))
        messages = until_turn_complete(ws)
        kinds = [next(iter(m.get("serverContent", {"other": 1}))) for m in messages]
        # the cut turn: some text, then interrupted, then turnComplete (no generationComplete)
        cut = kinds.index("interrupted")
        assert kinds[cut + 1] == "turnComplete" and "generationComplete" not in kinds[:cut + 1]
        said = first["serverContent"]["modelTurn"]["parts"][0]["text"] + "".join(
            m["serverContent"]["modelTurn"]["parts"][0]["text"] for m in messages[:cut] if "modelTurn" in m.get(
                "serverContent", {}))
        full = expected_text(gemini_mock, text_model, _long_prompt())
        assert full.startswith(said) and len(said) < len(full)
        usage = messages[cut + 1]["usageMetadata"]
        assert usage["responseTokensDetails"] == [{"modality": "TEXT", "tokenCount": usage["responseTokenCount"]}]
        # the next answer is to a conversation holding only what was said
        answer = until_turn_complete(ws)
        text = "".join(m["serverContent"]["modelTurn"]["parts"][0]["text"] for m in answer
                       if "modelTurn" in m.get("serverContent", {}))
        assert text == expected_text(gemini_mock, text_model, [
            *_long_prompt(), {"role": "model", "parts": [{"text": said}]},
            {"role": "user", "parts": [{"text": "Stop, what time is it?"}]}])
        assert "interrupted" not in [next(iter(m.get("serverContent", {"x": 1}))) for m in answer]


def test_audio_barge_in_interrupts_the_spoken_answer(gemini_mock):
    _paced(gemini_mock)
    with open_session(gemini_mock, {"model": AUDIO_MODEL, "outputAudioTranscription": {}}) as ws:
        ws.send(json.dumps({"clientContent": {"turns": _long_prompt(), "turnComplete": True}}))
        assert "modelTurn" in receive(ws)["serverContent"]
        pcm = base64.b64encode(b"\x00\x01" * 1600).decode()
        ws.send(json.dumps({"realtimeInput": {"audio": {"mimeType": "audio/pcm;rate=16000", "data": pcm}}}))
        messages = until_turn_complete(ws)
        assert {"serverContent": {"interrupted": True}} in messages
        usage = messages[-1]["usageMetadata"]
        assert usage["responseTokensDetails"][0]["modality"] == "AUDIO"
        assert 0 < usage["responseTokenCount"] < audio_tokens(60)


def test_an_unpaced_answer_or_input_that_is_not_speech_is_never_interrupted(gemini_mock, text_model):
    """Without a pace an answer goes out whole before the next message is read; input that is not new user
    speech (here `audioStreamEnd`) lets a paced answer finish."""
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        ws.send(json.dumps({"clientContent": {"turns": _long_prompt(), "turnComplete": True}}))
        ws.send(json.dumps({"realtimeInput": {"text": "and then?"}}))
        for _ in range(2):
            kinds = [next(iter(m.get("serverContent", {"x": 1}))) for m in until_turn_complete(ws)]
            assert "interrupted" not in kinds and "generationComplete" in kinds
    _paced(gemini_mock)
    with open_session(gemini_mock, {"model": text_model, "generationConfig": {"responseModalities": ["TEXT"]}}) as ws:
        ws.send(json.dumps({"clientContent": {"turns": _long_prompt(), "turnComplete": True}}))
        receive(ws)
        ws.send(json.dumps({"realtimeInput": {"audioStreamEnd": True}}))
        kinds = [next(iter(m.get("serverContent", {"x": 1}))) for m in until_turn_complete(ws)]
        assert "interrupted" not in kinds and "generationComplete" in kinds


def test_live_turns_are_charged_in_the_usage_ledger(gemini_mock):
    """Each turn's tokens go to the ledger: the conversation as input, the spoken answer as audio output at
    the native-audio model's own price and its thinking at the text output price (fixtures/pricing.json);
    no request is counted."""
    with open_session(gemini_mock, {"model": AUDIO_MODEL}) as ws:
        first = say(ws, "hello")[-1]["usageMetadata"]
        second = say(ws, "and again")[-1]["usageMetadata"]
    assert second["promptTokenCount"] > first["promptTokenCount"]      # the whole conversation, each turn
    row = next(m for m in gemini_mock.store.usage.report(gemini_mock.project)["models"] if m["model"] == AUDIO_MODEL)
    assert row["inputTokens"] == first["promptTokenCount"] + second["promptTokenCount"]
    said = [u["responseTokenCount"] + u.get("thoughtsTokenCount", 0) for u in (first, second)]
    assert row["outputTokens"] == sum(said)           # output includes thinking, as for generateContent
    assert row["requests"] == 0
    assert [d["modality"] for d in first["responseTokensDetails"]] == ["AUDIO"]
    expected = sum(u["promptTokenCount"] * 0.5 + u["responseTokenCount"] * 12.0 + u.get("thoughtsTokenCount", 0) * 2.0
                   for u in (first, second)) / 1e6
    assert row["paidTierCostUsd"] == pytest.approx(expected, abs=1e-9)
