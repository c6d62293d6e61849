"""`make bench`: every benchmark in bench/, one after the other, each printing its own table."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["generate.py", "upload.py", "batches.py", "fixtures.py"]


def main() -> int:
    failed = 0
    for name in BENCHMARKS:
        path = HERE / name
        if not path.exists():
            continue
        print(f"\n== {name} ==", flush=True)
        failed |= subprocess.run([sys.executable, str(path)], cwd=HERE).returncode
    return failed


if __name__ == "__main__":
    sys.exit(main())
