"""docs/scenarios.md and docs/scenario.schema.json describe exactly what the loader accepts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from hil.scenario import schema
from hil.scenario.format import ACTIONS, CHECK_KINDS

REPO = Path(__file__).resolve().parents[2]
DOC = (REPO / "docs" / "scenarios.md").read_text()
SCHEMA_FILE = REPO / "docs" / "scenario.schema.json"


def test_committed_schema_is_up_to_date() -> None:
    assert SCHEMA_FILE.read_text() == schema.render(), (
        "docs/scenario.schema.json is stale: python -m hil.scenario.schema > "
        "docs/scenario.schema.json")


def _properties(node: object) -> set[str]:
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found |= set(value)
            found |= _properties(value)
    elif isinstance(node, list):
        for item in node:
            found |= _properties(item)
    return found


def test_every_field_is_documented() -> None:
    documented = set(re.findall(r"`([a-z_]+)", DOC))
    missing = sorted(_properties(schema.schema()) - documented)
    assert not missing, f"fields missing from docs/scenarios.md: {missing}"
    assert set(ACTIONS) <= documented
    assert {k for k in CHECK_KINDS} <= documented


@pytest.mark.parametrize("path", sorted((REPO / "scenarios").rglob("*.yaml")),
                         ids=lambda p: str(p.relative_to(REPO)))
def test_shipped_scenarios_validate_against_the_schema(path: Path) -> None:
    jsonschema.validate(yaml.safe_load(path.read_text()), json.loads(SCHEMA_FILE.read_text()))


@pytest.mark.parametrize("text", [
    "scenario: t\nstep: []\n",
    "steps: [{at_seconds: 1}]\n",
    "scenario: t\nsteps: [{at_seconds: 1, expect: [{role: x, becomes: 1}]}]\n",
    "scenario: t\nsteps: [{at_seconds: 1, can: {stop: X, frames: 0}}]\n",
])
def test_schema_rejects_what_the_loader_rejects(text: str) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), json.loads(SCHEMA_FILE.read_text()))
