"""What the Gemini 3 family does differently: thinking levels, thought signatures, per-part media resolution.

Sources (read 2026-12-05):
- https://ai.google.dev/gemini-api/docs/gemini-3 and .../thinking: `thinkingConfig.thinkingLevel` takes the
  levels each model lists (catalog `emulator.thinkingLevels`; e.g. gemini-3.8-flash refuses MINIMAL), a
  model without levels refuses the field, and thinkingLevel and thinkingBudget cannot both be set.
- https://ai.google.dev/gemini-api/docs/thought-signatures: every response with a function call carries a
  `thoughtSignature` on its first functionCall part. On replay, the API validates the current turn only:
  it walks back to the latest user content holding standard content (text, media; not a functionResponse),
  and the first functionCall part of every model step after it must carry its signature, else 400
  "Function call is missing a thought_signature in functionCall parts..." (wording as the API sends it,
  quoted in https://docs.apiyi.com/en/faq/gemini-thought-signature-missing). The documented dummy values
  `skip_thought_signature_validator` and `context_engineering_is_the_way_to_go` pass. Gemini 3 Pro Image
  does not enforce the rule (catalog `emulator.enforceThoughtSignatures: false`).
- https://ai.google.dev/gemini-api/docs/media-resolution: per-part `mediaResolution` (Gemini 3 only) sets
  the tokens of an image (LOW 280, MEDIUM 560, HIGH 1120, ULTRA_HIGH 2240; default HIGH) or of a PDF page
  (LOW 280, MEDIUM 560, HIGH 1120; default MEDIUM); `numTokens` asks for an exact count. A per-part level
  overrides `generationConfig.mediaResolution`.
- https://docs.cloud.google.com/gemini-enterprise-agent-platform/models/guides/gemini-4-argon (read 2026-12-06):
  Gemini 4 Argon has one token limit for input and output together (catalog `emulator.unifiedTokenLimit`):
  the output may use that limit minus the input tokens.
"""
from __future__ import annotations

from typing import Any, Callable

from ..errors import invalid_argument
from .media import DOCUMENT, DOCUMENT_TOKENS_PER_PAGE, IMAGE, MediaInfo

LEVELS = ("MEDIA_RESOLUTION_LOW", "MEDIA_RESOLUTION_MEDIUM", "MEDIA_RESOLUTION_HIGH", "MEDIA_RESOLUTION_ULTRA_HIGH")
IMAGE_TOKENS = {"MEDIA_RESOLUTION_LOW": 280, "MEDIA_RESOLUTION_MEDIUM": 560, "MEDIA_RESOLUTION_HIGH": 1120,
                "MEDIA_RESOLUTION_ULTRA_HIGH": 2240}
PAGE_TOKENS = {"MEDIA_RESOLUTION_LOW": 280, "MEDIA_RESOLUTION_MEDIUM": 560, "MEDIA_RESOLUTION_HIGH": 1120,
               "MEDIA_RESOLUTION_ULTRA_HIGH": 1120}
DEFAULT_IMAGE, DEFAULT_PAGE = "MEDIA_RESOLUTION_HIGH", "MEDIA_RESOLUTION_MEDIUM"
DUMMY_SIGNATURES = ("skip_thought_signature_validator", "context_engineering_is_the_way_to_go")

# (part, where, what the file or bytes hold) -> the part's tokens
MediaTokens = Callable[[dict[str, Any], str, MediaInfo], int]


def is_gemini3(model: dict[str, Any]) -> bool:
    return bool((model.get("emulator") or {}).get("thoughtSignatures"))


def check_thinking_level(model: dict[str, Any], level: str, field: str) -> str:
    """The level (upper case) if the model takes it; else the 400 naming the field."""
    facts = model.get("emulator") or {}
    levels = [str(x).upper() for x in facts.get("thinkingLevels") or ()]
    name = model.get("name", "the model")
    if not levels:
        raise invalid_argument(f"Thinking level is not supported for {name}; set thinkingBudget instead.", field)
    if level not in levels:
        raise invalid_argument(f"Thinking level {level} is not supported by {name}. Supported thinking levels: "
                               f"{', '.join(levels)}.", field)
    return level


def default_thinking_level(model: dict[str, Any]) -> str | None:
    level = (model.get("emulator") or {}).get("defaultThinkingLevel")
    return str(level).upper() if level else None


def check_unified_limit(model: dict[str, Any], prompt_tokens: int, max_output_tokens: int | None) -> None:
    """A model whose input and output share one limit refuses a maxOutputTokens the prompt leaves no room for."""
    limit = (model.get("emulator") or {}).get("unifiedTokenLimit")
    if not limit or max_output_tokens is None or prompt_tokens + max_output_tokens <= int(limit):
        return
    raise invalid_argument(
        f"The input token count ({prompt_tokens}) plus maxOutputTokens ({max_output_tokens}) exceeds the "
        f"{int(limit)} tokens {model.get('name', 'the model')} allows for input and output together; "
        f"set maxOutputTokens to at most {max(int(limit) - prompt_tokens, 0)}.", "generationConfig.maxOutputTokens")


# -- thought signatures ---------------------------------------------------------------------------------

def check_signatures(model: dict[str, Any], contents: list[Any]) -> None:
    """The documented replay rule: every step of the current turn keeps its first call's signature."""
    facts = model.get("emulator") or {}
    if not facts.get("thoughtSignatures") or facts.get("enforceThoughtSignatures") is False:
        return
    start = 0
    for i in range(len(contents) - 1, -1, -1):
        content = contents[i] if isinstance(contents[i], dict) else {}
        if content.get("role") in (None, "", "user") and any(
                isinstance(p, dict) and "functionResponse" not in p for p in content.get("parts") or ()):
            start = i + 1
            break
    for i in range(start, len(contents)):
        content = contents[i]
        if not isinstance(content, dict) or content.get("role") != "model":
            continue
        for j, part in enumerate(content.get("parts") or ()):
            if isinstance(part, dict) and isinstance(part.get("functionCall"), dict):
                if not (part.get("thoughtSignature") or part.get("thought_signature")):
                    name = part["functionCall"].get("name", "")
                    raise invalid_argument(
                        "Function call is missing a thought_signature in functionCall parts. This is required for "
                        "tools to work correctly, and missing thought_signature may lead to degraded model "
                        f"performance. Additional data, function call `default_api:{name}` , position {i + 1}. "
                        "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.",
                        f"contents[{i}].parts[{j}].thoughtSignature")
                break   # only the first call of a step carries one (parallel calls)


# -- media resolution -----------------------------------------------------------------------------------

def _level(value: object, field: str, *, ultra: bool) -> str | None:
    if value in (None, "", "MEDIA_RESOLUTION_UNSPECIFIED"):
        return None
    level = str(value).upper()
    if level not in LEVELS or (level == "MEDIA_RESOLUTION_ULTRA_HIGH" and not ultra):
        allowed = LEVELS if ultra else LEVELS[:3]
        raise invalid_argument(f"Invalid value at '{field}' ({value!r}): one of {', '.join(allowed)}.", field)
    return level


def media_tokens(model: dict[str, Any], request: dict[str, Any]) -> MediaTokens | None:
    """How a Gemini 3 model counts images and PDF pages (None for the other models: their own rule)."""
    if not is_gemini3(model):
        return None
    config = request.get("generationConfig")
    if not isinstance(config, dict):
        config = {}
    overall = _level(config.get("mediaResolution") or config.get("media_resolution"),
                     "generationConfig.mediaResolution", ultra=False)

    def tokens(part: dict[str, Any], where: str, info: MediaInfo) -> int:
        own = part.get("mediaResolution") or part.get("media_resolution")
        field = f"{where}.mediaResolution"
        if own is not None and not isinstance(own, dict):
            raise invalid_argument(f"Invalid value at '{field}': expected an object with a level.", field)
        own = own or {}
        exact = own.get("numTokens", own.get("num_tokens"))
        if exact is not None:
            if isinstance(exact, bool) or not isinstance(exact, int) or exact < 1:
                raise invalid_argument(f"{field}.numTokens must be a positive integer, got {exact!r}.",
                                       f"{field}.numTokens")
            return exact
        level = _level(own.get("level"), f"{field}.level", ultra=True) or overall
        if info.modality == IMAGE:
            return IMAGE_TOKENS[level or DEFAULT_IMAGE]
        if info.modality == DOCUMENT:
            pages = max(1, info.tokens // DOCUMENT_TOKENS_PER_PAGE)
            return pages * PAGE_TOKENS[level or DEFAULT_PAGE]
        return info.tokens   # audio and video: their own rates (media.py)

    return tokens
