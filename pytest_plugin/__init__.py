"""pytest plugin for gemini-mockserver: fixtures that put an emulated Gemini API in every test.

* `gemini_mockserver.pytest_plugin.plugin`: the `gemini_server` and `gemini_mock` fixtures and the `gemini` marker
  (loaded by pytest through the package's `pytest11` entry point)
* `gemini_mockserver.pytest_plugin.server`: `LiveServer`, the emulator (or any ASGI app) on a free loopback port
* `gemini_mockserver.pytest_plugin.contract`: assertions against the recorded schemas
* `gemini_mockserver.pytest_plugin.strategies`: hypothesis strategies for valid request bodies
"""
