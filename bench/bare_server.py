"""The baselines: bare Starlette endpoints on the same uvicorn set-up as the emulator (httptools, uvloop, one
process, access log off), announcing their URL the same way. It imports nothing of the emulator, so
start-up and per-request costs are Starlette's and uvicorn's alone.

* any POST: parse the JSON body, answer a small JSON object built from it;
* a POST whose path holds `streamGenerateContent`: parse the body and stream the same kind of answer as
  ten SSE events (`data: <json>\\r\\n\\r\\n`, one send each), as a plain Starlette streaming endpoint does."""
import json
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

SSE_EVENTS = 10


async def answer(request: Request) -> Response:
    body = await request.json()
    text = body["contents"][0]["parts"][0]["text"]
    if "streamGenerateContent" in request.url.path:
        async def events():
            for n in range(SSE_EVENTS):
                chunk = {"candidates": [{"content": {"role": "model", "parts": [{"text": f"{text} {n}"}]},
                                         "index": 0}],
                         "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 10 + n}}
                yield b"data: " + json.dumps(chunk).encode() + b"\r\n\r\n"
        return StreamingResponse(events(), media_type="text/event-stream")
    return JSONResponse({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]})


app = Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])


class Announcing(uvicorn.Server):
    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        host, port = sockets[0].getsockname()[:2]
        print(f"bare listening on http://{host}:{port}", flush=True)


if __name__ == "__main__":
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(2048)
    Announcing(uvicorn.Config(app, log_level="warning", access_log=False)).run(sockets=[sock])
