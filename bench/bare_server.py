"""The baseline: a bare Starlette JSON endpoint on the same uvicorn set-up as the emulator."""
import sys

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

sys.path.insert(0, __file__.rsplit("/", 2)[0])
from mockserver.cli import AnnouncingServer, base_url, bind  # noqa: E402


async def answer(request: Request) -> JSONResponse:
    body = await request.json()
    text = body["contents"][0]["parts"][0]["text"]
    return JSONResponse({"candidates": [{"content": {"role": "model", "parts": [{"text": text}]}}]})


async def stream(request: Request) -> JSONResponse:
    return await answer(request)


app = Starlette(routes=[Route("/{path:path}", answer, methods=["POST"])])

if __name__ == "__main__":
    sock = bind("127.0.0.1", 0)
    AnnouncingServer(uvicorn.Config(app, log_level="warning", access_log=False), base_url(sock)).run(sockets=[sock])
