"""Podcast notes: a small application that calls the Gemini API (see app.py)."""
