"""Music generation with the Lyria 3 models through @google/genai (tests/js/lyria.test.mjs, node --test): the same
lyrics and MP3 bytes as google-genai gets, through generateContent and interactions.create.

Needs Node.js 20+; installs and skips as tests/support/js.py decides."""
from __future__ import annotations

import hashlib
import json

from support.js import run_node_tests

PROMPT = "Create a 30-second cheerful acoustic folk song with guitar and harmonica."


def test_javascript_sdk_music_generation(gemini_mock):
    lyrics, audio = gemini_mock.client().models.generate_content(model="lyria-3-clip-preview", contents=PROMPT).parts
    expected = {"prompt": PROMPT, "lyrics": lyrics.text,
                "audioSha256": hashlib.sha256(audio.inline_data.data).hexdigest()}
    run_node_tests(gemini_mock, "lyria.test.mjs", passed=3, env={"GEMINI_MOCK_EXPECTED": json.dumps(expected)})
