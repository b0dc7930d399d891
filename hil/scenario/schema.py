"""JSON Schema of scenario files, generated from the same models the loader validates with.

    python -m hil.scenario.schema > docs/scenario.schema.json

Editors (VS Code's YAML extension, JetBrains) use it to complete and check scenario files:
`# yaml-language-server: $schema=../../docs/scenario.schema.json` at the top of a file.
tests/unit/test_scenario_docs.py fails when the committed schema is out of date.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from hil.scenario.format import ScenarioFile

PLACEHOLDER = {"type": "string", "pattern": r"\$\{[^}]*\}",
               "description": "a ${...} substitution"}


def _allow_placeholders(node: Any) -> Any:
    """Anywhere a number or boolean is allowed, a `${...}` string is too (it is substituted
    before validation)."""
    if isinstance(node, list):
        return [_allow_placeholders(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _allow_placeholders(v) for k, v in node.items()}
    if node.get("type") in ("number", "integer", "boolean"):
        typed = {k: v for k, v in node.items() if k not in ("title", "description", "default")}
        wrapped = {k: v for k, v in node.items() if k in ("title", "description", "default")}
        wrapped["anyOf"] = [typed, PLACEHOLDER]
        return wrapped
    return node


def schema() -> dict[str, Any]:
    out = _allow_placeholders(ScenarioFile.model_json_schema(by_alias=True))
    out["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    out["title"] = "HIL BMS scenario file"
    out["description"] = ("A scenario replayed against a BMS by the hil framework; see "
                          "docs/scenarios.md. `${...}` substitutions are resolved before "
                          "validation, so any value may also be a `${...}` string.")
    return out


def render() -> str:
    return json.dumps(schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
