"""The published JSON Schema is generated from the models; a stale committed copy fails here."""

import json

from orgguard.controls import CATALOG
from orgguard.synth.cli import schema_json
from tests.synth.conftest import ROOT


def test_committed_schema_matches_the_models():
    committed = (ROOT / "schema" / "governance.schema.json").read_text()
    assert committed == schema_json(), "run: orgguard schema --output schema/governance.schema.json"


def test_schema_names_every_control_and_rejects_unknown_keys():
    schema = json.loads(schema_json())
    controls = schema["$defs"]["Controls"]
    assert set(controls["properties"]) == set(CATALOG) and len(CATALOG) >= 5
    assert controls["additionalProperties"] is False
    assert schema["additionalProperties"] is False


def test_every_schema_field_is_documented():
    doc = (ROOT / "docs" / "governance-file.md").read_text()
    schema = json.loads(schema_json())
    missing = []
    for model in [schema, *schema["$defs"].values()]:
        for field in model.get("properties", {}):
            if f"`{field}`" not in doc:
                missing.append(field)
    assert not missing, f"document these fields in docs/governance-file.md: {sorted(set(missing))}"
