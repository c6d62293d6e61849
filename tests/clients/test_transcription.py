"""Gemini 3.5 Transcribe through google-genai, as the transcription guide calls it: an uploaded or inline
recording, `audio_transcription_config` (language codes, custom vocabulary, word timestamps, diarization,
SMART mode), the transcript in `response.text` and word annotations in `part.audio_transcription`."""
from __future__ import annotations

import base64

import pytest
from google.genai import errors, types

from gemini_mockserver.generation.transcription import FILLERS
from support import validate_response, wav_bytes
from support.envelopes import assert_envelope

MODEL = "gemini-3.5-transcribe"


def _seconds(offset: str) -> float:
    assert offset.endswith("s")
    return float(offset[:-1])


def _config(**settings) -> types.GenerateContentConfig:
    return types.GenerateContentConfig(audio_transcription_config=types.AudioTranscriptionConfig(**settings))


def _annotations(response) -> list[types.Transcription]:
    return [part.audio_transcription for part in response.candidates[0].content.parts if part.audio_transcription]


@pytest.fixture
def recording(client, tmp_path):
    """A 20-second recording uploaded through the Files API, as the guide's first example does."""
    path = tmp_path / "meeting.wav"
    path.write_bytes(wav_bytes(20.0))
    return client.files.upload(file=str(path))


def test_an_uploaded_recording_is_transcribed_into_response_text(client, recording):
    response = client.models.generate_content(model=MODEL, contents=[recording])
    words = response.text.split()
    assert 40 <= len(words) <= 70            # about 2.5 words a second of the 20 s of audio
    assert response.text.endswith(".")
    assert _annotations(response) == []      # no annotations unless asked for
    usage = response.usage_metadata
    assert usage.prompt_tokens_details[0].modality == types.MediaModality.AUDIO
    assert usage.prompt_token_count == 20 * 32   # audio at 32 tokens a second
    assert usage.candidates_token_count > 0
    again = client.models.generate_content(model=MODEL, contents=[recording])
    assert again.text == response.text       # the same recording gives the same transcript


def test_word_timestamps_and_speakers_annotate_the_transcript(client, recording):
    response = client.models.generate_content(model=MODEL, contents=[recording],
                                              config=_config(diarization=True, word_timestamp=True,
                                                             custom_vocabulary=["Kubernetes", "BigQuery"]))
    turns = _annotations(response)
    assert len(turns) >= 2
    speakers = {turn.speaker_label for turn in turns}
    assert 2 <= len(speakers) <= 8 and all(label.startswith("spk_") for label in speakers)
    assert all(a.speaker_label != b.speaker_label for a, b in zip(turns, turns[1:]))   # turns change speaker
    words = [word for turn in turns for word in turn.words]
    starts = [_seconds(word.start_offset) for word in words]
    assert starts == sorted(starts) and starts[0] >= 0
    assert all(_seconds(w.end_offset) > _seconds(w.start_offset) for w in words)
    assert _seconds(words[-1].end_offset) <= 20.0
    spoken = [word.word for word in words]
    assert "Kubernetes" in spoken and "BigQuery" in spoken       # the custom vocabulary is recognised
    for turn in turns:                        # each turn's text is its words, as the transcript has them
        assert turn.text.rstrip(".").lower() == " ".join(w.word for w in turn.words).lower()
        assert turn.text in response.text


def test_diarization_alone_labels_turns_without_word_timing(client, recording):
    turns = _annotations(client.models.generate_content(model=MODEL, contents=[recording],
                                                        config=_config(diarization=True)))
    assert turns and all(turn.speaker_label and not turn.words for turn in turns)


def test_smart_mode_drops_the_fillers_verbatim_keeps(client, recording):
    verbatim = client.models.generate_content(model=MODEL, contents=[recording], config=_config(mode="VERBATIM"))
    smart = client.models.generate_content(model=MODEL, contents=[recording], config=_config(mode="SMART"))
    def fillers(text: str) -> list[str]:
        padded = f" {text.lower().replace('.', ' ')} "
        return [filler for filler in FILLERS if f" {filler} " in padded]

    assert fillers(verbatim.text) and not fillers(smart.text)
    assert "\n\n" in smart.text                 # smart transcription formats the text into paragraphs


def test_inline_audio_through_streaming_and_language_hints(client):
    audio = types.Part.from_bytes(data=wav_bytes(4.0), mime_type="audio/wav")
    chunks = list(client.models.generate_content_stream(model=MODEL, contents=[audio],
                                                        config=_config(language_codes=["es-ES"])))
    text = "".join(chunk.text or "" for chunk in chunks)
    whole = client.models.generate_content(model=MODEL, contents=[audio], config=_config(language_codes=["es-ES"]))
    assert text == whole.text and len(chunks) >= 1


def test_the_wire_shape_of_an_annotated_answer(http):
    body = {"contents": [{"parts": [{"inlineData": {"mimeType": "audio/wav",
                                                    "data": base64.b64encode(wav_bytes(6.0)).decode()}}]}],
            "generationConfig": {"audioTranscriptionConfig": {"wordTimestamp": True, "diarization": True}}}
    response = http.post(f"/v1beta/models/{MODEL}:generateContent", json=body)
    assert response.status_code == 200, response.text
    answer = response.json()
    validate_response("v1beta", "GenerateContentResponse", answer)
    parts = answer["candidates"][0]["content"]["parts"]
    assert set(parts[0]) == {"text"}
    annotation = parts[1]["audioTranscription"]
    assert set(annotation) == {"text", "speakerLabel", "words"}
    assert set(annotation["words"][0]) == {"word", "startOffset", "endOffset"}
    assert annotation["words"][0]["startOffset"] == "0.000s"


@pytest.mark.parametrize("settings, field", [
    ({"mode": "SMART", "wordTimestamp": True}, "audioTranscriptionConfig.mode"),
    ({"mode": "SMART", "diarization": True}, "audioTranscriptionConfig.mode"),
    ({"customVocabulary": ["term"] * 1001}, "audioTranscriptionConfig.customVocabulary"),
    ({"languageCodes": ["english"]}, "audioTranscriptionConfig.languageCodes"),
])
def test_settings_the_guide_rules_out_are_400s_naming_the_field(http, settings, field):
    body = {"contents": [{"parts": [{"inlineData": {"mimeType": "audio/wav",
                                                    "data": base64.b64encode(wav_bytes(2.0)).decode()}}]}],
            "generationConfig": {"audioTranscriptionConfig": settings}}
    assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400, "INVALID_ARGUMENT",
                    field=field)


def test_no_audio_or_too_much_audio_is_refused(client, http):
    with pytest.raises(errors.ClientError) as raised:
        client.models.generate_content(model=MODEL, contents="Transcribe this, please")
    assert raised.value.code == 400 and "audio" in raised.value.message
    long_call = wav_bytes(31 * 60, rate=1000)    # over the 30 minutes allowed with diarization
    body = {"contents": [{"parts": [{"inlineData": {"mimeType": "audio/wav",
                                                    "data": base64.b64encode(long_call).decode()}}]}],
            "generationConfig": {"audioTranscriptionConfig": {"diarization": True}}}
    error = assert_envelope(http.post(f"/v1beta/models/{MODEL}:generateContent", json=body), 400,
                            "INVALID_ARGUMENT", field="contents")
    assert "30 minutes" in error["message"]
    del body["generationConfig"]                 # without annotations the hour limit applies: it fits
    assert http.post(f"/v1beta/models/{MODEL}:generateContent", json=body).status_code == 200


def test_the_catalog_lists_the_model_for_generate_content(client):
    model = client.models.get(model=MODEL)
    assert model.display_name == "Gemini 3.5 Transcribe"
    assert "generateContent" in model.supported_actions and "countTokens" in model.supported_actions


def test_the_interactions_api_transcribes_with_word_info_annotations(client, recording):
    """The guide's newest form: interactions.create with an audio input, the transcript in output_text."""
    plain = client.interactions.create(model=MODEL, input=[{"type": "audio", "uri": recording.uri,
                                                            "mime_type": recording.mime_type}])
    assert 40 <= len(plain.output_text.split()) <= 70
    annotated = client.interactions.create(
        model=MODEL, input=[{"type": "audio", "uri": recording.uri, "mime_type": recording.mime_type}],
        generation_config={"transcription_config": {
            "mode": {"type": "verbatim", "diarization_mode": "speaker", "timestamp_granularities": ["word"]},
            "custom_vocabulary": ["Kubernetes"]}})
    text = annotated.output_text
    output = annotated.steps[-1].content[0]
    words = [a for a in output.annotations if a.type == "word_info"]
    assert len(words) >= 40 and {w.speaker for w in words} >= {"spk_1", "spk_2"}
    encoded = text.encode()
    for word in words:        # each annotation spans its word in the text, in bytes
        assert encoded[word.start_index:word.end_index].decode().lower() == word.text.lower()
        assert _seconds(word.end_offset) > _seconds(word.start_offset)
    assert "Kubernetes" in [w.text for w in words]


def test_interactions_transcription_settings_are_checked(http):
    body = {"model": MODEL, "input": [{"type": "audio", "mime_type": "audio/wav",
                                       "data": base64.b64encode(wav_bytes(2.0)).decode()}],
            "generation_config": {"transcription_config": {"diarization_mode": "everyone"}}}
    response = http.post("/v1beta/interactions", json=body)
    assert response.status_code == 400, response.text
    assert "diarization_mode" in response.text
    body["generation_config"]["transcription_config"] = {"mode": {"type": "smart"},
                                                         "timestamp_granularities": ["word"]}
    response = http.post("/v1beta/interactions", json=body)
    assert response.status_code == 400 and "SMART" in response.text
