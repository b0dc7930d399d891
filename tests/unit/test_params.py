"""Unit tests for hil.scenario.params: safe ${...} substitution."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hil.scenario.params import SubstitutionError, evaluate, substitute, substitute_tree

FAST = settings(max_examples=100, deadline=None, database=None)

NS = {
    "limits": {"cell_ov_volts": 4.25, "cells": 16, "flag": True, "label": "abc",
               "nested": {"x": 1.5}},
    "k": 2,
    "margin": 0.05,
}


# --- numbers and operators -------------------------------------------------------------------

@pytest.mark.parametrize(("expression", "expected"), [
    ("1", 1.0),
    ("2.5", 2.5),
    ("1e3", 1000.0),
    ("1 + 2", 3.0),
    ("5 - 7", -2.0),
    ("3 * 4", 12.0),
    ("7 / 2", 3.5),
    ("1 + 2 * 3", 7.0),
    ("(1 + 2) * 3", 9.0),
    ("-k", -2.0),
    ("+k", 2.0),
    ("-(1 - 4)", 3.0),
    ("--1", 1.0),
    ("limits.cell_ov_volts + margin", 4.3),
    ("limits.cells / k", 8.0),
    ("limits.nested.x * 2", 3.0),
    ("  k  ", 2.0),
])
def test_evaluate(expression: str, expected: float) -> None:
    result = evaluate(expression, NS)
    assert isinstance(result, float)
    assert result == pytest.approx(expected)


def test_integers_from_the_namespace_become_floats() -> None:
    value = evaluate("limits.cells", NS)
    assert value == 16.0 and isinstance(value, float)


def test_non_numeric_values_pass_through_a_bare_lookup() -> None:
    assert evaluate("limits.label", NS) == "abc"
    assert evaluate("limits.flag", NS) is True


@FAST
@given(a=st.floats(-1e6, 1e6), b=st.floats(-1e6, 1e6),
       op=st.sampled_from(["+", "-", "*", "/"]))
def test_binary_operators_match_python(a: float, b: float, op: str) -> None:
    ns = {"a": a, "b": b}
    if op == "/" and b == 0:
        with pytest.raises(SubstitutionError, match="division by zero"):
            evaluate("a / b", ns)
        return
    expected = {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else math.nan}[op]
    assert evaluate(f"a {op} b", ns) == expected


@FAST
@given(st.recursive(
    st.integers(-50, 50).map(str),
    lambda inner: st.one_of(
        st.tuples(inner, st.sampled_from(["+", "-", "*"]), inner).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"),
        inner.map(lambda s: f"-{s}"),
    ),
    max_leaves=8,
))
def test_random_integer_expressions_match_python(expression: str) -> None:
    assert evaluate(expression, {}) == float(eval(expression))  # only digits, + - * ( )


# --- substitute ----------------------------------------------------------------------------

def test_whole_placeholder_becomes_a_number() -> None:
    assert substitute("${limits.cell_ov_volts + 0.05}", NS) == pytest.approx(4.3)
    assert substitute("  ${k}  ", NS) == 2.0
    assert substitute("${limits.cells}", NS) == 16.0


def test_embedded_placeholder_becomes_a_string() -> None:
    assert substitute("cell ${limits.cells} at ${limits.cell_ov_volts}V", NS) == \
        "cell 16 at 4.25V"
    assert substitute(">= ${limits.cell_ov_volts - margin}", NS) == ">= 4.2"
    assert substitute("${k}${k}", NS) == "22"
    assert substitute("name ${limits.label}", NS) == "name abc"


def test_text_without_placeholder_is_unchanged() -> None:
    assert substitute("plain text", NS) == "plain text"
    assert substitute("$k {k}", NS) == "$k {k}"


@FAST
@given(st.floats(-1e9, 1e9, allow_nan=False))
def test_whole_placeholder_round_trips_any_number(value: float) -> None:
    assert substitute("${v}", {"v": value}) == value


# --- errors ----------------------------------------------------------------------------------

def test_unknown_top_level_name_did_you_mean() -> None:
    with pytest.raises(SubstitutionError) as info:
        evaluate("limit.cell_ov_volts", NS)
    assert str(info.value) == "the scenario has no 'limit' (did you mean 'limits'?)"


def test_unknown_nested_name_did_you_mean() -> None:
    with pytest.raises(SubstitutionError) as info:
        substitute("${limits.cell_ov_volt + 1}", NS)
    assert str(info.value) == "limits has no 'cell_ov_volt' (did you mean 'cell_ov_volts'?)"


def test_unknown_name_without_close_match() -> None:
    with pytest.raises(SubstitutionError) as info:
        evaluate("zzzz", NS)
    assert str(info.value) == "the scenario has no 'zzzz'"


def test_name_below_a_value() -> None:
    with pytest.raises(SubstitutionError, match=r"limits\.nested\.x has no 'y'"):
        evaluate("limits.nested.x.y", NS)


def test_group_is_not_a_value() -> None:
    with pytest.raises(SubstitutionError) as info:
        evaluate("limits.nested", NS)
    assert str(info.value) == "limits.nested is a group, not a value; pick one of x"


@pytest.mark.parametrize("expression", [
    "__import__('os')",
    "(lambda: 1)()",
    "abs(k)",
    "k ** 2",
    "k % 2",
    "k // 2",
    "k if k else 1",
    "[1, 2]",
    "'text'",
    "True",
    "None",
    "k < 3",
    "limits['cells']",
    "(1).real",
])
def test_anything_but_arithmetic_and_names_is_rejected(expression: str) -> None:
    with pytest.raises(SubstitutionError, match=r"only numbers, \+ - \* / \( \) and names"):
        evaluate(expression, NS)


@pytest.mark.parametrize("expression", ["k.__class__", "limits.__class__.__mro__",
                                        "k.real", "limits.keys"])
def test_attribute_tricks_are_only_name_lookups(expression: str) -> None:
    with pytest.raises(SubstitutionError, match="has no"):
        evaluate(expression, NS)


def test_division_by_zero() -> None:
    with pytest.raises(SubstitutionError, match=r"division by zero in \$\{k / \(k - 2\)\}"):
        evaluate("k / (k - 2)", NS)


def test_arithmetic_on_a_non_number() -> None:
    with pytest.raises(SubstitutionError, match="'abc' is not a number"):
        evaluate("limits.label + 1", NS)
    with pytest.raises(SubstitutionError, match="True is not a number"):
        evaluate("-limits.flag", NS)


@pytest.mark.parametrize(("text", "message"), [
    ("${}", "empty ${}"),
    ("${   }", "empty ${}"),
    ("${1 +}", "cannot read ${1 +}"),
])
def test_empty_and_unreadable(text: str, message: str) -> None:
    with pytest.raises(SubstitutionError) as info:
        substitute(text, NS)
    assert str(info.value) == message


# --- substitute_tree -----------------------------------------------------------------------

class _Located(Exception):
    def __init__(self, message: str, loc: tuple) -> None:
        super().__init__(message)
        self.loc = loc


def test_substitute_tree_walks_lists_and_dicts() -> None:
    data = {"a": "${k}", "b": ["x", "${k * 2}", {"c": "v=${k}"}], "n": 3, "keep": None,
            "${k}": "key substituted", "cell ${k}": "in a longer key"}
    out = substitute_tree(data, NS, _Located)
    assert out == {"a": 2.0, "b": ["x", 4.0, {"c": "v=2"}], "n": 3, "keep": None,
                   2: "key substituted", "cell 2": "in a longer key"}
    assert data["a"] == "${k}"  # the input is not modified


def test_substitute_tree_error_has_location() -> None:
    data = {"steps": [{"set": {"v": "${k}"}}, {"set": {"v": "${limits.cel}"}}]}
    with pytest.raises(_Located) as info:
        substitute_tree(data, NS, _Located)
    assert info.value.loc == ("steps", 1, "set", "v")
    assert "limits has no 'cel'" in str(info.value)


def test_substitute_tree_starts_at_given_loc() -> None:
    with pytest.raises(_Located) as info:
        substitute_tree(["${1/0}"], NS, _Located, ("parameters", "p"))
    assert info.value.loc == ("parameters", "p", 0)


# --- bugs ----------------------------------------------------------------------------------

def test_embedded_placeholder_keeps_full_precision() -> None:
    assert substitute(">= ${x}", {"x": 1234567}) == ">= 1234567"
