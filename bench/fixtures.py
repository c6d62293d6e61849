"""Fixture overhead: 1,000 tests of the same application function, driven through the `gemini_mock`
fixture (a real google-genai client against the live emulator) and written with `unittest.mock`
patches instead, run in the same session of this script, each suite in its own pytest process.

The application function builds its client itself, as application code does:

    def summarise(text):
        return genai.Client().models.generate_content(model=MODEL, contents=text).text

Suites (all 1,000 tests):

* empty          `assert True`: pytest's own cost per test, the floor
* mock Client    `mock.patch("app.genai.Client")`: no client is built at all
* mock method    `mock.patch.object(Models, "generate_content")`: the real client is built (with its
                 TLS setup), only the call is patched
* gemini_mock    the plugin: a real client, a real HTTP round trip to the emulator, a fresh project
* gemini_mock, slow clients   the same with the plugin's shared TLS context turned off
                 (`-o gemini_mock_fast_clients=false`): what every genai.Client() costs by default

Run: python bench/fixtures.py [--tests N]
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from common import report, table  # noqa: E402

# A model the emulator still serves as current: gemini-2.5-flash (in the figures before 2026-12-06) is past
# its shutdown date on the emulator's clock, so each call also raised RetiredModelWarning, which pytest
# records per test (generate.py made the same move).
APP = '''
from google import genai

MODEL = "gemini-2.5-flash-lite"


def summarise(text):
    client = genai.Client()
    return client.models.generate_content(model=MODEL, contents=text).text
'''

SUITES = {
    "empty": '''
import pytest

@pytest.mark.parametrize("n", range({n}))
def test_summary(n):
    assert f"episode {{n}}"
''',
    "mock Client": '''
from unittest import mock
import pytest
import app

@pytest.mark.parametrize("n", range({n}))
def test_summary(n):
    with mock.patch("app.genai.Client") as client:
        client.return_value.models.generate_content.return_value.text = f"summary {{n}}"
        assert app.summarise(f"episode {{n}}") == f"summary {{n}}"
''',
    "mock method": '''
from unittest import mock
import pytest
from google.genai import models, types
import app

@pytest.mark.parametrize("n", range({n}))
def test_summary(n, monkeypatch):
    monkeypatch.setenv("GEMINI_API_KEY", "test-key")
    reply = types.GenerateContentResponse(candidates=[types.Candidate(
        content=types.Content(role="model", parts=[types.Part(text=f"summary {{n}}")]))])
    with mock.patch.object(models.Models, "generate_content", return_value=reply):
        assert app.summarise(f"episode {{n}}") == f"summary {{n}}"
''',
    "gemini_mock": '''
import pytest
import app

@pytest.mark.parametrize("n", range({n}))
def test_summary(n, gemini_mock):
    assert app.summarise(f"episode {{n}}")
''',
}
RUNS = [("empty", "empty", []), ("mock Client", "mock Client", []), ("mock method", "mock method", []),
        ("gemini_mock", "gemini_mock", []),
        ("gemini_mock, slow clients", "gemini_mock", ["-o", "gemini_mock_fast_clients=false"])]


def run(directory: Path, name: str, extra: list[str]) -> tuple[float, float, int]:
    """(wall seconds, pytest's own seconds, tests passed) of one suite in its own process."""
    file = directory / f"test_{re.sub(r'[^a-z]+', '_', name.lower())}.py"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GEMINI_", "GOOGLE_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(directory), str(ROOT)])
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
                             *extra, file.name], cwd=directory, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    tail = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr[-400:]
    passed = re.search(r"(\d+) passed", tail)
    seconds = re.search(r"in ([\d.]+)s", tail)
    if result.returncode != 0 or not passed:
        raise RuntimeError(f"{name} failed:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}")
    return wall, float(seconds.group(1)), int(passed.group(1))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=1000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-fixtures-") as tmp:
        directory = Path(tmp)
        (directory / "app.py").write_text(textwrap.dedent(APP))
        for name, source in SUITES.items():
            path = directory / f"test_{re.sub(r'[^a-z]+', '_', name.lower())}.py"
            path.write_text(source.format(n=args.tests))
        results = {}
        for label, suite, extra in RUNS:
            results[label] = run(directory, suite, extra)
            print(f"  ran {label}: {results[label][1]:.2f} s", flush=True)
    n = args.tests
    floor = results["empty"][1] / n
    reference = results["mock method"][1] / n
    cheapest = results["mock Client"][1] / n
    rows = []
    for label, (wall, seconds, passed) in results.items():
        per = seconds / passed
        rows.append([label, passed, f"{seconds:.2f}", f"{wall:.2f}", f"{per * 1000:.2f}",
                     f"{(per - floor) * 1000:.2f}", f"{(per - reference) * 1000:+.2f}",
                     f"{(per - cheapest) * 1000:+.2f}"])
    print(table(rows, ["suite", "tests", "pytest s", "wall s", "ms/test", "ms over empty",
                       "vs mock method", "vs mock Client"]))
    plugin = results["gemini_mock"][1] / n
    print(f"\ngemini_mock costs {(plugin - reference) * 1000:+.2f} ms a test against the method-patched suite "
          f"(goal: at most +2 ms) and {(plugin - cheapest) * 1000:+.2f} ms against patching genai.Client away.")
    for label, baseline in (("unittest.mock on generate_content", reference), ("unittest.mock on genai.Client", cheapest)):
        extra = (plugin - baseline) * 1000
        report("fixture, 1,000 tests", f"ms a test over {label}", round(extra, 2), "ms", goal="<= 2",
               met=extra <= 2, baseline=f"{baseline * 1000:.2f} ms a test with the mock, {plugin * 1000:.2f} with the plugin")
    return 0


if __name__ == "__main__":
    sys.exit(main())
