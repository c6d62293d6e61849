"""Where the data the emulator ships lives: inside the installed package, read with importlib.resources.

The source tree keeps `fixtures/` and `schemas/` at its top; pyproject.toml installs them as the
subpackages `gemini_mockserver.fixtures` and `gemini_mockserver.schemas`, so an editable install, a wheel
and an sdist all find them the same way. Installed packages live on the file system, so these are paths.
"""
from importlib.resources import files
from pathlib import Path

FIXTURES = Path(str(files("gemini_mockserver.fixtures")))
SCHEMAS = Path(str(files("gemini_mockserver.schemas")))
