"""No behaviour change: the answers of this tree and of an older commit to the same ~1,300 requests
(generateContent, SSE and JSON-array streams, countTokens, embedContent over two models, with thinking,
stop sequences, function declarations, JSON schemas, tiny floats, non-ASCII text; malformed bodies; the
usage report after them), compared value for value. A performance change must print "same".

    python bench/same_answers.py --before fc3a178
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cost import _checkout

ROOT = Path(__file__).resolve().parent.parent
WORDS = ("ocean river mountain forest desert city market garden library engine planet comet naïve 中文 émoji "
         "😀").split()
BAD_BODIES = [b'{"contents": NaN}', b'{"contents": [{"parts": [{"text": "\\ud800"}]}]}', b'{"a": 18446744073709551616}',
              b"{'contents': [{'parts': [{'text': 'hi'}]}],}", b'{"contents": 1e400}', b"[" * 150 + b"]" * 150,
              b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"temperature": 9}}',
              b'{"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"maxOutputTokens": 0}}']


def _body(n: int) -> dict:
    topic = " ".join(WORDS[(n * 3 + i) % len(WORDS)] for i in range(1 + n % 6))
    config: dict = {"temperature": (n % 20) / 10, "maxOutputTokens": 20 + (n * 37) % 400, "topP": 0.00001 * (n % 3)}
    if n % 5 == 0:
        config["thinkingConfig"] = {"includeThoughts": True}
    if n % 7 == 0:
        config["stopSequences"] = ["the"]
    body = {"contents": [{"role": "user", "parts": [{"text": f"Q{n}: tell me about {topic}."}]}],
            "generationConfig": config}
    if n % 9 == 0:
        body["tools"] = [{"functionDeclarations": [{"name": "get_weather", "description": "weather of a city",
                                                    "parameters": {"type": "OBJECT",
                                                                   "properties": {"city": {"type": "STRING"}}}}]}]
    if n % 11 == 0:
        config["responseMimeType"] = "application/json"
        config["responseSchema"] = {"type": "OBJECT", "properties": {"x": {"type": "NUMBER"},
                                                                     "y": {"type": "INTEGER", "minimum": 1e-7}}}
    return body


def answers() -> list:
    """Run in the child process, with the tree under test first on sys.path."""
    from starlette.testclient import TestClient

    from gemini_mockserver.app import create_app

    client, key = TestClient(create_app()), {"x-goog-api-key": "k"}
    out: list = []
    for n in range(150):
        body = _body(n)
        for model in ("gemini-2.5-flash-lite", "gemini-3.6-flash"):
            for method in ("generateContent", "streamGenerateContent?alt=sse", "streamGenerateContent", "countTokens"):
                sent = body if method != "countTokens" else {"contents": body["contents"]}
                answer = client.post(f"/v1beta/models/{model}:{method}", json=sent, headers=key)
                if method.endswith("sse") and answer.status_code == 200:
                    out.append([200, [json.loads(event[6:]) for event in answer.text.split("\r\n\r\n") if event]])
                else:
                    out.append([answer.status_code, answer.json()])
        answer = client.post("/v1beta/models/gemini-embedding-001:embedContent", json={"content": body["contents"][0]},
                             headers=key)
        out.append([answer.status_code, answer.json()])
    for bad in BAD_BODIES:
        answer = client.post("/v1beta/models/gemini-2.5-flash-lite:generateContent", content=bad, headers=key)
        out.append([answer.status_code, answer.json()])
    out.append(client.get("/_mock/usage").json())
    return out


def _run(path: Path | None) -> list:
    """The answers of the tree at `path` (a folder holding `gemini_mockserver`), or of the installed one."""
    first = f"sys.path.insert(0, {str(path)!r}); " if path else ""
    code = f"import sys; {first}sys.path.insert(1, {str(ROOT / 'bench')!r}); " \
           "import json, same_answers; print(json.dumps(same_answers.answers()))"
    done = subprocess.run([sys.executable, "-c", code], cwd=tempfile.gettempdir(), capture_output=True, text=True,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"}, check=True)
    return json.loads(done.stdout)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", metavar="COMMIT", required=True, help="the commit to compare with")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        before = _run(_checkout(args.before, Path(scratch)))
    now = _run(None)   # this tree (the editable install)
    differing = [i for i, (a, b) in enumerate(zip(before, now)) if a != b]
    print(f"{len(now)} answers; {'same' if not differing and len(before) == len(now) else 'DIFFERENT'} "
          f"as {args.before}" + (f" (first at {differing[0]})" if differing else ""))
    return 1 if differing or len(before) != len(now) else 0


if __name__ == "__main__":
    sys.exit(main())
