"""`models/{m}:generateAnswer`: attributed question answering (AQA) over inline passages or a corpus.

Request and answer as the v1beta discovery document has them (GenerateAnswerRequest, GenerateAnswerResponse,
GroundingPassages, SemanticRetrieverConfig, GroundingAttribution in schemas/v1beta.json):
`{contents, answerStyle, inlinePassages | semanticRetriever, safetySettings, temperature}` ->
`{answer: Candidate (with groundingAttributions), answerableProbability, inputFeedback}`. Only models whose
catalog entry lists `generateAnswer` take it (`models/aqa`).

Deterministic retrieval: the question (the last content's text) and every passage are embedded with the
emulator's embedding engine (generation/embeddings.py: texts sharing words are closer), using the model named
by the AQA model's `emulator.retrievalEmbeddingModel`: the 20 passages sharing the most question words (by
order on ties) are ranked by cosine similarity, which bounds the work per call; the answer is
built from the sentences of the best passages that share the most question words, so it quotes the
retrieved text:

* EXTRACTIVE: the single best sentence, verbatim;
* ABSTRACTIVE: the best sentence of each of the top two relevant passages;
* VERBOSE: the best two sentences of each of the top three relevant passages.

Every quoted passage is a groundingAttribution (`sourceId.groundingPassage {passageId, partIndex}` for inline
passages). `answerableProbability` is the share of the question's content words the quoted text covers,
scaled into [0.05, 0.95]; a question sharing no content word with any passage is answered from the closest
passage with a probability below 0.1, as the reference says the model "always attempts to provide a grounded
answer". The question and passages together may hold at most the model's `inputTokenLimit` tokens (else a
400). A `semanticRetriever` source must be a corpus the caller can read (else the usual 403); the corpora
the emulator keeps hold no documents, so such an answer has no attributions and probability 0.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from .. import quotas
from ..auth import Identity
from ..errors import invalid_argument
from ..generation.embeddings import embed_text
from ..generation.tokens import count_text
from ..http import Context, json_response
from ..routing import GENERATE, route
from .permissions import READER, require

if TYPE_CHECKING:
    from ..store import Store

ANSWER_STYLES = ("ABSTRACTIVE", "EXTRACTIVE", "VERBOSE")
STYLE_SHAPE = {"EXTRACTIVE": (1, 1), "ABSTRACTIVE": (2, 1), "VERBOSE": (3, 2)}   # (passages, sentences each)
MAX_PASSAGES = 1000
EMBEDDED_CANDIDATES = 20   # passages sharing the most question words are embedded and ranked; the rest are not
VERSIONS = ("v1beta", "v1alpha")
_WORD = re.compile(r"\w+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_COMMON = frozenset("a an and are as at be by did do does for from has have how in is it its of on or that the "
                    "this to was were what when where which who whom whose why will with".split())


@dataclass
class Passage:
    id: str
    part_index: int
    text: str


def _text_of(content: object, field: str) -> str:
    if not isinstance(content, dict):
        raise invalid_argument(f"{field} must be a Content object.", field)
    parts = content.get("parts")
    if not isinstance(parts, list):
        raise invalid_argument(f"{field}.parts must be a list.", f"{field}.parts")
    return "\n".join(p["text"] for p in parts if isinstance(p, dict) and isinstance(p.get("text"), str))


def _content_words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - _COMMON


def _cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b)) / ((math.hypot(*a) * math.hypot(*b)) or 1.0)


def _question(request: dict[str, Any]) -> str:
    contents = request.get("contents")
    if not isinstance(contents, list) or not contents:
        raise invalid_argument("contents must hold the question (the last Content).", "contents")
    question = _text_of(contents[-1], f"contents[{len(contents) - 1}]").strip()
    if not question:
        raise invalid_argument("The last Content in contents must hold the question as text.", "contents")
    return question


def _style(request: dict[str, Any]) -> str:
    style = request.get("answerStyle")
    if not isinstance(style, str) or style not in ANSWER_STYLES:
        raise invalid_argument(f"answerStyle must be one of {', '.join(ANSWER_STYLES)}, got {style!r}.",
                               "answerStyle")
    return style


def _inline_passages(grounding: object) -> list[Passage]:
    passages = grounding.get("passages") if isinstance(grounding, dict) else None
    if not isinstance(passages, list) or not passages:
        raise invalid_argument("inlinePassages.passages must hold at least one passage.", "inlinePassages.passages")
    if len(passages) > MAX_PASSAGES:
        raise invalid_argument(f"inlinePassages.passages holds more than {MAX_PASSAGES} passages.",
                               "inlinePassages.passages")
    found, seen = [], set()
    for index, item in enumerate(passages):
        field = f"inlinePassages.passages[{index}]"
        passage_id = item.get("id") if isinstance(item, dict) else None
        if not isinstance(passage_id, str) or not passage_id:
            raise invalid_argument(f"{field}.id is required.", f"{field}.id")
        if passage_id in seen:
            raise invalid_argument(f"Passage id {passage_id!r} is used twice; ids must be unique.", f"{field}.id")
        seen.add(passage_id)
        content = item.get("content")
        _text_of(content, f"{field}.content")
        for part_index, part in enumerate(content["parts"]):
            if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"].strip():
                found.append(Passage(passage_id, part_index, part["text"]))
    return found


def _corpus_passages(store: Store, identity: Identity, config: object) -> list[Passage]:
    if not isinstance(config, dict):
        raise invalid_argument("semanticRetriever must be an object.", "semanticRetriever")
    source = config.get("source")
    if not isinstance(source, str) or not source.startswith("corpora/"):
        raise invalid_argument("semanticRetriever.source must name a corpus (corpora/{id}) or one of its "
                               "documents.", "semanticRetriever.source")
    corpus = "/".join(source.split("/")[:2])
    require(store.corpora.lookup(corpus), identity, READER, kind="Corpus", name=corpus)
    if "query" in config:
        _text_of(config["query"], "semanticRetriever.query")
    return []   # the emulator's corpora hold no documents or chunks


def _best_sentences(text: str, words: set[str], count: int) -> list[str]:
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    ranked = sorted(range(len(sentences)), key=lambda i: (-len(_content_words(sentences[i]) & words), i))
    return [sentences[i] for i in sorted(ranked[:count])]


def generate_answer(store: Store, identity: Identity, model: dict[str, Any], request: dict[str, Any]) -> dict[str, Any]:
    question = _question(request)
    style = _style(request)
    temperature = request.get("temperature")
    if temperature is not None and not (isinstance(temperature, (int, float)) and 0 <= temperature <= 1):
        raise invalid_argument(f"temperature must be in [0.0, 1.0], got {temperature!r}.", "temperature")
    inline, retriever = request.get("inlinePassages"), request.get("semanticRetriever")
    if (inline is None) == (retriever is None):
        raise invalid_argument("Exactly one grounding source is required: inlinePassages or semanticRetriever.",
                               "inlinePassages")
    passages = (_inline_passages(inline) if inline is not None
                else _corpus_passages(store, identity, retriever))

    prompt_tokens = count_text(question) + sum(count_text(p.text) for p in passages)
    if prompt_tokens > model["inputTokenLimit"]:
        raise invalid_argument(f"The question and passages hold {prompt_tokens} tokens, more than the "
                               f"{model['inputTokenLimit']} {model['name']} accepts.", "inlinePassages")

    words = _content_words(question)
    overlap = sorted(range(len(passages)), key=lambda i: (-len(_content_words(passages[i].text) & words), i))
    candidates = [passages[i] for i in overlap[:EMBEDDED_CANDIDATES]]   # bounded embedding work
    embedder = store.models.get((model.get("emulator") or {}).get("retrievalEmbeddingModel", ""))
    query = embed_text(embedder, question, "RETRIEVAL_QUERY")
    scored = sorted(((_cosine(query, embed_text(embedder, p.text, "RETRIEVAL_DOCUMENT")), i, p)
                     for i, p in enumerate(candidates)), key=lambda item: (-item[0], item[1]))
    relevant = [p for _, _, p in scored if _content_words(p.text) & words]
    top_passages, per_passage = STYLE_SHAPE[style]
    chosen = (relevant or [p for _, _, p in scored[:1]])[:top_passages]

    quoted: list[tuple[Passage, list[str]]] = [(p, _best_sentences(p.text, words, per_passage)) for p in chosen]
    answer_text = " ".join(s for _, sentences in quoted for s in sentences)
    covered = words & _content_words(answer_text)
    if not chosen:
        probability = 0.0
    elif relevant:
        probability = 0.05 + 0.9 * len(covered) / max(len(words), 1)
    else:
        probability = 0.05 * max(scored[0][0], 0.0)
    candidate: dict[str, Any] = {"index": 0, "finishReason": "STOP",
                                 "content": {"role": "model", "parts": [{"text": answer_text}] if answer_text else []},
                                 "groundingAttributions": [
                           {"sourceId": {"groundingPassage": {"passageId": p.id, "partIndex": p.part_index}},
                            "content": {"parts": [{"text": " ".join(sentences)}]}}
                           for p, sentences in quoted]}
    quotas.record(store, identity, model, {"promptTokenCount": prompt_tokens,
                                           "candidatesTokenCount": count_text(answer_text),
                                           "totalTokenCount": prompt_tokens + count_text(answer_text)})
    return {"answer": candidate, "answerableProbability": round(probability, 6)}


# -- HTTP skin --------------------------------------------------------------------------------------

async def generate_answer_handler(ctx: Context) -> Response:
    request = await ctx.json("GenerateAnswerRequest")
    model = ctx.store.models.get(ctx.params["model"], "generateAnswer", ctx.version)
    return json_response(await ctx.work(generate_answer, ctx.store, ctx.identity, model, request))


def register(store: Store) -> None:
    """No state: passages come with the request, corpora from corpora.py."""


ROUTES = [route("POST", "models/{model}:generateAnswer", generate_answer_handler, versions=VERSIONS,
                 runs=GENERATE)]
