"""The JSON Schemas docs/json.md documents for each command's --json output."""

import json
import re
from pathlib import Path

from jsonschema import Draft202012Validator

DOCS = Path(__file__).parents[1] / "docs" / "json.md"


def documented_schemas() -> dict[str, dict]:
    """The schemas of docs/json.md's ```json blocks, by their title (``ncm <command>``)."""
    blocks = re.findall(r"^```json\n(.*?)^```", DOCS.read_text(), flags=re.M | re.S)
    return {schema["title"]: schema for schema in map(json.loads, blocks)}


def schema_errors(title: str, output: dict) -> list[str]:
    """Where ``output`` departs from the schema titled ``title``, one line each."""
    validator = Draft202012Validator(documented_schemas()[title])
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(output)]
