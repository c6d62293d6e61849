"""Live music through the @google/genai JavaScript SDK's `ai.live.music.connect` (tests/js/music.test.mjs, run
with `node --test`). Node and the SDK install are found or skipped as tests/support/js.py decides."""
from __future__ import annotations

import json
import os
import re
import subprocess
import time

from support.js import JS_DIR, ensure_sdk, find_node, tail
from support.live import MUSIC_CHUNK_BYTES, MUSIC_MIME, MUSIC_MODEL


def test_javascript_sdk_live_music(gemini_mock):
    node = find_node()
    ensure_sdk()
    gemini_mock.configure({"music": {"speed": 40.0}})
    env = {name: value for name, value in os.environ.items()
           if name not in ("GOOGLE_API_KEY", "GEMINI_API_KEY", "GOOGLE_GEMINI_BASE_URL")}
    env.update({"GEMINI_MOCK_BASE_URL": gemini_mock.base_url, "GEMINI_MOCK_API_KEY": gemini_mock.api_key,
                "GEMINI_MOCK_MUSIC": json.dumps({"model": MUSIC_MODEL, "mimeType": MUSIC_MIME,
                                                 "chunkBytes": MUSIC_CHUNK_BYTES}),
                "NODE_NO_WARNINGS": "1"})
    result = subprocess.run([node, "--test", "--test-reporter=spec", "music.test.mjs"], cwd=JS_DIR, env=env,
                            capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"the JavaScript Live music test failed:\n{tail(output, 200)}"
    assert re.search(r"\bpass 3\b", output) and re.search(r"\bfail 0\b", output), output
    assert not gemini_mock.store.internal_errors
    deadline = time.monotonic() + 10     # a session is journaled when the server sees it end
    while True:
        sessions = [entry for entry in gemini_mock.store.journal.entries() if entry["method"] == "WEBSOCKET"]
        if len(sessions) >= 6 or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    codes = [entry["live"]["closeCode"] for entry in sessions]
    assert codes[-2:] == [1007, 1008] and set(codes[:-2]) <= {1000, 1005}   # 1005: session.close() sends no code
    assert len(codes) == 6 and [entry["status"] for entry in sessions] == [200, 200, 200, 200, 400, 404]
    # a refused model is journaled as it was sent
    assert {entry["model"] for entry in sessions} == {"lyria-realtime-exp", "models/gemini-2.5-flash"}
