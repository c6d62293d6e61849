"""The drift check: every cassette of a directory validated against the recorded schemas (the request
with the message its route takes, the response with the route's response message or the error envelope),
listing fields the schemas lack (`gemini-mock drift DIR`). Cassettes themselves are cassettes.py's."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from .app import RESOURCES
from .errors import ApiError
from .openapi import ERROR_SCHEMA, operation_for
from .cassettes import load_cassettes
from .routing import Router
from .schema import normalize
from .wire import sse_events

if TYPE_CHECKING:
    from jsonschema import Draft202012Validator


@dataclass
class Finding:
    """What the drift check found in one cassette."""
    file: str
    route: str
    unknown_fields: list[str] = field(default_factory=list)   # "<where>: <field>" the schemas lack
    problems: list[str] = field(default_factory=list)         # other mismatches
    skipped: str | None = None                                 # why nothing was checked

    @property
    def drifted(self) -> bool:
        return bool(self.unknown_fields or self.problems)


_validators: dict[tuple[str, str], Draft202012Validator] = {}


def _validator(version: str, name: str) -> Draft202012Validator:
    key = (version, name)
    if key not in _validators:
        from jsonschema import Draft202012Validator
        from .schema import json_schema
        _validators[key] = Draft202012Validator(json_schema(version, name))
    return _validators[key]


def _where(path: Iterable[str | int]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".") or "<root>"


def check_payload(version: str, message: str, payload: Any, prefix: str = "") -> tuple[list[str], list[str]]:
    """(unknown fields, other problems) of `payload` as a `message` answer."""
    unknown, problems = [], []
    for error in _validator(version, message).iter_errors(payload):
        where = prefix + _where(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = set((error.schema.get("properties") or {}))
            for name in sorted(set(error.instance) - known):
                unknown.append(f"{where}.{name}" if where != "<root>" else name)
        else:
            problems.append(f"{where}: {error.message}")
    return unknown, problems


def check_cassette(cassette: dict[str, Any], name: str = "") -> Finding:
    """Validate one cassette against the recorded schemas."""

    req, res = cassette["request"], cassette["response"]
    router = _router(RESOURCES, Router)
    try:
        found = router.match(req["method"], req["path"])
    except ApiError:
        return Finding(name, f"{req['method']} {req['path']}", skipped="no such route in the emulator")
    route, version = found.route, found.version
    label = f"{req['method']} {route.template}"
    finding = Finding(name, label)
    op = operation_for(route)
    if op is None or op.openai:
        finding.skipped = "not described by the recorded schemas"
        return finding
    query = dict((k, v) for k, v in req.get("query") or [])
    file_bytes = route.media == "upload" and ("upload_id" in query or query.get("uploadType") in ("media", "multipart"))
    if op.request and "body" in req and isinstance(req["body"], dict) and not file_bytes:
        try:
            normalize(version, op.request, req["body"])
        except ApiError as error:
            text = error.message
            match = re.search(r'Unknown name "([^"]+)"(?: at \'([^\']+)\')?', text)
            if match:
                finding.unknown_fields.append("request: " + ".".join(p for p in (match.group(2), match.group(1)) if p))
            else:
                finding.problems.append(f"request: {text}")
    status = int(res.get("status", 200))
    if status != 200:
        from jsonschema import Draft202012Validator
        body = res.get("body")
        for problem in Draft202012Validator(ERROR_SCHEMA).iter_errors(body):
            finding.problems.append(f"error answer {_where(problem.absolute_path)}: {problem.message}")
        return finding
    if not op.response:
        return finding
    if op.stream:
        try:
            events = res["body"] if isinstance(res.get("body"), list) else sse_events(res.get("bodyText", ""))
        except ValueError as error:
            finding.problems.append(f"stream: not JSON events ({error})")
            return finding
        for i, event in enumerate(events):
            unknown, problems = check_payload(version, op.response, event, prefix=f"event[{i}].")
            finding.unknown_fields += unknown
            finding.problems += problems
        return finding
    if "body" not in res:
        if res.get("bodyText") or res.get("bodyBase64"):
            if op.media != "download":
                finding.problems.append("answer: not JSON")
        return finding   # media bytes, or the empty answer of a resumable upload step
    unknown, problems = check_payload(version, op.response, res["body"])
    finding.unknown_fields += unknown
    finding.problems += problems
    return finding


_routers: dict[int, Router] = {}


def _router(resources: Sequence[ModuleType], router_cls: type[Router]) -> Router:
    key = id(resources)
    if key not in _routers:
        _routers[key] = router_cls([item for module in resources for item in module.ROUTES])
    return _routers[key]


def drift(directory: str | Path) -> list[Finding]:
    """A Finding per cassette of `directory`."""
    return [check_cassette(data, path.name) for path, data in load_cassettes(directory)]


def drift_report(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        if f.skipped:
            lines.append(f"skip   {f.file}  {f.route}: {f.skipped}")
        elif f.drifted:
            lines.append(f"DRIFT  {f.file}  {f.route}")
            lines += [f"         unknown field: {u}" for u in f.unknown_fields]
            lines += [f"         mismatch: {p}" for p in f.problems]
        else:
            lines.append(f"ok     {f.file}  {f.route}")
    drifted = sum(1 for f in findings if f.drifted)
    unknown = sorted({u for f in findings for u in f.unknown_fields})
    lines.append(f"{len(findings)} cassettes, {drifted} with drift, {len(unknown)} unknown fields"
                 + (": " + ", ".join(unknown) if unknown else ""))
    return "\n".join(lines)
