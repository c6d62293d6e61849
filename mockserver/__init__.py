"""gemini-mockserver: an offline, stateful, deterministic emulator of the Gemini API."""

__version__ = "0.1.0"
