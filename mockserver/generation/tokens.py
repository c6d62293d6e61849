"""A deterministic tokenizer close to the real average (about 4 characters of English per token).

The rule, applied left to right with one compiled regex:

* a run of letters is a word: words of up to 6 letters are one token; longer words are split into a first
  piece of 6 letters and then pieces of 4 (so "tokenization" = "tokeni" + "zati" + "on" = 3 tokens);
* each digit is one token (as in SentencePiece-style tokenizers that split numbers into digits);
* each CJK / kana / hangul character is one token;
* each other visible character (punctuation, symbols, emoji, `_`) is one token;
* a single whitespace character is free (it belongs to the next token); a run of two or more whitespace
  characters (indentation, blank lines) is one token.

`split_text` returns the pieces themselves, each piece one token with its leading whitespace attached, so
`"".join(split_text(t)) == t` and `count_text(prefix of k pieces) == k`. That is what truncation at
`maxOutputTokens` and stream chunking use.
"""
from __future__ import annotations

import re

_CJK = "\u2e80-\u9fff\u3040-\u30ff\uac00-\ud7af\uf900-\ufaff"
# Group 1: a word (letters only, CJK excluded); otherwise one token per match.
_TOKEN_RE = re.compile(rf"([^\W\d_{_CJK}]+)|[{_CJK}]|\d|\s{{2,}}|[^\w\s]|_")
_LONG_WORD_RE = re.compile(rf"[^\W\d_{_CJK}]{{7,}}")
# The same rule for pure-ASCII text, about twice as fast (most prompts and all generated text).
_ASCII_TOKEN_RE = re.compile(r"[A-Za-z]+|[^A-Za-z\s]|\s{2,}")
_ASCII_LONG_WORD_RE = re.compile(r"[A-Za-z]{7,}")

FIRST_PIECE = 6
NEXT_PIECE = 4


def _word_tokens(length: int) -> int:
    if length <= FIRST_PIECE:
        return 1
    return 1 + -(-(length - FIRST_PIECE) // NEXT_PIECE)


def count_text(text: str) -> int:
    """Number of tokens in `text` (see the module docstring for the rule)."""
    if not text:
        return 0
    if text.isascii():
        total = len(_ASCII_TOKEN_RE.findall(text))
        long_words = _ASCII_LONG_WORD_RE.findall(text)
    else:
        total = len(_TOKEN_RE.findall(text))
        long_words = _LONG_WORD_RE.findall(text)
    for word in long_words:
        total += _word_tokens(len(word)) - 1
    return total


def split_text(text: str, limit: int | None = None) -> list[str]:
    """`text` cut into one-token pieces; joining them gives `text` back exactly. With `limit`, only the first
    `limit` pieces (truncating a long answer costs what is kept, not the whole text)."""
    pieces: list[str] = []
    last = 0
    for match in _TOKEN_RE.finditer(text):
        if limit is not None and len(pieces) >= limit:
            return pieces[:limit]
        start, end = match.span()
        if match.group(1) is not None and end - start > FIRST_PIECE:
            cut = start + FIRST_PIECE
            pieces.append(text[last:cut])
            while cut < end:
                pieces.append(text[cut:min(cut + NEXT_PIECE, end)])
                cut += NEXT_PIECE
        else:
            pieces.append(text[last:end])
        last = end
    if last < len(text):  # a single trailing whitespace character
        if pieces:
            pieces[-1] += text[last:]
        else:
            pieces.append(text[last:])
    return pieces if limit is None else pieces[:limit]


def truncate_text(text: str, max_tokens: int) -> str:
    """The longest prefix of `text` with at most `max_tokens` tokens, cut at a token boundary."""
    if max_tokens <= 0:
        return ""
    if count_text(text) <= max_tokens:
        return text
    return "".join(split_text(text, max_tokens))


