"""Checks on a GenerateContentRequest, with the real API's 400s, and what a valid request asks for (`Plan`).

Every error names the offending field in camelCase (`generationConfig.candidateCount`,
`contents[2].role`, `tools[0].functionDeclarations[1].parameters.properties`) in a BadRequest detail.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field as dataclass_field
from typing import Any, Callable

from ..errors import ApiError, invalid_argument
from . import gemini3, schema_checks, structured
from .budget import count_schema_objects, output_budget

MAX_CANDIDATES = 8
MAX_STOP_SEQUENCES = 5
SAFETY_CATEGORIES = ("HARM_CATEGORY_HARASSMENT", "HARM_CATEGORY_HATE_SPEECH", "HARM_CATEGORY_SEXUALLY_EXPLICIT",
                     "HARM_CATEGORY_DANGEROUS_CONTENT")
VALID_SAFETY_CATEGORIES = SAFETY_CATEGORIES + ("HARM_CATEGORY_CIVIC_INTEGRITY",)
SAFETY_THRESHOLDS = ("HARM_BLOCK_THRESHOLD_UNSPECIFIED", "BLOCK_LOW_AND_ABOVE", "BLOCK_MEDIUM_AND_ABOVE",
                     "BLOCK_ONLY_HIGH", "BLOCK_NONE", "OFF")
RESPONSE_MIME_TYPES = ("text/plain", "application/json", "application/xml", "application/yaml", "text/x.enum")
# XHIGH: the ThinkingLevel enum of google-genai 3.6.1 (types.py); Gemini 4 Hydrogen takes it.
THINKING_LEVELS = ("THINKING_LEVEL_UNSPECIFIED", "MINIMAL", "LOW", "MEDIUM", "HIGH", "XHIGH")
FUNCTION_MODES = ("MODE_UNSPECIFIED", "AUTO", "ANY", "NONE", "VALIDATED")
# The caller's side of a conversation: the user, and function results (`function`, or `tool` as the real
# API also takes it, e.g. from code written for other chat APIs).
USER_ROLES = ("user", "function", "tool")
VALID_ROLES = ("model", *USER_ROLES)
_DATA_FIELDS = ("text", "inlineData", "fileData", "functionCall", "functionResponse", "executableCode",
                "codeExecutionResult", "toolCall", "toolResponse")
_FUNCTION_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]{0,63}$")


@dataclass
class Plan:
    """What a validated request asks for."""
    candidate_count: int = 1
    max_output_tokens: int | None = None
    stop_sequences: tuple[str, ...] = ()
    mime: str = "text/plain"
    schema: Any = None
    dialect: str | None = None
    schema_field: str | None = None          # where the schema came from, for errors while generating
    output_chars: int = 0                    # the JSON an answer may hold (see budget.py)
    schema_objects: int = 0                  # objects in the request's schemas so far
    thinks: bool = False
    thinking_budget: int | None = None  # None: dynamic
    thinking_level: str | None = None
    sign_calls: bool = False                 # Gemini 3: a thoughtSignature on every function call
    include_thoughts: bool = False
    mode: str = "NONE"
    declarations: tuple[dict[str, Any], ...] = ()
    declaration_fields: dict[str, str] | None = None   # function name -> the field of its parameter schema
    allowed: tuple[str, ...] | None = None
    values_made: list[int] = dataclass_field(default_factory=lambda: [0])   # structured values, all candidates (budget.py)


def model_name(model: dict[str, Any]) -> str:
    return str(model.get("name") or "models/unknown")


def model_version(model: dict[str, Any]) -> str:
    facts = model.get("emulator") or {}
    if facts.get("modelVersion"):
        return str(facts["modelVersion"])
    name = model_name(model)
    return name.split("/", 1)[1] if "/" in name else name


def check_method(model: dict[str, Any], method: str) -> None:
    methods = model.get("supportedGenerationMethods")
    if methods is not None and method not in methods:
        raise ApiError(404, "NOT_FOUND",
                       f"{model_name(model)} is not found for API version v1beta, or is not supported for "
                       f"{method}. Call ListModels to see the list of available models and their supported "
                       "methods.")


def check_contents(contents: Any, field: str = "contents", *, required: bool = True) -> list[Any]:
    if contents is None or contents == []:
        if required:
            raise invalid_argument("* GenerateContentRequest.contents: contents is not specified\n", field)
        return []
    if not isinstance(contents, list):
        raise invalid_argument(f"Invalid value at '{field}': expected a list of Content.", field)
    for i, content in enumerate(contents):
        where = f"{field}[{i}]"
        if not isinstance(content, dict):
            raise invalid_argument(f"Invalid value at '{where}': expected a Content object.", where)
        role = content.get("role")
        if role not in (None, "") and role not in VALID_ROLES:
            raise invalid_argument("Please use a valid role: user, model.", f"{where}.role")
        check_parts(content.get("parts"), where)
    return contents


def check_parts(parts: Any, where: str) -> None:
    if not parts:
        raise invalid_argument(f"* GenerateContentRequest.{where}.parts: contents.parts must not be empty.\n",
                               f"{where}.parts")
    if not isinstance(parts, list):
        raise invalid_argument(f"Invalid value at '{where}.parts': expected a list of Part.", f"{where}.parts")
    for j, part in enumerate(parts):
        at = f"{where}.parts[{j}]"
        if not isinstance(part, dict) or not any(part.get(key) is not None for key in _DATA_FIELDS):
            raise invalid_argument(
                f"* GenerateContentRequest.{at}.data: required oneof field 'data' must have one initialized "
                "field\n", at)
        text = part.get("text")
        if text is not None and not isinstance(text, str):
            raise invalid_argument(f"Invalid value at '{at}.text': expected a string.", f"{at}.text")
        for key in ("functionCall", "functionResponse"):
            value = part.get(key)
            if value is not None and (not isinstance(value, dict) or not value.get("name")):
                raise invalid_argument(f"* GenerateContentRequest.{at}.{_snake(key)}.name: Name cannot be empty.\n",
                                       f"{at}.{key}.name")


def _snake(name: str) -> str:
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def _check_number(config: dict[str, Any], key: str, low: float | None, high: float | None, *, integer: bool = False,
                  message: Callable[[], str] | None = None) -> Any:
    """The number at `key` (None when absent); a 400 when it is not a number or out of [low, high]
    (`message()` then says why; built only on failure, as this runs on every generation)."""
    value = config.get(key)
    if value is None:
        return None
    field = "generationConfig." + key
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise invalid_argument(f"Invalid value at 'generation_config.{_snake(key)}': {value!r}.", field)
    try:
        number = int(value) if integer else float(value)
        if integer and isinstance(value, float) and not value.is_integer():
            raise ValueError
    except (TypeError, ValueError):
        raise invalid_argument(f"Invalid value at 'generation_config.{_snake(key)}': {value!r}.", field) from None
    if (low is not None and number < low) or (high is not None and number > high):
        raise invalid_argument(message() if message else f"{key} must be between {low} and {high}, got {value}.",
                               field)
    return number


def _check_generation_config(model: dict[str, Any], config: Any, plan: Plan) -> None:
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise invalid_argument("Invalid value at 'generation_config': expected an object.", "generationConfig")
    count = _check_number(config, "candidateCount", None, None, integer=True)
    if count is not None:
        if not 1 <= count <= MAX_CANDIDATES:
            raise invalid_argument(f"candidateCount must be between 1 and {MAX_CANDIDATES}, got {count}.",
                                   "generationConfig.candidateCount")
        plan.candidate_count = count
    limit = int(model.get("outputTokenLimit") or 65536)
    max_tokens = _check_number(
        config, "maxOutputTokens", 1, limit, integer=True,
        message=lambda: (f"Unable to submit request because it has a maxOutputTokens value of "
                         f"{config.get('maxOutputTokens')} but the supported range is from 1 (inclusive) to "
                         f"{limit + 1} (exclusive). Update the value and try again."))
    plan.max_output_tokens = max_tokens
    plan.output_chars = output_budget(model)
    max_temperature = float(model.get("maxTemperature") or 2.0)
    _check_number(config, "temperature", 0.0, max_temperature,
                  message=lambda: (f"temperature must be between 0 and {max_temperature:g}, "
                                   f"got {config.get('temperature')}."))
    _check_number(config, "topP", 0.0, 1.0,
                  message=lambda: f"topP must be between 0 and 1, got {config.get('topP')}.")
    _check_number(config, "topK", 1, None, integer=True,
                  message=lambda: f"topK must be at least 1, got {config.get('topK')}.")
    _check_number(config, "seed", None, None, integer=True)
    _check_number(config, "presencePenalty", -2.0, 2.0)
    _check_number(config, "frequencyPenalty", -2.0, 2.0)

    stops = config.get("stopSequences")
    if stops is not None:
        if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
            raise invalid_argument("stopSequences must be a list of strings.", "generationConfig.stopSequences")
        if len(stops) > MAX_STOP_SEQUENCES:
            raise invalid_argument(f"stopSequences can have at most {MAX_STOP_SEQUENCES} entries, got {len(stops)}.",
                                   "generationConfig.stopSequences")
        plan.stop_sequences = tuple(s for s in stops if s)

    modalities = config.get("responseModalities")
    if modalities:
        supported = set((model.get("emulator") or {}).get("responseModalities") or ["TEXT"])
        unsupported = [m for m in modalities if str(m).upper() not in supported]
        if unsupported:
            raise invalid_argument(
                f"The requested combination of response modalities ({', '.join(map(str, modalities))}) is not "
                "supported by the model.", "generationConfig.responseModalities")

    _check_output_format(config, plan)
    _check_thinking(model, config.get("thinkingConfig"), plan)


def _check_output_format(config: dict[str, Any], plan: Plan) -> None:
    mime = config.get("responseMimeType")
    if mime is not None:
        mime = str(mime).strip().lower()
        if mime not in RESPONSE_MIME_TYPES:
            raise invalid_argument(
                "* GenerateContentRequest.generation_config.response_mime_type: allowed mimetypes are "
                "`text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.\n",
                "generationConfig.responseMimeType")
        plan.mime = mime
    schema = config.get("responseSchema")
    json_schema = config.get("responseJsonSchema")
    if schema is not None and json_schema is not None:
        raise invalid_argument("responseSchema and responseJsonSchema cannot both be set; use one of them.",
                               "generationConfig.responseJsonSchema")
    if schema is not None or json_schema is not None:
        key = "responseSchema" if schema is not None else "responseJsonSchema"
        if plan.mime not in ("application/json", "text/x.enum"):
            raise invalid_argument(
                f"* GenerateContentRequest.generation_config.{_snake(key)}: {key} can only be set when "
                "response_mime_type is `application/json` or `text/x.enum`.\n", f"generationConfig.{key}")
        plan.schema_objects = count_schema_objects(schema if schema is not None else json_schema,
                                                   f"generationConfig.{key}", plan.schema_objects)
        if schema is not None:
            schema_checks.check_openapi_schema(schema, "generationConfig.responseSchema")
            plan.schema, plan.dialect = schema, structured.OPENAPI
        else:
            schema_checks.check_json_schema(json_schema, "generationConfig.responseJsonSchema")
            plan.schema, plan.dialect = json_schema, structured.JSON_SCHEMA
        plan.schema_field = f"generationConfig.{key}"
        structured.check_cost(plan.schema, plan.dialect, plan.schema_field, plan.output_chars)
    if plan.mime == "text/x.enum":
        enum = plan.schema.get("enum") if isinstance(plan.schema, dict) else None
        if not enum:
            raise invalid_argument("responseMimeType text/x.enum needs a responseSchema with an enum.",
                                   "generationConfig.responseSchema")


def _check_thinking(model: dict[str, Any], thinking: Any, plan: Plan) -> None:
    facts = model.get("emulator") or {}
    field = "generationConfig.thinkingConfig"
    can_think = bool(model.get("thinking"))
    plan.sign_calls = gemini3.is_gemini3(model)
    if thinking in (None, {}) or (isinstance(thinking, dict) and set(thinking) <= {"includeThoughts"}):
        plan.thinks = can_think
        plan.thinking_level = gemini3.default_thinking_level(model) if can_think else None
        if thinking:
            plan.include_thoughts = bool(thinking.get("includeThoughts"))
        return
    if not isinstance(thinking, dict):
        raise invalid_argument("thinkingConfig must be an object.", field)
    if not can_think:
        raise invalid_argument("Thinking is not supported by this model.", field)
    plan.include_thoughts = bool(thinking.get("includeThoughts"))
    budget = thinking.get("thinkingBudget")
    level = thinking.get("thinkingLevel")
    if budget is not None and level is not None:
        raise invalid_argument("You can only set only one of thinking budget and thinking level.", field)
    plan.thinks = True
    if level is not None:
        level = str(level).upper()
        if level not in THINKING_LEVELS:
            raise invalid_argument(f"Invalid value at 'generation_config.thinking_config.thinking_level', "
                                   f"\"{thinking.get('thinkingLevel')}\"", f"{field}.thinkingLevel")
        if level == "THINKING_LEVEL_UNSPECIFIED":
            plan.thinking_level = gemini3.default_thinking_level(model)
        else:
            plan.thinking_level = gemini3.check_thinking_level(model, level, f"{field}.thinkingLevel")
        return
    if budget is None:
        return
    if isinstance(budget, bool) or not isinstance(budget, (int, float, str)):
        raise invalid_argument(f"Invalid thinking budget {budget!r}.", f"{field}.thinkingBudget")
    try:
        budget = int(budget)
    except ValueError:
        raise invalid_argument(f"Invalid thinking budget {budget!r}.", f"{field}.thinkingBudget") from None
    low, high = (facts.get("thinkingBudgetRange") or [0, 24576])[:2]
    if budget == -1:
        plan.thinking_budget = None
    elif budget == 0:
        if facts.get("thinkingAlwaysOn"):
            raise invalid_argument("Budget 0 is invalid. This model only works in thinking mode.",
                                   f"{field}.thinkingBudget")
        plan.thinks = False
    elif not max(1, low) <= budget <= high:
        raise invalid_argument(
            f"The thinking budget {budget} is invalid. Please choose a value between {low} and {high} "
            "(or -1 for a dynamic budget).", f"{field}.thinkingBudget")
    else:
        plan.thinking_budget = budget


def _check_tools(model: dict[str, Any], tools: Any, tool_config: Any, plan: Plan, field: str = "tools") -> None:
    declarations: list[dict[str, Any]] = []
    fields: dict[str, str] = {}
    seen: set[str] = set()
    if tools is not None and not isinstance(tools, list):
        raise invalid_argument("tools must be a list.", field)
    for i, tool in enumerate(tools or ()):
        if not isinstance(tool, dict):
            raise invalid_argument(f"Invalid value at '{field}[{i}]': expected a Tool object.", f"{field}[{i}]")
        for j, decl in enumerate(tool.get("functionDeclarations") or ()):
            where = f"{field}[{i}].functionDeclarations[{j}]"
            name = decl.get("name") if isinstance(decl, dict) else None
            if not isinstance(name, str) or not _FUNCTION_NAME_RE.match(name):
                raise invalid_argument(
                    f"* GenerateContentRequest.{_snake(where)}.name: Invalid function name. Must start with a "
                    "letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and "
                    "dashes, with a maximum length of 64.\n", f"{where}.name")
            if name in seen:
                raise invalid_argument(f"Duplicate function declaration found: {name}", f"{where}.name")
            seen.add(name)
            if decl.get("parameters") is not None and decl.get("parametersJsonSchema") is not None:
                raise invalid_argument("parameters and parametersJsonSchema cannot both be set.",
                                       f"{where}.parametersJsonSchema")
            budget = plan.output_chars or output_budget(model)
            for kind in ("parameters", "parametersJsonSchema", "response", "responseJsonSchema"):
                if decl.get(kind) is not None:
                    plan.schema_objects = count_schema_objects(decl[kind], f"{where}.{kind}", plan.schema_objects)
            if decl.get("parameters") is not None:
                schema_checks.check_openapi_schema(decl["parameters"], f"{where}.parameters")
                structured.check_cost(decl["parameters"], structured.OPENAPI, f"{where}.parameters", budget)
                fields[name] = f"{where}.parameters"
            if decl.get("parametersJsonSchema") is not None:
                schema_checks.check_json_schema(decl["parametersJsonSchema"], f"{where}.parametersJsonSchema")
                structured.check_cost(decl["parametersJsonSchema"], structured.JSON_SCHEMA,
                                      f"{where}.parametersJsonSchema", budget)
                fields[name] = f"{where}.parametersJsonSchema"
            declarations.append(decl)
    plan.declarations = tuple(declarations)
    plan.declaration_fields = fields

    calling = ((tool_config or {}).get("functionCallingConfig") or {}) if isinstance(tool_config, dict) else {}
    mode = str(calling.get("mode") or "AUTO").upper()
    where = "toolConfig.functionCallingConfig"
    if mode not in FUNCTION_MODES:
        raise invalid_argument(f"Invalid value at 'tool_config.function_calling_config.mode', \"{calling.get('mode')}\"",
                               f"{where}.mode")
    if mode == "MODE_UNSPECIFIED":
        mode = "AUTO"
    allowed = calling.get("allowedFunctionNames")
    if allowed:
        if mode not in ("ANY", "VALIDATED"):
            raise invalid_argument("allowedFunctionNames should only be set when the function calling mode is ANY "
                                   "or VALIDATED.", f"{where}.allowedFunctionNames")
        for k, name in enumerate(allowed):
            if name not in seen:
                raise invalid_argument(f"allowedFunctionNames[{k}] names \"{name}\", which is not a declared "
                                       "function.", f"{where}.allowedFunctionNames")
        plan.allowed = tuple(allowed)
    if mode == "ANY" and not declarations:
        raise invalid_argument("Function calling config is set without function_declarations.", f"{where}.mode")
    plan.mode = mode if declarations else "NONE"
    if plan.mode != "NONE" and plan.mime == "application/json" and not (model.get("emulator") or {}).get(
            "jsonWithTools"):
        raise invalid_argument("Function calling with a response mime type: 'application/json' is unsupported",
                               "generationConfig.responseMimeType")


def check_safety(settings: Any) -> list[str]:
    extra: list[str] = []
    if settings is None:
        return extra
    if not isinstance(settings, list):
        raise invalid_argument("safetySettings must be a list.", "safetySettings")
    for i, setting in enumerate(settings):
        category = (setting or {}).get("category") if isinstance(setting, dict) else None
        if category not in VALID_SAFETY_CATEGORIES:
            raise invalid_argument(
                f"* GenerateContentRequest.safety_settings[{i}].category: element predicate failed: $.category in "
                f"({', '.join('HarmCategory.' + c for c in VALID_SAFETY_CATEGORIES)})\n",
                f"safetySettings[{i}].category")
        threshold = setting.get("threshold")
        if threshold is not None and threshold not in SAFETY_THRESHOLDS:
            raise invalid_argument(f"Invalid value at 'safety_settings[{i}].threshold', \"{threshold}\"",
                                   f"safetySettings[{i}].threshold")
        if category not in SAFETY_CATEGORIES and category not in extra:
            extra.append(category)
    return extra


def plan_request(model: dict[str, Any], request: dict[str, Any], cached: dict[str, Any] | None) -> Plan:
    """Check a GenerateContentRequest (and its explicit cache's tools) and say what it asks for."""
    if not isinstance(request, dict):
        raise invalid_argument("The request body must be a JSON object.", None)
    if cached and any(request.get(key) for key in ("systemInstruction", "tools", "toolConfig")):
        raise invalid_argument(
            "CachedContent can not be used with GenerateContent request setting system_instruction, tools or "
            "tool_config.\n\nProposed fix: move those values to CachedContent from GenerateContent request.",
            "cachedContent")
    has_cached_turns = bool(cached and cached.get("contents"))
    check_contents(request.get("contents"), required=not has_cached_turns)
    if request.get("systemInstruction") is not None:
        if not isinstance(request["systemInstruction"], dict):
            raise invalid_argument("systemInstruction must be a Content object.", "systemInstruction")
        check_parts(request["systemInstruction"].get("parts"), "systemInstruction")
    plan = Plan()
    _check_generation_config(model, request.get("generationConfig"), plan)
    if cached:
        _check_tools(model, cached.get("tools"), cached.get("toolConfig"), plan, "cachedContent.tools")
    else:
        _check_tools(model, request.get("tools"), request.get("toolConfig"), plan)
    return plan
