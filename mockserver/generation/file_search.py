"""File Search, the deterministic part: chunking, custom-metadata filters, ranking and the grounded answer.

No store access here (resources/file_search_stores.py owns the stores and documents); everything is a pure
function of its arguments.

* Chunking follows `chunkingConfig.whiteSpaceConfig`: a chunk is `maxTokensPerChunk` white-space separated
  tokens, and the next one starts `maxOverlapTokens` tokens before it ended. The service does not publish
  its defaults; the emulator's are DEFAULT_CHUNK_TOKENS and DEFAULT_OVERLAP_TOKENS.
* Ranking: the query and every chunk are embedded with the store's embedding model (embeddings.py, task
  types RETRIEVAL_QUERY and RETRIEVAL_DOCUMENT, at RANK_DIMENSIONS); chunks are ranked by cosine similarity,
  ties by document and position.
* `metadataFilter` is the list-filter syntax (https://google.aip.dev/160) the File Search page shows, e.g.
  `author = "Robert Graves" AND year > 1930`: comparisons `=`, `!=`, `<`, `<=`, `>`, `>=` of a key with a
  string or a number, joined by AND / OR (AND binds tighter), NOT, and parentheses. A string-list value
  matches `=` when the list holds the string.
* The answer: its sentences are the opening sentences of the best chunks, each a groundingSupport whose
  segment (UTF-8 byte offsets, as grounding.py writes them) cites its chunk.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable

from ..errors import ApiError, invalid_argument
from . import grounding
from .tokens import count_text

DEFAULT_CHUNK_TOKENS = 256
DEFAULT_OVERLAP_TOKENS = 32
DEFAULT_TOP_K = 5
MAX_TOP_K = 100
ANSWER_CHUNKS = 3            # the answer quotes the openings of this many of the best chunks
SENTENCE_WORDS = 60          # and at most this many words of each
# Ranking embeds with the store's model at this many dimensions: the engine's construction (the model's own
# per-word vectors) at a twelfth of gemini-embedding-001's 3072. Measured: a 1 MB text document (508 chunks)
# indexes in about 0.8 s instead of 11 s at full width.
RANK_DIMENSIONS = 256

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


# -- chunking ---------------------------------------------------------------------------------------------

def check_chunking(config: Any, where: str = "chunkingConfig") -> tuple[int, int]:
    """(max tokens per chunk, overlap tokens) of a chunkingConfig; 400s naming the field."""
    if config is None:
        return DEFAULT_CHUNK_TOKENS, DEFAULT_OVERLAP_TOKENS
    if not isinstance(config, dict):
        raise invalid_argument(f"{where} must be an object.", where)
    unknown = set(config) - {"whiteSpaceConfig", "white_space_config"}
    if unknown:
        raise invalid_argument(f"Unknown field '{where}.{sorted(unknown)[0]}'.", f"{where}.{sorted(unknown)[0]}")
    white = config.get("whiteSpaceConfig", config.get("white_space_config")) or {}
    if not isinstance(white, dict):
        raise invalid_argument(f"{where}.whiteSpaceConfig must be an object.", f"{where}.whiteSpaceConfig")
    size = _count(white, ("maxTokensPerChunk", "max_tokens_per_chunk"), f"{where}.whiteSpaceConfig.maxTokensPerChunk",
                  DEFAULT_CHUNK_TOKENS)
    overlap = _count(white, ("maxOverlapTokens", "max_overlap_tokens"), f"{where}.whiteSpaceConfig.maxOverlapTokens",
                     min(DEFAULT_OVERLAP_TOKENS, size - 1))
    if size < 1:
        raise invalid_argument(f"{where}.whiteSpaceConfig.maxTokensPerChunk must be positive.",
                               f"{where}.whiteSpaceConfig.maxTokensPerChunk")
    if overlap >= size:
        raise invalid_argument(f"{where}.whiteSpaceConfig.maxOverlapTokens ({overlap}) must be less than "
                               f"maxTokensPerChunk ({size}).", f"{where}.whiteSpaceConfig.maxOverlapTokens")
    return size, overlap


def _count(data: dict[str, Any], keys: tuple[str, str], where: str, default: int) -> int:
    value = data.get(keys[0], data.get(keys[1]))
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).lstrip("-").isdigit():
        raise invalid_argument(f"{where} must be an integer, not {value!r}.", where)
    number = int(value)
    if number < 0:
        raise invalid_argument(f"{where} must not be negative.", where)
    return number


def chunk_text(text: str, size: int, overlap: int) -> list[str]:
    """The chunks of `text`: windows of `size` white-space tokens, each starting `overlap` before the last
    one ended."""
    words = text.split()
    if not words:
        return []
    chunks, start, step = [], 0, max(1, size - overlap)
    while True:
        chunks.append(" ".join(words[start:start + size]))
        if start + size >= len(words):
            return chunks
        start += step


# -- custom metadata and its filter ---------------------------------------------------------------------

def check_custom_metadata(items: Any, where: str = "customMetadata", limit: int = 20) -> list[dict[str, Any]]:
    """customMetadata entries (`key` and one of stringValue, stringListValue, numericValue), checked."""
    if items is None:
        return []
    if not isinstance(items, list):
        raise invalid_argument(f"{where} must be a list.", where)
    if len(items) > limit:
        raise invalid_argument(f"{where} holds {len(items)} entries; at most {limit} are allowed.", where)
    out = []
    for i, item in enumerate(items):
        at = f"{where}[{i}]"
        if isinstance(item, dict):   # snake_case accepted on input, as the real API does
            item = {_camel(key): value for key, value in item.items()}
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"]:
            raise invalid_argument(f"{at}.key is required.", f"{at}.key")
        values = [k for k in ("stringValue", "stringListValue", "numericValue") if item.get(k) is not None]
        if len(values) != 1:
            raise invalid_argument(f"{at} must set exactly one of stringValue, stringListValue, numericValue.", at)
        entry = {"key": item["key"], values[0]: item[values[0]]}
        if values[0] == "numericValue" and (isinstance(item["numericValue"], bool)
                                            or not isinstance(item["numericValue"], (int, float))):
            raise invalid_argument(f"{at}.numericValue must be a number.", f"{at}.numericValue")
        if values[0] == "stringListValue":
            listed = (item["stringListValue"] or {}).get("values") if isinstance(item["stringListValue"], dict) else None
            if not isinstance(listed, list) or not all(isinstance(v, str) for v in listed):
                raise invalid_argument(f"{at}.stringListValue.values must be a list of strings.",
                                       f"{at}.stringListValue")
            entry["stringListValue"] = {"values": list(listed)}
        out.append(entry)
    return out


def _camel(name: str) -> str:
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name)


_TOKEN = re.compile(r'\s*(?:(\()|(\))|("(?:[^"\\]|\\.)*")|(<=|>=|!=|=|<|>|:)|(-?\d+(?:\.\d+)?)\b|([A-Za-z_][\w.]*))')
Filter = Callable[[dict[str, Any]], bool]


def parse_filter(text: str | None, where: str) -> Filter | None:
    """A metadataFilter as a predicate over {key: value} (None: no filter); a 400 naming `where` if invalid."""
    if text is None or not text.strip():
        return None
    tokens: list[tuple[int, str]] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos or match.lastindex is None:
            raise _bad_filter(where, f"unexpected text at position {pos}: {text[pos:pos + 20]!r}")
        kind = match.lastindex
        value = match.group(kind)
        tokens.append((kind, value))
        pos = match.end()
    parser = _FilterParser(tokens, where)
    predicate = parser.expression()
    if parser.at < len(tokens):
        raise _bad_filter(where, f"unexpected {tokens[parser.at][1]!r}")
    return predicate


def _bad_filter(where: str, why: str) -> ApiError:
    return invalid_argument(f"Invalid metadata filter: {why}.", where)


@dataclass
class _FilterParser:
    tokens: list[tuple[int, str]]
    where: str
    at: int = 0

    def _peek(self) -> tuple[int, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _word(self, word: str) -> bool:
        token = self._peek()
        if token and token[0] == 6 and token[1].upper() == word:
            self.at += 1
            return True
        return False

    def expression(self) -> Filter:
        terms = [self._conjunction()]
        while self._word("OR"):
            terms.append(self._conjunction())
        return terms[0] if len(terms) == 1 else (lambda meta: any(term(meta) for term in terms))

    def _conjunction(self) -> Filter:
        terms = [self._unary()]
        while self._word("AND"):
            terms.append(self._unary())
        return terms[0] if len(terms) == 1 else (lambda meta: all(term(meta) for term in terms))

    def _unary(self) -> Filter:
        if self._word("NOT"):
            inner = self._unary()
            return lambda meta: not inner(meta)
        token = self._peek()
        if token and token[0] == 1:
            self.at += 1
            inner = self.expression()
            if (self._peek() or (0, ""))[0] != 2:
                raise _bad_filter(self.where, "a parenthesis is not closed")
            self.at += 1
            return inner
        return self._comparison()

    def _comparison(self) -> Filter:
        key, op, value = (self.tokens[self.at:self.at + 3] + [(0, "")] * 3)[:3]
        if key[0] != 6 or op[0] != 4 or value[0] not in (3, 5):
            raise _bad_filter(self.where, "expected `key OPERATOR value`")
        self.at += 3
        wanted: Any = _unquote(value[1]) if value[0] == 3 else float(value[1])
        return _compare(key[1], op[1], wanted)


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text[1:-1])


def _compare(key: str, op: str, wanted: Any) -> Filter:
    def test(meta: dict[str, Any]) -> bool:
        if key not in meta:
            return False
        have = meta[key]
        if isinstance(have, list):   # a string list: `=` / `:` means "holds"
            return (wanted in have) if op in ("=", ":") else (wanted not in have) if op == "!=" else False
        if isinstance(wanted, float) != isinstance(have, float):
            return op == "!="
        outcome: bool = {"=": have == wanted, ":": have == wanted, "!=": have != wanted, "<": have < wanted,
                         "<=": have <= wanted, ">": have > wanted, ">=": have >= wanted}[op]
        return outcome
    return test


def metadata_values(custom_metadata: list[dict[str, Any]]) -> dict[str, Any]:
    """{key: str | float | list[str]} of customMetadata entries, as filters compare them."""
    values: dict[str, Any] = {}
    for item in custom_metadata:
        if "numericValue" in item:
            values[item["key"]] = float(item["numericValue"])
        elif "stringListValue" in item:
            values[item["key"]] = list(item["stringListValue"].get("values") or [])
        else:
            values[item["key"]] = item.get("stringValue")
    return values


# -- ranking and the grounded answer ---------------------------------------------------------------------

@dataclass
class Retrieved:
    """One retrieved chunk: its text, the document it came from, and how well it matched."""
    text: str
    title: str
    store: str
    document: str
    score: float
    custom_metadata: list[dict[str, Any]] = field(default_factory=list)

    def grounding_chunk(self) -> dict[str, Any]:
        context: dict[str, Any] = {"title": self.title, "text": self.text, "fileSearchStore": self.store}
        if self.custom_metadata:
            context["customMetadata"] = self.custom_metadata
        return {"retrievedContext": context}


def ranking_model(model: dict[str, Any]) -> dict[str, Any]:
    """The embedding model as ranking uses it: its name (which keys its vectors), RANK_DIMENSIONS wide."""
    full = int((model.get("emulator") or {}).get("embeddingDimensions") or 0)
    return {"name": model.get("name", ""), "emulator": {"embeddingDimensions": min(full, RANK_DIMENSIONS)}}


def similarity(a: list[float], b: list[float]) -> float:
    """Cosine similarity of two unit vectors."""
    return sum(x * y for x, y in zip(a, b))


def check_top_k(value: Any, where: str) -> int:
    if value is None:
        return DEFAULT_TOP_K
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TOP_K:
        raise invalid_argument(f"{where} must be between 1 and {MAX_TOP_K}, not {value!r}.", where)
    return value


def opening(text: str) -> str:
    """The first sentence of a chunk, at most SENTENCE_WORDS words, ending in a full stop."""
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    words = sentence.split()
    if len(words) > SENTENCE_WORDS:
        sentence = " ".join(words[:SENTENCE_WORDS])
    return sentence if sentence[-1:] in ".!?" else sentence + "."


def answer(retrieved: list[Retrieved]) -> str:
    """An answer built from the openings of the best chunks (one sentence each, repeats left out)."""
    sentences: list[str] = []
    for item in retrieved[:ANSWER_CHUNKS]:
        sentence = opening(item.text)
        if sentence not in sentences:
            sentences.append(sentence)
    return " ".join(sentences)


def metadata(retrieved: list[Retrieved], text: str | None, part_index: int) -> dict[str, Any]:
    """groundingMetadata: every retrieved chunk, and a support for each chunk opening the answer quotes."""
    out: dict[str, Any] = {"groundingChunks": [item.grounding_chunk() for item in retrieved]}
    supports: list[dict[str, Any]] = []
    for index, item in enumerate(retrieved):
        if text is None:
            break
        sentence = opening(item.text)
        start = text.find(sentence)
        if start < 0 or any(sentence == opening(other.text) for other in retrieved[:index]):
            continue
        supports.append({"segment": grounding.segment(text, part_index, start, start + len(sentence)),
                         "groundingChunkIndices": [index],
                         "confidenceScores": [round(max(0.0, min(1.0, item.score)), 6)]})
    if supports:
        supports.sort(key=lambda s: s["segment"].get("startIndex", 0))
        out["groundingSupports"] = supports
    return out


def ground(parts: list[dict[str, Any]], retrieved: list[Retrieved], rewrite: bool) -> tuple[dict[str, Any] | None, int]:
    """Ground one candidate's answer in what was retrieved: with `rewrite` its text becomes the answer drawn
    from the chunks. Returns (groundingMetadata, change in the answer's tokens)."""
    index = next((i for i, part in enumerate(parts) if isinstance(part.get("text"), str) and not part.get("thought")),
                 None)
    delta = 0
    if rewrite and retrieved and index is not None:
        old = parts[index]["text"]
        parts[index]["text"] = answer(retrieved)
        delta = count_text(parts[index]["text"]) - count_text(old)
    if not retrieved:
        return None, delta
    return metadata(retrieved, parts[index]["text"] if index is not None else None, index or 0), delta


def tool_tokens(retrieved: list[Retrieved]) -> int:
    """What the retrieved chunks bring into the prompt (toolUsePromptTokenCount)."""
    return sum(count_text(item.text) for item in retrieved)
