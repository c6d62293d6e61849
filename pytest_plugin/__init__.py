"""pytest plugin for gemini-mockserver: fixtures that put an emulated Gemini API in every test."""
