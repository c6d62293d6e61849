"""Code execution (`tools: [{codeExecution: {}}]`): the `executableCode` and `codeExecutionResult` parts the
model returns before its answer (https://ai.google.dev/gemini-api/docs/code-execution).

Nothing is executed. The program is chosen so that its output is known exactly: when the prompt holds an
arithmetic expression, the program prints its value (evaluated here on numbers and + - * / // % ** only,
with small operands); otherwise it counts the letters of the prompt's keywords. A rule may script the
code, its output and its outcome.
"""
from __future__ import annotations

import ast
import json
import operator
import random
import re
from typing import Any, Callable

from ..errors import invalid_argument
from .counting import part_tokens

OUTCOMES = ("OUTCOME_OK", "OUTCOME_FAILED", "OUTCOME_DEADLINE_EXCEEDED")
# A minus needs spaces around it, so that dates (2024-06-14) and ranges are not taken for subtractions.
_EXPRESSION_RE = re.compile(
    r"\(?\s*-?\d+(?:\.\d+)?(?:(?:\s*(?:\*\*|//|[+*/%])\s*|\s+-\s+)\(?\s*-?\d+(?:\.\d+)?(?:\s*\))?)+")
_OPERATORS: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: operator.pow}
_MAX_OPERAND = 10 ** 12


def check_script(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise invalid_argument(f"{where} must be a JSON object.", where)
    for key in value:
        if key not in ("code", "output", "outcome"):
            raise invalid_argument(f"Unknown field '{where}.{key}': expected one of code, output, outcome.",
                                   f"{where}.{key}")
    for key in ("code", "output"):
        if not isinstance(value.get(key, ""), str):
            raise invalid_argument(f"{where}.{key} must be a string.", f"{where}.{key}")
    outcome = str(value.get("outcome") or "OUTCOME_OK").upper()
    if outcome not in OUTCOMES:
        raise invalid_argument(f"{where}.outcome must be one of {', '.join(OUTCOMES)}.", f"{where}.outcome")
    return {"code": value.get("code", ""), "output": value.get("output", ""), "outcome": outcome}


def _evaluate(node: ast.AST) -> float | int:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if abs(left) > _MAX_OPERAND or abs(right) > _MAX_OPERAND or (isinstance(node.op, ast.Pow) and abs(right) > 64):
            raise ValueError("too big")
        return _OPERATORS[type(node.op)](left, right)
    raise ValueError("not arithmetic")


def _arithmetic(prompt: str) -> tuple[str, str] | None:
    """(expression, printed value) for the first arithmetic expression in the prompt that evaluates."""
    for match in _EXPRESSION_RE.finditer(prompt):
        expression = " ".join(match.group(0).split())
        if expression.count("(") != expression.count(")"):
            continue
        try:
            value = _evaluate(ast.parse(expression, mode="eval").body)
        except (ValueError, SyntaxError, ZeroDivisionError, OverflowError):
            continue
        return expression, f"{value}\n"
    return None


def program(rng: random.Random, prompt: str, hints: list[str], script: dict[str, Any] | None) -> dict[str, Any]:
    """{"code", "output", "outcome"}: what the model writes and what running it prints."""
    if script is not None:
        return dict(script)
    found = _arithmetic(prompt)
    if found is not None:
        expression, output = found
        return {"code": f"result = {expression}\nprint(result)\n", "output": output, "outcome": "OUTCOME_OK"}
    words = list(hints[:4]) or ["answer"]
    letters = sum(len(word) for word in words)
    code = (f"words = {json.dumps(words, ensure_ascii=False)}\n"
            "letters = sum(len(word) for word in words)\n"
            "print(f\"{len(words)} words, {letters} letters\")\n")
    return {"code": code, "output": f"{len(words)} words, {letters} letters\n", "outcome": "OUTCOME_OK"}


def insert_parts(parts: list[dict[str, Any]], run: dict[str, Any]) -> int:
    """Put the code and its result before the answer text (after any thought summary); returns their
    tokens. The thought signature moves to the first answer part, where the real API puts it."""
    code_part: dict[str, Any] = {"executableCode": {"language": "PYTHON", "code": run["code"]}}
    result: dict[str, Any] = {"outcome": run["outcome"]}
    if run["output"]:
        result["output"] = run["output"]
    result_part = {"codeExecutionResult": result}
    at = next((i for i, part in enumerate(parts) if not part.get("thought")), len(parts))
    if at < len(parts) and "thoughtSignature" in parts[at]:
        code_part["thoughtSignature"] = parts[at].pop("thoughtSignature")
    parts[at:at] = [code_part, result_part]
    return part_tokens(code_part) + part_tokens(result_part)
