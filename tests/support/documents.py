"""Prompt documents of an exact size, for tests that count tokens, fill caches or spend quotas."""
from __future__ import annotations

from gemini_mockserver.generation.tokens import count_text

WORDS = "the quick brown fox jumps over a lazy dog near our old barn".split()


def document(tokens: int, topic: str = "ocean") -> str:
    """Text of exactly `tokens` tokens (short words are one token each) starting with `topic`."""
    text = " ".join([topic] + [WORDS[i % len(WORDS)] for i in range(tokens - 1)])
    assert count_text(text) == tokens
    return text
