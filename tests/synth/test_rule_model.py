"""One rule model, rendered twice: the pack's CloudFormation and account mode's Terraform read one ConfigRule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from cdktn import TerraformStack, Testing

from orgguard.config.load import parse_governance
from orgguard.manifest import ControlEntry
from orgguard.naming import logical_id
from orgguard.rules import ConfigRule, RuleModelError
from orgguard.stacks.common import place_rule
from orgguard.synth.plan import build_plan
from orgguard.synth.templates import conformance_pack
from tests.synth.conftest import ROOT

MEMBER = "222233334444"


def _manifest(path: Path = ROOT / "governance.yaml"):  # type: ignore[no-untyped-def]
    text = path.read_text()
    gov = parse_governance(text, path.name)
    return gov, build_plan(gov, path, text).manifest


def _terraform(control: ControlEntry) -> dict:
    stack = TerraformStack(Testing.app(), "t")
    place_rule(stack, control, account_id=MEMBER, region="eu-west-1", provider=None, depends_on=None)  # type: ignore[arg-type]
    return json.loads(Testing.synth(stack))["resource"]


def _all_protocols(tmp_path: Path) -> Path:
    """The example with the periodic restricted-ports-all-protocols rule on (a MaximumExecutionFrequency)."""
    data = yaml.safe_load((ROOT / "governance.yaml").read_text())
    data["controls"]["restricted-ports-all-protocols"] = {"enabled": True, "remediation": "automatic",
                                                          "frequency": "Twelve_Hours"}  # fmt: skip
    path = tmp_path / "all-protocols.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize("variant", ["example", "periodic-rule"])
def test_pack_and_terraform_carry_the_same_rule_and_remediation(variant: str, tmp_path: Path) -> None:
    """Every field one renderer writes, the other writes with the same value (member account put in)."""
    gov, manifest = _manifest() if variant == "example" else _manifest(_all_protocols(tmp_path))
    periodic = 0
    mgmt = manifest.organization.management_account_id
    enabled = [c for c in manifest.controls if c.enabled]
    pack = yaml.safe_load(conformance_pack(gov, enabled, management_account_id=mgmt))["Resources"]
    checked = 0
    for control in enabled:
        tf = _terraform(control)
        (rule,) = tf["aws_config_config_rule"].values()
        cfn = pack[f"{logical_id(control.id)}Rule"]["Properties"]
        assert (rule["name"], rule["description"]) == (cfn["ConfigRuleName"], cfn["Description"])
        assert rule["scope"]["compliance_resource_types"] == cfn["Scope"]["ComplianceResourceTypes"]
        assert json.loads(rule.get("input_parameters", "{}")) == cfn.get("InputParameters", {})
        assert rule["source"]["owner"] == cfn["Source"]["Owner"]
        assert rule.get("maximum_execution_frequency") == cfn.get("MaximumExecutionFrequency")
        periodic += "MaximumExecutionFrequency" in cfn
        if cfn["Source"]["Owner"] == "AWS":
            assert rule["source"]["source_identifier"] == cfn["Source"]["SourceIdentifier"]
        else:
            details = [(d["event_source"], d["message_type"]) for d in rule["source"]["source_detail"]]
            assert details == [(d["EventSource"], d["MessageType"]) for d in cfn["Source"]["SourceDetails"]]
            policy = rule["source"]["custom_policy_details"]
            assert policy["policy_text"] == cfn["Source"]["CustomPolicyDetails"]["PolicyText"]
            assert policy["policy_runtime"] == cfn["Source"]["CustomPolicyDetails"]["PolicyRuntime"]
        remediation = f"{logical_id(control.id)}Remediation"
        assert (remediation in pack) == ("aws_config_remediation_configuration" in tf), control.id
        if remediation not in pack:
            continue
        (tf_rem,) = tf["aws_config_remediation_configuration"].values()
        cfn_rem = pack[remediation]["Properties"]
        assert tf_rem["target_id"] == cfn_rem["TargetId"] and tf_rem["resource_type"] == cfn_rem["ResourceType"]
        assert tf_rem["automatic"] == cfn_rem["Automatic"]
        assert tf_rem.get("maximum_automatic_attempts") == cfn_rem.get("MaximumAutomaticAttempts")
        assert tf_rem.get("retry_attempt_seconds") == cfn_rem.get("RetryAttemptSeconds")
        ssm = tf_rem["execution_controls"]["ssm_controls"]
        assert ssm == {
            "concurrent_execution_rate_percentage": cfn_rem["ExecutionControls"]["SsmControls"][
                "ConcurrentExecutionRatePercentage"
            ],
            "error_percentage": cfn_rem["ExecutionControls"]["SsmControls"]["ErrorPercentage"],
        }
        tf_params = {
            p["name"]: p.get("resource_value") or p.get("static_values") or [p["static_value"]]
            for p in tf_rem["parameter"]
        }
        cfn_params = {
            name: p["ResourceValue"]["Value"]
            if "ResourceValue" in p
            else [v.replace(mgmt, MEMBER) for v in p["StaticValue"]["Values"]]
            for name, p in cfn_rem["Parameters"].items()
        }
        assert tf_params == cfn_params
        checked += 1
    assert checked >= 2, "the example must remediate at least two controls for this comparison to mean anything"
    assert periodic == (variant == "periodic-rule"), "only the periodic rule carries a frequency"


def _with_remediation(**changes: object) -> ControlEntry:
    _, manifest = _manifest()
    control = next(c for c in manifest.controls if c.remediation.mode == "automatic")
    return control.model_copy(update={"remediation": control.remediation.model_copy(update=changes)})


@pytest.mark.parametrize(
    "field", ["concurrent_execution_rate_percentage", "error_percentage", "maximum_automatic_attempts", "document"]
)
def test_a_missing_remediation_value_is_refused_by_both_renderers_not_defaulted(field: str) -> None:
    """Account mode used to write 10 for a missing percentage (`or 10`) while the pack printed the manifest's."""
    control = _with_remediation(**{field: None})
    with pytest.raises(RuleModelError, match=rf"controls\[{control.id}\]\.remediation\.{field}: missing"):
        ConfigRule.from_control(control)
    with pytest.raises(RuleModelError, match=rf"remediation\.{field}"):
        _terraform(control)


def test_manual_remediation_needs_no_retry_settings() -> None:
    control = _with_remediation(mode="manual", maximum_automatic_attempts=None, retry_attempt_seconds=None)
    rule = ConfigRule.from_control(control)
    assert rule.remediation is not None and not rule.remediation.automatic
    assert "MaximumAutomaticAttempts" not in "\n".join(rule.cloudformation("111111111111"))
