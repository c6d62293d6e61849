"""Readable, deterministic pseudo-text: English-looking sentences from a small built-in vocabulary.

Every choice comes from the `random.Random` passed in, so the text is a pure function of its seed. The
first sentence mentions up to three keywords taken from the prompt, so different prompts give visibly
different answers ("Regarding Paris and weather, the quiet system ...").
"""
from __future__ import annotations

import random
import re

from typing import Literal

from .tokens import count_text

ADJECTIVES = (
    "quiet", "simple", "careful", "bright", "steady", "clear", "useful", "gentle", "modern", "small", "large",
    "early", "common", "practical", "curious", "patient", "thorough", "balanced", "familiar", "open", "remote",
    "local", "formal", "quick", "broad", "narrow", "fresh", "solid", "subtle", "recent",
)
NOUNS = (
    "system", "garden", "river", "model", "answer", "library", "window", "journey", "pattern", "signal",
    "market", "teacher", "project", "method", "question", "village", "process", "result", "story", "record",
    "engine", "network", "season", "machine", "harbor", "detail", "example", "reader", "mountain", "lesson",
    "design", "letter", "bridge", "planet", "picture", "surface", "theory", "request", "table", "team",
)
VERBS = (
    "supports", "describes", "follows", "shapes", "improves", "explains", "reaches", "connects", "changes",
    "reveals", "measures", "guides", "balances", "carries", "creates", "records", "includes", "tracks",
    "reflects", "shows", "needs", "finds", "builds", "keeps", "moves", "uses", "helps", "offers",
)
ADVERBS = (
    "usually", "often", "carefully", "quickly", "rarely", "quietly", "clearly", "simply", "gradually", "mostly",
    "generally", "naturally", "slowly", "certainly",
)
PREPOSITIONS = ("near", "around", "beyond", "within", "across", "along", "behind", "under", "over", "beside")
CONNECTORS = ("In short", "For example", "As a result", "In practice", "Overall", "Meanwhile", "However",
              "In most cases", "At the same time", "Still")

# Sentence shapes: A adjective, N noun, V verb, D adverb, P preposition, C connector.
_SHAPE_TEXTS = (
    "The A N V the N P a A N.",
    "a A N D V the N.",
    "C, the N V a A N P the N.",
    "Each N V the A N, and the N V it D.",
    "The N D V a N P the A N.",
    "C, every A N V the N.",
    "When the N V the N, a A N V P the N.",
)
_KEYWORD_SHAPE_TEXTS = (
    "Regarding K, the A N V the N P a A N.",
    "Here is a short note about K: the N D V a A N.",
    "When it comes to K, a A N V the N.",
    "K is a A N that V the N P the N.",
)
_THOUGHT_SHAPE_TEXTS = (
    "I am considering how the N V the A N.",
    "I need to check whether the N V a N P the N.",
    "Next, I will outline the A N and the N.",
    "I should make sure the answer V the A N.",
)

STOPWORDS = frozenset("""
a about above after again against all also an and any are around as at be because been before being
below between both but by can could did do does doing done down during each few for from further had has
have having he her here hers him his how i if in into is it its itself just like make me more most my
no nor not now of off on once only or other our ours out over own please same she should so some such
tell than that the their them then there these they this those through to too under until up very was
we were what when where which while who whom why will with would write you your yours give explain
describe list show using use want need help know think shall might must each every many much into onto
upon within without yes okay thanks thank hello hi hey sure
""".split())

_ARTICLE_RE = re.compile(r"\b([Aa]) ([aeiouAEIOU])")
_WORD_RE = re.compile(r"[^\W\d_][\w'-]{2,}")


def keywords(text: str, limit: int = 3) -> list[str]:
    """Up to `limit` distinct content words of `text` (at least 4 letters, not stopwords), in order."""
    found: list[str] = []
    seen: set[str] = set()
    for match in _WORD_RE.finditer(text):   # stops at the limit: a long prompt is not split whole
        word = match.group()
        lowered = word.lower()
        if len(word) < 4 or lowered in STOPWORDS or lowered in seen:
            continue
        seen.add(lowered)
        found.append(word.strip("'-"))
        if len(found) == limit:
            break
    return found


def _join_keywords(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " and " + words[-1]


_SLOTS = {"A": ADJECTIVES, "N": NOUNS, "V": VERBS, "D": ADVERBS, "P": PREPOSITIONS, "C": CONNECTORS}
# Token counts of every vocabulary word, so composing text needs no tokenizer pass.
_WORD_TOKENS = {word: count_text(word) for pool in _SLOTS.values() for word in pool}


# A shape's word: (pool, tail) for a slot ("K" for the keywords), (None, literal) for fixed text.
_Item = tuple[tuple[str, ...] | Literal["K"] | None, str]
_Shape = tuple[tuple[_Item, ...], int]   # the items and the tokens of the fixed text


def _parse(shape: str) -> _Shape:
    """A shape as ((pool, tail) | (None, literal)) items plus the tokens of its fixed text, parsed once."""
    items: list[_Item] = []
    fixed_tokens = 0
    for token in shape.split(" "):
        head, tail = token[:1], token[1:]
        if (head in _SLOTS or head == "K") and (not tail or not tail[0].isalpha()):
            items.append((_SLOTS.get(head, "K"), tail))
            fixed_tokens += count_text(tail)
        else:
            items.append((None, token))
            fixed_tokens += count_text(token)
    return tuple(items), fixed_tokens


_SHAPES = tuple(_parse(s) for s in _SHAPE_TEXTS)
_KEYWORD_SHAPES = tuple(_parse(s) for s in _KEYWORD_SHAPE_TEXTS)
_THOUGHT_SHAPES = tuple(_parse(s) for s in _THOUGHT_SHAPE_TEXTS)


def _fill(shape: _Shape, rng: random.Random, keyword_text: str = "", keyword_tokens: int = 0) -> tuple[str, int]:
    """One sentence from a parsed shape, and its token count."""
    items, tokens = shape
    choice = rng.choice
    out = []
    for pool, text in items:
        if pool is None:
            out.append(text)
        elif pool == "K":
            out.append(keyword_text + text)
            tokens += keyword_tokens
        else:
            word = choice(pool)
            out.append(word + text)
            tokens += _WORD_TOKENS[word]
    # "a early" -> "an early", and a capital first letter: neither changes the token count.
    sentence = " ".join(out)
    if "a " in sentence or "A " in sentence:   # the substitution costs ~10 us even where nothing matches
        sentence = _ARTICLE_RE.sub(r"\1n \2", sentence)
    return sentence[0].upper() + sentence[1:], tokens


def sentence(rng: random.Random) -> str:
    return _fill(rng.choice(_SHAPES), rng)[0]


# Sentences after the first come from a fixed bank built once at import: picking one costs a single
# random draw instead of a draw per word, which keeps generation cheap on the request path.
_BANK_BITS = 12


def _bank(shapes: tuple[_Shape, ...]) -> tuple[tuple[str, int], ...]:
    rng = random.Random(0x5EED)
    return tuple(_fill(rng.choice(shapes), rng) for _ in range(1 << _BANK_BITS))


_SENTENCE_BANK = _bank(_SHAPES)
_THOUGHT_BANK = _bank(_THOUGHT_SHAPES)


def compose(rng: random.Random, n_tokens: int, keywords: list[str] | tuple[str, ...] = (),
            *, thoughts: bool = False) -> tuple[str, int]:
    """`pseudo_text` and its exact token count (`count_text` of the result), computed while composing."""
    bank = _THOUGHT_BANK if thoughts else _SENTENCE_BANK
    draw = rng.getrandbits
    if keywords:
        keyword_text = _join_keywords(list(keywords))
        first, total = _fill(rng.choice(_KEYWORD_SHAPES), rng, keyword_text, count_text(keyword_text))
    else:
        first, total = bank[draw(_BANK_BITS)]
    parts = [first]
    in_paragraph = 1
    paragraph_length = 3 + draw(8) % 3
    while total < n_tokens:
        if in_paragraph >= paragraph_length:
            parts.append("\n\n")  # a blank line: one token
            total += 1
            in_paragraph = 0
            paragraph_length = 3 + draw(8) % 3
        else:
            parts.append(" ")  # a single space is free
        text, tokens = bank[draw(_BANK_BITS)]
        parts.append(text)
        total += tokens
        in_paragraph += 1
    return "".join(parts), total


def pseudo_text(rng: random.Random, n_tokens: int, keywords: list[str] | tuple[str, ...] = (),
                *, thoughts: bool = False) -> str:
    """Whole sentences totalling at least `n_tokens` tokens (stops at the first sentence end past it).

    The first sentence mentions `keywords`; paragraphs of 3-5 sentences are separated by a blank line.
    """
    return compose(rng, n_tokens, keywords, thoughts=thoughts)[0]


def pseudo_thoughts(rng: random.Random, n_tokens: int, keywords: list[str] | tuple[str, ...] = ()) -> str:
    """A thought summary: a bold heading and a few first-person sentences."""
    return compose_thoughts(rng, n_tokens, keywords)[0]


def compose_thoughts(rng: random.Random, n_tokens: int, keywords: list[str] | tuple[str, ...] = ()) -> tuple[str, int]:
    """`pseudo_thoughts` and its token count."""
    topic = _join_keywords(list(keywords)) if keywords else rng.choice(NOUNS)
    heading = f"**Thinking about {topic}**\n\n"
    heading_tokens = count_text(heading)
    body, tokens = compose(rng, max(1, n_tokens - heading_tokens), thoughts=True)
    return heading + body, heading_tokens + tokens


def pseudo_words(rng: random.Random, count: int) -> str:
    """`count` lower-case words, for short strings inside structured output."""
    pools = (ADJECTIVES, NOUNS)
    return " ".join(rng.choice(pools[i % 2 if count > 1 else 1]) for i in range(count))
