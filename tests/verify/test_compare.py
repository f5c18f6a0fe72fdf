"""Pure comparisons: each field of a rule, binding or recorder that differs is named, nothing else."""

from __future__ import annotations

import json
from typing import Any

from orgguard.verify.compare import (
    differing,
    pack_rule_name_matches,
    recorder_views,
    remediation_views,
    rule_views,
)

from .factory import MGMT, ROLE, make_manifest

ACCOUNT = "210000000001"


def _live_rule(**over: Any) -> dict[str, Any]:
    live = {
        "ConfigRuleName": "orgguard-restricted-common-ports-conformance-pack-abcd1234",
        "Source": {"Owner": "AWS", "SourceIdentifier": "RESTRICTED_INCOMING_TRAFFIC"},
        "InputParameters": json.dumps({"blockedPort1": "20", "blockedPort2": "21", "blockedPort3": "3389"}),
        "Scope": {"ComplianceResourceTypes": ["AWS::EC2::SecurityGroup"]},
        "ConfigRuleState": "ACTIVE",
    }
    live.update(over)
    return live


def _live_binding(**over: Any) -> dict[str, Any]:
    live = {
        "ConfigRuleName": "r",
        "TargetType": "SSM_DOCUMENT",
        "TargetId": "orgguard-RevokePublicSgIngress",
        "Automatic": True,
        "Parameters": {
            "GroupId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
            "RestrictedPorts": {"StaticValue": {"Values": ["22"]}},
            "AutomationAssumeRole": {"StaticValue": {"Values": [f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"]}},
        },
        "MaximumAutomaticAttempts": 3,
        "RetryAttemptSeconds": 60,
    }
    live.update(over)
    return live


def test_faithful_rule_has_no_differences() -> None:
    spec = make_manifest().controls[1].rule
    assert differing(*rule_views(spec, _live_rule(), None)) == []


def test_changed_rule_parameter_and_source_are_named() -> None:
    spec = make_manifest().controls[1].rule
    params = json.dumps({"blockedPort1": "20", "blockedPort2": "21"})
    live = _live_rule(InputParameters=params, Source={"Owner": "AWS", "SourceIdentifier": "INCOMING_SSH_DISABLED"})
    assert differing(*rule_views(spec, live, None)) == ["source_identifier", "input_parameters"]


def test_numeric_parameter_values_compare_as_config_strings() -> None:
    spec = make_manifest().controls[1].rule
    live = _live_rule(InputParameters=json.dumps({"blockedPort1": 20, "blockedPort2": 21, "blockedPort3": 3389}))
    assert differing(*rule_views(spec, live, None)) == []


def test_pack_rule_names_match_only_the_config_suffix_pattern() -> None:
    assert pack_rule_name_matches("orgguard-ssh", "orgguard-ssh-conformance-pack-ab12cd34")
    assert not pack_rule_name_matches("orgguard-ssh", "orgguard-ssh-v2-conformance-pack-ab12cd34")
    assert not pack_rule_name_matches("orgguard-ssh", "orgguard-ssh-conformance-pack-")


def test_faithful_binding_matches_after_account_substitution() -> None:
    spec = make_manifest().controls[0].remediation
    expected, actual = remediation_views(spec, _live_binding(), ACCOUNT)
    assert expected == actual


def test_org_pack_role_arn_naming_management_account_matches_member_arn() -> None:
    spec = make_manifest().controls[0].remediation
    params = dict(spec.parameters)
    params["AutomationAssumeRole"] = params["AutomationAssumeRole"].model_copy(
        update={"static_values": [f"arn:aws:iam::{MGMT}:role/{ROLE}"]}
    )
    org_spec = spec.model_copy(update={"parameters": params})
    expected, actual = remediation_views(org_spec, _live_binding(), ACCOUNT, MGMT)
    assert expected == actual


def test_binding_to_another_version_role_or_manual_mode_is_named() -> None:
    spec = make_manifest().controls[0].remediation
    role = {"StaticValue": {"Values": [f"arn:aws:iam::{ACCOUNT}:role/Admin"]}}
    live = _live_binding(TargetVersion="3", Automatic=False)
    live["Parameters"] = {**live["Parameters"], "AutomationAssumeRole": role}
    expected, actual = remediation_views(spec, live, ACCOUNT)
    assert expected is not None and actual is not None
    assert differing(expected, actual) == ["version", "automatic", "parameters"]


def test_missing_binding_and_unwanted_binding() -> None:
    spec = make_manifest().controls[0].remediation
    expected, actual = remediation_views(spec, None, ACCOUNT)
    assert expected is not None and actual is None
    off = spec.model_copy(update={"mode": "off"})
    assert remediation_views(off, None, ACCOUNT) == (None, None)
    assert remediation_views(off, _live_binding(), ACCOUNT)[1] is not None


def test_recorder_stopped_or_missing_types_or_absent() -> None:
    types = ["AWS::EC2::SecurityGroup", "AWS::ECS::Service"]
    all_supported = [{"name": "default", "recordingGroup": {"allSupported": True}}]
    on = [{"name": "default", "recording": True}]
    off = [{"name": "default", "recording": False}]
    assert differing(*recorder_views(types, all_supported, on)) == []
    assert differing(*recorder_views(types, all_supported, off)) == ["recording"]
    narrow = [{"name": "default", "recordingGroup": {"allSupported": False, "resourceTypes": types[:1]}}]
    assert recorder_views(types, narrow, on)[1]["missing_types"] == ["AWS::ECS::Service"]
    excluded = [
        {
            "name": "default",
            "recordingGroup": {
                "allSupported": False,
                "exclusionByResourceTypes": {"resourceTypes": ["AWS::ECS::Service"]},
                "recordingStrategy": {"useOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
            },
        }
    ]
    assert recorder_views(types, excluded, on)[1]["missing_types"] == ["AWS::ECS::Service"]
    assert recorder_views(types, [], [])[1]["recorder"] is None
