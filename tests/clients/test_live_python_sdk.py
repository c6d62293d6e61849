"""google-genai's `client.aio.live.connect`, unmodified, against the emulator served over TLS
(`gemini_mock_tls`: the SDK always dials wss:// for the Live API, and trusts the local CA via SSL_CERT_FILE)."""
from __future__ import annotations

import asyncio

import pytest
from google import genai
from google.genai import errors, types

from support.live import AUDIO_MODEL, expected_text, last_session

PROMPT = "Tell me about the ocean"


async def _turn(session) -> list[types.LiveServerMessage]:
    messages = []
    async for message in session.receive():
        messages.append(message)
        if message.server_content and message.server_content.turn_complete:
            break
    return messages


def test_python_sdk_holds_an_audio_session(gemini_mock_tls):
    client = genai.Client()      # built from the environment, as the code under test would build it

    async def run():
        config = types.LiveConnectConfig(response_modalities=["AUDIO"],
                                         output_audio_transcription=types.AudioTranscriptionConfig(),
                                         input_audio_transcription=types.AudioTranscriptionConfig())
        async with client.aio.live.connect(model=AUDIO_MODEL, config=config) as session:
            await session.send_client_content(turns=types.Content(role="user", parts=[types.Part(text=PROMPT)]),
                                              turn_complete=True)
            first = await _turn(session)
            await session.send_realtime_input(audio=types.Blob(data=b"\x00\x00" * 16000,
                                                               mime_type="audio/pcm;rate=16000"))
            await session.send_realtime_input(audio_stream_end=True)
            second = await _turn(session)
        return first, second

    first, second = asyncio.run(run())
    text = "".join(m.server_content.output_transcription.text for m in first
                   if m.server_content and m.server_content.output_transcription)
    assert text == expected_text(gemini_mock_tls, AUDIO_MODEL, [{"role": "user", "parts": [{"text": PROMPT}]}])
    audio = b"".join(m.data for m in first if m.data)
    assert len(audio) > 24000 and first[-1].usage_metadata.response_token_count == -(-len(audio) * 32 // 48000)
    assert any(m.server_content and m.server_content.input_transcription for m in second)
    details = {d.modality.name: d.token_count for d in second[-1].usage_metadata.prompt_tokens_details}
    assert details["AUDIO"] == 32
    assert last_session(gemini_mock_tls)["live"]["closeCode"] == 1000


def test_python_sdk_tools_and_errors(gemini_mock_tls):
    client = genai.Client()
    weather = types.FunctionDeclaration(name="get_weather", description="Get the weather in a city",
                                        parameters={"type": "OBJECT", "properties": {"city": {"type": "STRING"}}})

    async def run():
        config = types.LiveConnectConfig(response_modalities=["AUDIO"], tools=[types.Tool(function_declarations=[weather])])
        async with client.aio.live.connect(model=AUDIO_MODEL, config=config) as session:
            await session.send_client_content(turns=types.Content(role="user", parts=[
                types.Part(text="Use get_weather for Lima")]), turn_complete=True)
            call = None
            async for message in session.receive():
                call = message.tool_call.function_calls[0]
                break
            await session.send_tool_response(function_responses=[types.FunctionResponse(
                id=call.id, name=call.name, response={"forecast": "fog"})])
            answer = await _turn(session)
        return call, answer

    call, answer = asyncio.run(run())
    assert call.name == "get_weather" and call.id
    assert answer[-1].usage_metadata.total_token_count > 0

    async def unknown_model():
        async with client.aio.live.connect(model="gemini-404"):
            pass

    with pytest.raises(errors.APIError) as info:
        asyncio.run(unknown_model())
    assert info.value.code == 1008 and "bidiGenerateContent" in str(info.value)


def test_serve_tls_speaks_https_and_wss_with_its_local_ca(tmp_path):
    import json
    import ssl
    import subprocess
    import sys

    import httpx
    from websockets.sync.client import connect

    process = subprocess.Popen([sys.executable, "-m", "gemini_mockserver", "serve", "--tls", "--port", "0", "--quiet",
                                "--state-dir", str(tmp_path / "state")], stdout=subprocess.PIPE, text=True)
    try:
        url = process.stdout.readline().split()[-1]
        lines = [process.stdout.readline() for _ in range(4)]
        assert url.startswith("https://127.0.0.1:")
        ca = tmp_path / "state" / "tls" / "ca.pem"
        assert any(f"SSL_CERT_FILE={tmp_path / 'state' / 'tls' / 'bundle.pem'}" in line for line in lines)
        assert httpx.get(url + "/healthz", verify=ssl.create_default_context(cafile=str(ca))).status_code == 200
        wss = url.replace("https://", "wss://") + ("/ws/google.ai.generativelanguage.v1beta.GenerativeService."
                                                   "BidiGenerateContent?key=k")
        with connect(wss, ssl=ssl.create_default_context(cafile=str(ca))) as ws:
            ws.send(json.dumps({"setup": {"model": AUDIO_MODEL}}))
            assert json.loads(ws.recv(timeout=10)) == {"setupComplete": {}}
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):   # a client without the CA
            httpx.get(url + "/healthz", verify=ssl.create_default_context())
    finally:
        process.terminate()
        process.wait(timeout=10)
