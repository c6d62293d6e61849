"""`gemini-mock serve ...`: the standalone server.

Every option of `serve` and `record` is one row of a table (`SERVE_OPTIONS`, `RECORD_OPTIONS`): its flag,
type, default and help. Each can also be set with the environment variable `GEMINI_MOCK_<FLAG>` (for
`--state-dir`: `GEMINI_MOCK_STATE_DIR`); a flag on the command line wins over the environment. To add a
setting, add a row. Start-up failures (a bad value, a busy port, an unreadable file or directory) are one
line on stderr and exit status 2, never a traceback.
"""
from __future__ import annotations

import argparse
import logging
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Mapping, NoReturn

from . import installed_version

if TYPE_CHECKING:   # imported when a command needs them, so that --help stays quick
    import uvicorn
    from starlette.types import ASGIApp

    from .access import ControlAccess
    from .auth import KeyRing

ENV_PREFIX = "GEMINI_MOCK_"
USAGE_ERROR = 2


class StartupError(Exception):
    """A reason the server cannot start, said in one line."""


# ---------------------------------------------------------------------------------------------------
# Value types: each takes the text of a flag or an environment variable, raises ValueError with a reason

def port_number(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("a port is a number from 0 to 65535")
    return value


def integer(text: str) -> int:
    return int(text)


def boolean(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError("give true or false")


LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def log_level(text: str) -> str:
    if text.lower() not in LOG_LEVELS:
        raise ValueError(f"one of {', '.join(LOG_LEVELS)}")
    return text.lower()


def seconds(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError("a number of seconds above 0")
    return value


def text(value: str) -> str:
    if not value:
        raise ValueError("an empty value")
    return value


@dataclass(frozen=True)
class Option:
    """One command-line option, settable from the environment too."""

    flag: str                                  # "--state-dir"
    help: str
    type: Callable[[str], Any] = text
    default: Any = None
    shown_default: str | None = None           # how --help words the default (else the value itself)
    metavar: str | None = None
    required: bool = False                     # no default: the flag or its variable must be given
    switch: bool = False                       # a flag without a value (--quiet); the variable takes true/false
    repeatable: bool = False                   # may be given more than once; the variable takes a comma list

    @property
    def dest(self) -> str:
        return self.flag[2:].replace("-", "_")

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.dest.upper()


HOST = Option("--host", "address to bind; anything but loopback exposes the emulator to the network",
              default="127.0.0.1")
PORT = Option("--port", "port to bind; 0 picks a free one", type=port_number, default=8000)
LOG_LEVEL = Option("--log-level", f"uvicorn's log level ({', '.join(LOG_LEVELS)})", type=log_level,
                   default="warning")
QUIET = Option("--quiet", "no access-log line per request", switch=True, default=False)
LOG_BODIES = Option("--log-bodies", "add a one-line summary of the prompt and the answer to each access-log line "
                    "(keys redacted)", switch=True, default=False)

SERVE_OPTIONS: list[Option] = [
    HOST,
    PORT,
    Option("--seed", "seed of every generated answer and id", type=integer, default=0),
    Option("--state-dir", "keep the whole state in DIR across restarts (loaded at start; every "
           "acknowledged change is on disk before its answer)", metavar="DIR",
           shown_default="none: a temporary directory, removed at exit"),
    Option("--keys", "JSON or YAML file listing the accepted API keys", metavar="FILE",
           shown_default="none: any key is accepted"),
    Option("--replay", "answer from the cassettes in DIR (gemini-mock record) before emulating", metavar="DIR",
           shown_default="none"),
    Option("--read-timeout", "close a connection whose request headers take longer, and answer 408 to a body "
           "that pauses longer", type=seconds, metavar="SECONDS",
           shown_default="10 s for headers, 30 s between body pieces"),
    Option("--control-token", "token the control plane (/_mock/*) requires; generated and printed when the "
           "server binds a non-loopback address without one", metavar="TOKEN",
           shown_default="none on loopback"),
    Option("--allow-host", "another name clients reach the server by (Host header) for the control plane; "
           "repeatable", metavar="NAME", repeatable=True, default=(), shown_default="none"),
    Option("--recover", "start on a damaged --state-dir anyway, with what can be read (a warning names what "
           "was lost)", switch=True, default=False),
    LOG_LEVEL,
    QUIET,
    LOG_BODIES,
    Option("--realistic", "stream answers at a realistic pace (time to first token, tokens per second; "
           "config `stream`) instead of all at once", switch=True, default=False),
    Option("--retired-models", "what a model the real service has shut down does (by the emulator's clock): "
           "serve = keeps answering, with a warning; refuse = 404 as the real service answers",
           type=lambda value: _choice(value, ("serve", "refuse")), default="serve", metavar="{serve,refuse}"),
    Option("--catalog", "serve the models of this catalog file (gemini-mock catalog record) instead of the "
           "shipped one", metavar="FILE", shown_default="the shipped catalog"),
    Option("--tls", "serve HTTPS and WSS with a certificate from a local CA (made in --state-dir/tls, else a "
           "temporary directory); google-genai's Live API dials wss:// only", switch=True, default=False),
]


def _choice(value: str, choices: tuple[str, ...]) -> str:
    if value.lower() not in choices:
        raise ValueError(f"one of {', '.join(choices)}")
    return value.lower()


CATALOG_RECORD_OPTIONS: list[Option] = [
    Option("--api-key", "a Gemini API key: the models list is read with it", required=True, metavar="KEY"),
    Option("--out", "the catalog file to write", default="models.json", metavar="FILE"),
    Option("--upstream", "the API to read the models list from", default="https://generativelanguage.googleapis.com",
           metavar="URL"),
]

RECORD_OPTIONS: list[Option] = [
    Option("--upstream", "the API to forward to, e.g. https://generativelanguage.googleapis.com or another "
           "emulator", required=True, metavar="URL"),
    Option("--out", "where to write the cassettes", required=True, metavar="DIR"),
    HOST,
    PORT,
    LOG_LEVEL,
    QUIET,
]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit status 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_options(parser: argparse.ArgumentParser, options: list[Option],
                environ: Mapping[str, str] = os.environ) -> None:
    """One argument per option; its default comes from its environment variable when that is set."""
    for option in options:
        raw = environ.get(option.env)
        default = option.default
        if raw is not None:
            try:
                if option.repeatable:
                    default = [option.type(item.strip()) for item in raw.split(",") if item.strip()]
                else:
                    default = (boolean if option.switch else option.type)(raw)
            except ValueError as error:
                parser.error(f"environment variable {option.env}={raw!r}: {_reason(error)}")
        shown = option.shown_default if option.shown_default is not None else option.default
        source = f"{default!r} from {option.env}" if raw is not None else shown
        help_text = f"{option.help} (default: {source}; env {option.env})"
        if option.switch:
            parser.add_argument(option.flag, dest=option.dest, action="store_true", default=default,
                                help=help_text)
            continue
        if option.repeatable:   # argparse's append extends a list default (the variable's names)
            default = list(default or ())
        parser.add_argument(option.flag, dest=option.dest, type=_checked(option), default=default,
                            metavar=option.metavar, help=help_text,
                            action="append" if option.repeatable else "store",
                            required=option.required and raw is None)


def _checked(option: Option) -> Callable[[str], Any]:
    """The option's type, failing with argparse's one-line error that names the flag and the reason."""

    def convert(value: str) -> Any:
        try:
            return option.type(value)
        except ValueError as error:
            raise argparse.ArgumentTypeError(f"{value!r}: {_reason(error)}") from None

    return convert


def _reason(error: ValueError) -> str:
    message = str(error)
    return "not a number" if message.startswith("invalid literal for int()") else message


version = installed_version


def build_parser(environ: Mapping[str, str] = os.environ) -> argparse.ArgumentParser:
    parser = Parser(prog="gemini-mock", description="An offline emulator of the Gemini API.")
    parser.add_argument("--version", action="version", version=f"gemini-mock {version()}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    serve_parser = commands.add_parser("serve", help="run the emulator as an HTTP server",
                                       description="Run the emulator as an HTTP server. Every option can "
                                       "also be set with the environment variable named after it; a flag wins.")
    add_options(serve_parser, SERVE_OPTIONS, environ)
    record_parser = commands.add_parser("record", help="a proxy that records each interaction as a cassette")
    add_options(record_parser, RECORD_OPTIONS, environ)
    catalog_parser = commands.add_parser("catalog", help="the model catalog: record the real models list")
    catalog_commands = catalog_parser.add_subparsers(dest="catalog_command", required=True, parser_class=Parser)
    add_options(catalog_commands.add_parser("record", help="write the real models list (needs the network) "
                                            "into a catalog file for serve --catalog"), CATALOG_RECORD_OPTIONS, environ)
    drift_parser = commands.add_parser("drift", help="check cassettes against the recorded schemas")
    drift_parser.add_argument("dir", metavar="DIR", help="the cassette directory")
    return parser


# ---------------------------------------------------------------------------------------------------
# Sockets and URLs

def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except BaseException:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bind_or_explain(host: str, port: int) -> socket.socket:
    try:
        return bind(host, port)
    except socket.gaierror as error:
        raise StartupError(f"--host {host}: not an address of this machine ({error.strerror})") from None
    except OSError as error:
        import errno
        if error.errno == errno.EADDRINUSE:
            raise StartupError(f"--port {port}: {host}:{port} is already in use (try another port, "
                               "or --port 0 for a free one)") from None
        raise StartupError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def base_url(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def announcement(url: str) -> str:
    """What the server prints once it is listening: the first line is the one scripts look for."""
    return (f"gemini-mock listening on {url}\n"
            f"  dashboard: {url}/_mock/ui\n"
            f"  OpenAPI:   {url}/openapi.json\n"
            f"  Ctrl-C stops it")


# ---------------------------------------------------------------------------------------------------
# Commands

def _uvicorn_server(app: ASGIApp, url: str, lines: str, level: str, **options: Any) -> uvicorn.Server:
    import uvicorn

    class AnnouncingServer(uvicorn.Server):
        """Prints where it is once the socket is being served."""

        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            print(lines, flush=True)

    return AnnouncingServer(uvicorn.Config(app, log_level=level, access_log=False, **options))


def _run(server: uvicorn.Server, sock: socket.socket) -> None:
    """Serve until Ctrl-C or SIGTERM; uvicorn stops gracefully and re-raises the signal, which ends here."""
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        pass
    finally:
        sock.close()


def check_state_dir(path: str) -> None:
    if os.path.exists(path) and not os.path.isdir(path):
        raise StartupError(f"--state-dir {path}: not a directory")
    if os.path.isdir(path) and not os.access(path, os.R_OK | os.W_OK | os.X_OK):
        raise StartupError(f"--state-dir {path}: not readable and writable by this user")


def load_keys(path: str) -> KeyRing:
    from .auth import KeyRing, load_keys_file
    try:
        return KeyRing(load_keys_file(path))
    except OSError as error:
        raise StartupError(f"--keys {path}: {error.strerror or error}") from None
    except Exception as error:   # JSON / YAML syntax, or entries of the wrong shape
        reason = " ".join(str(error).split()) or type(error).__name__
        raise StartupError(f"--keys {path}: not a valid keys file: {reason}") from None


def check_catalog(path: str) -> str:
    from .resources.models import load_catalog
    try:
        load_catalog(path)
    except OSError as error:
        raise StartupError(f"--catalog {path}: {error.strerror or error}") from None
    except (ValueError, KeyError, TypeError) as error:
        raise StartupError(f"--catalog {path}: not a catalog file: {_one_line(error)}") from None
    return os.path.abspath(path)


def control_access(args: argparse.Namespace) -> ControlAccess:
    """The control plane's protection for this bind: a token when off loopback (generated if not given)."""
    from .access import ControlAccess, is_loopback

    token = args.control_token
    if token is None and not is_loopback(args.host):
        token = secrets.token_urlsafe(24)
    return ControlAccess.for_bind(args.host, token=token, extra_hosts=list(args.allow_host))


def _show_warnings() -> None:
    """The emulator's own warnings (what a --state-dir held that was damaged) go to stderr, one a line."""
    logger = logging.getLogger("gemini_mockserver")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("gemini-mock: %(levelname)s: %(message)s"))
        logger.addHandler(handler)


def serve(args: argparse.Namespace) -> int:
    keys = load_keys(args.keys) if args.keys else None
    if args.state_dir:
        check_state_dir(args.state_dir)
    if args.replay and not os.path.isdir(args.replay):
        raise StartupError(f"--replay {args.replay}: not a directory")
    from .app import create_app
    from .auth import KeyRing
    from .config import Config

    overrides: dict[str, Any] = {"seed": args.seed, "models": {"retired": args.retired_models}}
    if args.catalog:
        overrides["models"]["catalog"] = check_catalog(args.catalog)
    if args.read_timeout is not None:
        overrides["limits"] = {"headerSeconds": args.read_timeout, "bodyIdleSeconds": args.read_timeout}
    if args.realistic:
        from .pacing import REALISTIC
        overrides["stream"] = dict(REALISTIC)
    access = control_access(args)
    _show_warnings()
    sock = bind_or_explain(args.host, args.port)
    try:
        app = create_app(Config(overrides), keys=keys or KeyRing(), state_dir=args.state_dir,
                         replay=args.replay, access=access, recover=args.recover)
    except BaseException as error:
        sock.close()
        if isinstance(error, (OSError, RuntimeError, ValueError)):
            where = f"--state-dir {args.state_dir}: " if args.state_dir else ""
            raise StartupError(f"{where}{_one_line(error)}") from None
        raise
    url = base_url(sock)
    tls_options: dict[str, Any] = {}
    lines = announcement(url)
    if args.tls:
        url, tls_options, lines = _tls(args, url)
    if access.token is not None and args.control_token is None:   # generated: the user needs to see it
        print(f"gemini-mock control token: {access.token}  (dashboard: {url}/_mock/ui?token={access.token})",
              flush=True)
    served: ASGIApp = app
    if not args.quiet:
        from .access_log import AccessLog
        served = AccessLog(app, bodies=args.log_bodies)
    try:
        from .direct_answers import uvicorn_options
        _run(_uvicorn_server(served, url, lines, args.log_level, **uvicorn_options(served), **tls_options), sock)
    finally:
        app.state.store.close()
    return 0


def _tls(args: argparse.Namespace, url: str) -> tuple[str, dict[str, Any], str]:
    """(https URL, uvicorn's TLS options, the start-up lines) for `--tls`."""
    import tempfile

    from . import tls

    where = os.path.join(args.state_dir, "tls") if args.state_dir else tempfile.mkdtemp(prefix="gemini-mock-tls-")
    files = tls.ensure(where)
    url = "https://" + url.removeprefix("http://")
    lines = (announcement(url) + f"\n  TLS: trust the CA {files.ca}; for google-genai (Live API included) set "
             f"SSL_CERT_FILE={files.bundle}")
    return url, {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}, lines


def _one_line(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return f"{error.strerror}: {error.filename}" if error.filename else error.strerror
    return " ".join(str(error).split()) or type(error).__name__


def record(args: argparse.Namespace) -> int:
    from .cassettes import create_recorder

    app: ASGIApp = create_recorder(args.upstream, args.out)
    sock = bind_or_explain(args.host, args.port)
    url = base_url(sock)
    if not args.quiet:
        from .access_log import AccessLog
        app = AccessLog(app)
    lines = f"gemini-mock recording {args.upstream} into {args.out}\ngemini-mock listening on {url}"
    _run(_uvicorn_server(app, url, lines, args.log_level), sock)
    return 0


def drift(args: argparse.Namespace) -> int:
    from .drift import drift as check, drift_report

    findings = check(args.dir)
    print(drift_report(findings))
    return 1 if any(f.drifted for f in findings) else 0


def catalog(args: argparse.Namespace) -> int:
    from .catalog_record import RecordError, record_catalog
    from .clock import Clock

    try:
        record_catalog(args.api_key, args.out, args.upstream, recorded_at=Clock().now_dt().date().isoformat())
    except (RecordError, OSError) as error:
        raise StartupError(f"catalog record: {_one_line(error) if isinstance(error, OSError) else error}") from None
    return 0


COMMANDS = {"serve": serve, "record": record, "drift": drift, "catalog": catalog}


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        return COMMANDS[args.command](args)
    except StartupError as error:
        print(f"gemini-mock: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:   # Ctrl-C before the server took over the signal
        return 130


if __name__ == "__main__":
    sys.exit(main())
