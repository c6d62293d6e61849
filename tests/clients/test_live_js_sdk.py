"""The Live API and ephemeral tokens through the @google/genai JavaScript SDK (tests/js/live.test.mjs, run
with `node --test`). Node and the SDK install are found or skipped as tests/support/js.py decides."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time

from support.js import JS_DIR, ensure_sdk, find_node, tail
from support.live import AUDIO_MODEL, expected_text, text_model  # noqa: F401 (a fixture)

PROMPT = "Tell me about the ocean"


def test_javascript_sdk_live(gemini_mock, text_model):
    node = find_node()
    ensure_sdk()
    contents = [{"role": "user", "parts": [{"text": PROMPT}]}]
    live = {"audioModel": AUDIO_MODEL, "textModel": text_model, "prompt": PROMPT,
            "audioText": expected_text(gemini_mock, AUDIO_MODEL, contents),
            "textAnswer": expected_text(gemini_mock, text_model, contents)}
    env = {name: value for name, value in os.environ.items()
           if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    env.update({"GEMINI_MOCK_BASE_URL": gemini_mock.base_url, "GEMINI_MOCK_API_KEY": gemini_mock.api_key,
                "GEMINI_MOCK_LIVE": json.dumps(live), "NODE_NO_WARNINGS": "1"})
    result = subprocess.run([node, "--test", "--test-reporter=spec", "live.test.mjs"], cwd=JS_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the JavaScript Live test failed:\n{tail(output, 200)}"
    assert re.search(r"\bpass 5\b", output) and re.search(r"\bfail 0\b", output), output
    assert not gemini_mock.store.internal_errors
    deadline = time.monotonic() + 10     # a session is journaled when the server sees it end
    while True:
        sessions = [entry for entry in gemini_mock.store.journal.entries() if entry["method"] == "WEBSOCKET"]
        if len(sessions) >= 7 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    assert [entry["live"]["closeCode"] for entry in sessions].count(1008) == 2   # spent token, unknown model
