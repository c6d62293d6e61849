"""Server start-up: from launching the process to its "listening" line, for the emulator and for a bare
Starlette app on the same uvicorn set-up, measured in the same run (best of five each). Goal: <= 1 s."""
from __future__ import annotations

import time

from common import report, server_process, table


def started_in(args: list[str]) -> float:
    begin = time.perf_counter()
    with server_process(args):
        return time.perf_counter() - begin


def main() -> None:
    emulator = min(started_in(["-m", "gemini_mockserver", "serve", "--port", "0", "--quiet"]) for _ in range(5))
    bare = min(started_in(["bench/bare_server.py"]) for _ in range(5))
    print(__doc__.strip())
    print(table([["gemini-mock serve", f"{emulator:.2f}"], ["bare Starlette", f"{bare:.2f}"]],
                ["server", "seconds to listening"]))
    report("start-up", "seconds to the listening line", round(emulator, 2), "s", goal="<= 1", met=emulator <= 1,
           baseline=f"bare Starlette {bare:.2f} s")


if __name__ == "__main__":
    main()
