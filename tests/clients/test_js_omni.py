"""Gemini Omni Flash through @google/genai (tests/js/omni.test.mjs, node --test).

Needs Node.js 20+; installs and skips as tests/support/js.py decides."""
from __future__ import annotations

import base64
import hashlib
import json

from support.js import run_node_tests

PROMPT = "A marble rolling fast on a chain reaction style track, continuous smooth shot."


def test_javascript_sdk_omni(gemini_mock):
    answer = gemini_mock.client().interactions.create(model="gemini-omni-1.1-flash", input=PROMPT,
                                                      response_format={"type": "video", "resolution": "360p"})
    digest = hashlib.sha256(base64.b64decode(answer.output_video.data)).hexdigest()   # the video is too big for env
    expected = {"prompt": PROMPT, "sha256": digest}
    run_node_tests(gemini_mock, "omni.test.mjs", env={"GEMINI_MOCK_EXPECTED": json.dumps(expected)})
