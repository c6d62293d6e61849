"""`make bench`: every benchmark in bench/, one after the other, each printing its own table, then one
summary table of the headline figures, each measured against its baseline in the same run.

    python bench/run.py [name ...]      # e.g. `python bench/run.py generate startup` runs just those
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from common import table

HERE = Path(__file__).resolve().parent
BENCHMARKS = ["generate.py", "fixtures.py", "upload.py", "batches.py", "startup.py", "fuzz.py", "load.py"]


def main(selected: list[str]) -> int:
    failed = 0
    with tempfile.NamedTemporaryFile(suffix=".jsonl", delete=False) as handle:
        report_path = handle.name
    try:
        for name in BENCHMARKS:
            path = HERE / name
            if not path.exists() or (selected and path.stem not in selected):
                continue
            print(f"\n== {name} ==", flush=True)
            failed |= subprocess.run([sys.executable, str(path)], cwd=HERE,
                                     env={**os.environ, "BENCH_REPORT": report_path}).returncode
        rows = []
        for line in Path(report_path).read_text().splitlines():
            item = json.loads(line)
            verdict = "" if item["met"] is None else ("met" if item["met"] else "MISSED")
            rows.append([item["benchmark"], item["figure"], f"{item['value']} {item['unit']}", item["goal"],
                         verdict, item["baseline"]])
    finally:
        os.unlink(report_path)
    print("\n== summary ==")
    print(table(rows, ["benchmark", "figure", "measured", "goal", "", "baseline (same run)"]))
    return failed


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
