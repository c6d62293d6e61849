"""gemini-mockserver: an offline, stateful, deterministic emulator of the Gemini API."""

__version__ = "0.1.0"


def installed_version() -> str:
    """The installed distribution's version, or `__version__` when running from a source tree."""
    try:
        from importlib.metadata import version as installed
        return installed("gemini-mockserver")
    except Exception:   # running from a source tree that is not installed
        return __version__
