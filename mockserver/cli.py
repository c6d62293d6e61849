"""`gemini-mock serve ...`: the standalone server."""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import sys

import uvicorn

from .access import ControlAccess, is_loopback
from .app import create_app
from .auth import KeyRing, load_keys_file
from .config import Config
from .persistence import StateDirError


CONTROL_TOKEN_ENV = "GEMINI_MOCK_CONTROL_TOKEN"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gemini-mock", description="An offline emulator of the Gemini API.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the emulator as an HTTP server")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    serve.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one")
    serve.add_argument("--seed", type=int, default=0, help="seed of every generated answer and id")
    serve.add_argument("--state-dir", default=None, metavar="DIR",
                       help="keep the whole state in DIR across restarts (loaded at start; every "
                            "acknowledged change is on disk before its answer)")
    serve.add_argument("--keys", default=None, help="JSON or YAML file listing the accepted API keys")
    serve.add_argument("--log-level", default="warning")
    serve.add_argument("--replay", default=None, metavar="DIR",
                       help="answer from the cassettes in DIR (gemini-mock record) before emulating")
    serve.add_argument("--control-token", default=os.environ.get(CONTROL_TOKEN_ENV) or None, metavar="TOKEN",
                       help=f"token the control plane (/_mock/*) requires (env {CONTROL_TOKEN_ENV}); "
                            f"generated and printed when the server binds a non-loopback address without one")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME",
                       help="another name clients reach the server by (Host header) for the control plane; "
                            "repeatable")
    serve.add_argument("--recover", action="store_true",
                       help="start on a damaged --state-dir anyway, with what can be read (a warning names "
                            "what was lost)")
    record = commands.add_parser("record", help="a proxy that records each interaction as a cassette")
    record.add_argument("--upstream", required=True, help="the API to forward to, e.g. "
                        "https://generativelanguage.googleapis.com or another emulator")
    record.add_argument("--out", required=True, metavar="DIR", help="where to write the cassettes")
    record.add_argument("--host", default="127.0.0.1", help="address to bind (default: loopback only)")
    record.add_argument("--port", type=int, default=8000, help="port to bind; 0 picks a free one")
    record.add_argument("--log-level", default="warning")
    drift = commands.add_parser("drift", help="check cassettes against the recorded schemas")
    drift.add_argument("dir", metavar="DIR", help="the cassette directory")
    return parser


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class AnnouncingServer(uvicorn.Server):
    """Prints the one line with the base URL once the socket is being served."""

    def __init__(self, config: uvicorn.Config, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets=None) -> None:
        await super().startup(sockets=sockets)
        print(f"gemini-mock listening on {self.url}", flush=True)


def control_access(args: argparse.Namespace) -> ControlAccess:
    """The control plane's protection for this bind: a token when off loopback (generated if not given)."""
    token = args.control_token
    if token is None and not is_loopback(args.host):
        token = secrets.token_urlsafe(24)
    return ControlAccess.for_bind(args.host, token=token, extra_hosts=args.allow_host)


def _show_warnings() -> None:
    """The emulator's own warnings (what a --state-dir held that was damaged) go to stderr, one a line."""
    logger = logging.getLogger("gemini_mockserver")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("gemini-mock: %(levelname)s: %(message)s"))
        logger.addHandler(handler)


def serve(args: argparse.Namespace) -> int:
    keys = KeyRing(load_keys_file(args.keys)) if args.keys else KeyRing()
    access = control_access(args)
    _show_warnings()
    try:
        app = create_app(Config({"seed": args.seed}), keys=keys, state_dir=args.state_dir, replay=args.replay,
                         access=access, recover=args.recover)
    except StateDirError as error:
        print(f"gemini-mock: {error}", file=sys.stderr, flush=True)
        return 2
    sock = bind(args.host, args.port)
    url = base_url(sock)
    if access.token is not None and args.control_token is None:   # generated: the user needs to see it
        print(f"gemini-mock control token: {access.token}  (dashboard: {url}/_mock/ui?token={access.token})",
              flush=True)
    server = AnnouncingServer(uvicorn.Config(app, log_level=args.log_level, access_log=False), url)
    try:
        server.run(sockets=[sock])
    finally:
        app.state.store.close()
    return 0


def record(args: argparse.Namespace) -> int:
    from .recording import create_recorder

    app = create_recorder(args.upstream, args.out)
    sock = bind(args.host, args.port)
    url = base_url(sock)
    server = AnnouncingServer(uvicorn.Config(app, log_level=args.log_level, access_log=False), url)
    print(f"gemini-mock recording {args.upstream} into {args.out}", flush=True)
    server.run(sockets=[sock])
    return 0


def drift(args: argparse.Namespace) -> int:
    from .recording import drift as check, drift_report

    findings = check(args.dir)
    print(drift_report(findings))
    return 1 if any(f.drifted for f in findings) else 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        return serve(args)
    if args.command == "record":
        return record(args)
    if args.command == "drift":
        return drift(args)
    return 2


if __name__ == "__main__":
    sys.exit(main())
