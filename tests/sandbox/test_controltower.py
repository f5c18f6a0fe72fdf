"""Control Tower over HTTP: enable, operations, list/get enabled controls, drift, disable."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox
from tests.sandbox.shapes import ShapeRecorder

SSH = "arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICTED_SSH"
PORTS = "arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICTED_COMMON_PORTS"


def test_enable_list_get_drift_and_disable_controls_on_an_ou(sandbox: Sandbox) -> None:
    org = sandbox.org
    ct = sandbox.session().client("controltower")
    recorder = ShapeRecorder(ct)
    target = org.ou_arn(org.ous["workloads"])
    enabled = {}
    for control in (SSH, PORTS):
        answer = ct.enable_control(controlIdentifier=control, targetIdentifier=target)
        operation = ct.get_control_operation(operationIdentifier=answer["operationIdentifier"])["controlOperation"]
        assert (operation["status"], operation["operationType"]) == ("SUCCEEDED", "ENABLE_CONTROL")
        enabled[control] = answer["arn"]
    listed = ct.list_enabled_controls(targetIdentifier=target)["enabledControls"]
    assert {c["controlIdentifier"] for c in listed} == {SSH, PORTS}
    other = org.ou_arn(org.ous["sandboxes"])
    assert ct.list_enabled_controls(targetIdentifier=other)["enabledControls"] == []
    details = ct.get_enabled_control(enabledControlIdentifier=enabled[SSH])["enabledControlDetails"]
    assert details["statusSummary"]["status"] == "SUCCEEDED"
    assert details["driftStatusSummary"]["driftStatus"] == "IN_SYNC"
    sandbox.set_control_drift(enabled[SSH])
    details = ct.get_enabled_control(enabledControlIdentifier=enabled[SSH])["enabledControlDetails"]
    assert details["driftStatusSummary"]["driftStatus"] == "DRIFTED"
    for control in (SSH, PORTS):
        op = ct.disable_control(controlIdentifier=control, targetIdentifier=target)["operationIdentifier"]
        assert (
            ct.get_control_operation(operationIdentifier=op)["controlOperation"]["operationType"] == "DISABLE_CONTROL"
        )
    assert ct.list_enabled_controls(targetIdentifier=target)["enabledControls"] == []
    assert recorder.errors == [] and len(recorder.checked) >= 10


def test_enable_control_on_an_unknown_ou_is_resource_not_found(sandbox: Sandbox) -> None:
    ct = sandbox.session().client("controltower")
    bogus = (
        f"arn:aws:organizations::{sandbox.org.management_account_id}:ou/{sandbox.org.organization_id}/ou-zzzz-zzzzzzzz"
    )
    with pytest.raises(ClientError) as caught:
        ct.enable_control(controlIdentifier=SSH, targetIdentifier=bogus)
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_control_tower_refuses_member_accounts(sandbox: Sandbox) -> None:
    member = next(iter(sandbox.org.accounts))
    ct = sandbox.session(member).client("controltower")
    with pytest.raises(ClientError) as caught:
        ct.list_enabled_controls(targetIdentifier=sandbox.org.ou_arn(sandbox.org.ous["workloads"]))
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
