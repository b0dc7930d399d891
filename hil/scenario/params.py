"""Safe `${...}` substitution in scenario values: numbers, + - * / and dotted names.

`${limits.cell_ov_volts + 0.05}` reads a limit from the DUT profile and adds a margin. The
expression is parsed with `ast` and only numbers, the four operators, parentheses and names
from the namespace are allowed: nothing is evaluated by Python.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

from hil.yamlfile import did_you_mean

PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")

_BINARY: dict[type, Callable[[float, float], float]] = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_UNARY: dict[type, Callable[[float], float]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}

Namespace = Mapping[str, Any]


class SubstitutionError(ValueError):
    """An expression that is not allowed or names something that does not exist."""


def substitute(text: str, namespace: Namespace) -> Any:
    """Replace `${...}` in `text`. A string that is one placeholder becomes a number."""
    whole = PLACEHOLDER.fullmatch(text.strip())
    if whole:
        return evaluate(whole.group(1), namespace)

    def one(match: re.Match[str]) -> str:
        value = evaluate(match.group(1), namespace)
        return f"{value:.15g}" if isinstance(value, float) else str(value)

    return PLACEHOLDER.sub(one, text)


def evaluate(expression: str, namespace: Namespace) -> Any:
    expression = expression.strip()
    if not expression:
        raise SubstitutionError("empty ${}")
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError:
        raise SubstitutionError(f"cannot read ${{{expression}}}") from None
    return _eval(tree.body, namespace, expression)


def _eval(node: ast.AST, ns: Namespace, expression: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not (
            isinstance(node.value, bool)):
        return float(node.value)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left = _number(_eval(node.left, ns, expression), expression)
        right = _number(_eval(node.right, ns, expression), expression)
        if isinstance(node.op, ast.Div) and right == 0:
            raise SubstitutionError(f"division by zero in ${{{expression}}}")
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _UNARY[type(node.op)](_number(_eval(node.operand, ns, expression), expression))
    if isinstance(node, ast.Name):
        return _lookup(ns, [node.id])
    if isinstance(node, ast.Attribute):
        parts = []
        current: ast.AST = node
        while isinstance(current, ast.Attribute):
            parts.append(current.attr)
            current = current.value
        if isinstance(current, ast.Name):
            parts.append(current.id)
            return _lookup(ns, list(reversed(parts)))
    raise SubstitutionError(
        f"${{{expression}}}: only numbers, + - * / ( ) and names like limits.cell_ov_volts "
        "are allowed")


def _number(value: Any, expression: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SubstitutionError(f"${{{expression}}}: {value!r} is not a number")
    return float(value)


def _lookup(ns: Namespace, parts: list[str]) -> Any:
    current: Any = ns
    walked: list[str] = []
    for part in parts:
        if not isinstance(current, Mapping) or part not in current:
            choices = list(current) if isinstance(current, Mapping) else []
            where = ".".join(walked) or "the scenario"
            hint = did_you_mean(part, [str(c) for c in choices])
            raise SubstitutionError(f"{where} has no {part!r}{hint}")
        current = current[part]
        walked.append(part)
    if isinstance(current, Mapping):
        raise SubstitutionError(f"{'.'.join(parts)} is a group, not a value; "
                                f"pick one of {', '.join(map(str, current))}")
    return float(current) if isinstance(current, int) and not isinstance(current, bool) \
        else current


def substitute_tree(data: Any, namespace: Namespace, on_error: Callable[[str, tuple], Exception],
                    loc: tuple = ()) -> Any:
    """Substitute every string in a nested structure; `on_error(message, loc)` builds errors."""
    if isinstance(data, str):
        if "${" not in data:
            return data
        try:
            return substitute(data, namespace)
        except SubstitutionError as err:
            raise on_error(str(err), loc) from None
    if isinstance(data, list):
        return [substitute_tree(v, namespace, on_error, (*loc, i)) for i, v in enumerate(data)]
    if isinstance(data, dict):
        out = {}
        for key, value in data.items():
            new_key = key
            if isinstance(key, str) and "${" in key:  # `{"${cell}": 4.3}`: keys too
                try:
                    new_key = substitute(key, namespace)
                except SubstitutionError as err:
                    raise on_error(str(err), (*loc, key)) from None
                if isinstance(new_key, float) and new_key.is_integer():
                    new_key = int(new_key)
                if not isinstance(new_key, str | int | float):
                    raise on_error(f"{key!r} must become a number or a name, not "
                                   f"{type(new_key).__name__} {new_key!r}", (*loc, key))
            out[new_key] = substitute_tree(value, namespace, on_error, (*loc, key))
        return out
    return data
