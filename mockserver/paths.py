"""Where the data the emulator ships lives (the repository's fixtures/ and schemas/)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
SCHEMAS = ROOT / "schemas"
