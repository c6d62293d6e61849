"""Where things are, for tests in any group: the repository, the suite, its node project and its data."""
from __future__ import annotations

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
JS_DIR = TESTS / "js"          # the @google/genai tests (`node --test`) and their package.json
DATA = TESTS / "data"
AUDIO_FIXTURES = ROOT / "fixtures" / "audio"
