"""The baseline: a bare Starlette JSON endpoint on the same uvicorn set-up as the emulator (httptools,
uvloop, one process, access log off), announcing its URL the same way. It imports nothing of the
emulator, so start-up and per-request costs are Starlette's and uvicorn's alone."""
import socket

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


async def answer(request: Request) -> JSONResponse:
    body = await request.json()
    text = body["contents"][0]["parts"][0]["text"]
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
