"""Control Tower over HTTP: enable, operations, list/get enabled controls, drift, disable; and the
landing zone's own state: a control already enabled, a second EnableControl of it refused."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox
from orgguard.sandbox.controltower import CATALOG_IDS, PREENABLED
from tests.sandbox.shapes import ShapeRecorder

SSH = "arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICTED_SSH"
PORTS = "arn:aws:controltower:us-east-1::control/AWS-GR_RESTRICTED_COMMON_PORTS"
SSH_CATALOG = f"arn:aws:controlcatalog:::control/{CATALOG_IDS['AWS-GR_RESTRICTED_SSH']}"
PORTS_CATALOG = f"arn:aws:controlcatalog:::control/{CATALOG_IDS['AWS-GR_RESTRICTED_COMMON_PORTS']}"


def test_enable_list_get_drift_and_disable_controls_on_an_ou(sandbox: Sandbox) -> None:
    org = sandbox.org
    ct = sandbox.session().client("controltower")
    recorder = ShapeRecorder(ct)
    target = org.ou_arn(org.ous["sandboxes"])
    enabled = {}
    for control in (SSH, PORTS_CATALOG):  # one legacy identifier, one Control Catalog ARN
        answer = ct.enable_control(controlIdentifier=control, targetIdentifier=target)
        operation = ct.get_control_operation(operationIdentifier=answer["operationIdentifier"])["controlOperation"]
        assert (operation["status"], operation["operationType"]) == ("SUCCEEDED", "ENABLE_CONTROL")
        enabled[control] = answer["arn"]
    listed = ct.list_enabled_controls(targetIdentifier=target)["enabledControls"]
    assert {c["controlIdentifier"] for c in listed} == {SSH, PORTS_CATALOG}
    other = org.ou_arn(org.ous["security"])
    assert ct.list_enabled_controls(targetIdentifier=other)["enabledControls"] == []
    details = ct.get_enabled_control(enabledControlIdentifier=enabled[SSH])["enabledControlDetails"]
    assert details["statusSummary"]["status"] == "SUCCEEDED"
    assert details["driftStatusSummary"]["driftStatus"] == "IN_SYNC"
    sandbox.set_control_drift(enabled[SSH])
    details = ct.get_enabled_control(enabledControlIdentifier=enabled[SSH])["enabledControlDetails"]
    assert details["driftStatusSummary"]["driftStatus"] == "DRIFTED"
    for control in (SSH_CATALOG, PORTS):  # disabled by the other identifier form: the same controls
        op = ct.disable_control(controlIdentifier=control, targetIdentifier=target)["operationIdentifier"]
        assert (
            ct.get_control_operation(operationIdentifier=op)["controlOperation"]["operationType"] == "DISABLE_CONTROL"
        )
    assert ct.list_enabled_controls(targetIdentifier=target)["enabledControls"] == []
    assert recorder.errors == [] and len(recorder.checked) >= 10


def test_the_landing_zone_starts_with_a_control_already_enabled_on_a_target_ou(sandbox: Sandbox) -> None:
    org = sandbox.org
    name, ou_name = PREENABLED
    assert org.ous[ou_name] in org.target_ous
    ct = sandbox.session().client("controltower")
    listed = ct.list_enabled_controls(targetIdentifier=org.ou_arn(org.ous[ou_name]))["enabledControls"]
    assert [c["controlIdentifier"] for c in listed] == [f"arn:aws:controltower:{org.home_region}::control/{name}"]
    assert listed[0]["statusSummary"]["status"] == "SUCCEEDED"
    by_catalog = ct.list_enabled_controls(
        targetIdentifier=org.ou_arn(org.ous[ou_name]), filter={"controlIdentifiers": [SSH_CATALOG]}
    )["enabledControls"]
    assert [c["arn"] for c in by_catalog] == [listed[0]["arn"]]


@pytest.mark.parametrize("control", [SSH, SSH_CATALOG], ids=["legacy-arn", "control-catalog-arn"])
def test_enabling_an_already_enabled_control_is_a_conflict_under_either_identifier(
    sandbox: Sandbox, control: str
) -> None:
    org = sandbox.org
    ct = sandbox.session().client("controltower")
    target = org.ou_arn(org.ous[PREENABLED[1]])
    before = ct.list_enabled_controls(targetIdentifier=target)["enabledControls"]
    with pytest.raises(ClientError) as caught:
        ct.enable_control(controlIdentifier=control, targetIdentifier=target)
    assert caught.value.response["Error"]["Code"] == "ConflictException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert before[0]["arn"] in caught.value.response["Error"]["Message"]
    assert ct.list_enabled_controls(targetIdentifier=target)["enabledControls"] == before


def test_an_identifier_of_neither_form_is_a_validation_error(sandbox: Sandbox) -> None:
    ct = sandbox.session().client("controltower")
    target = sandbox.org.ou_arn(sandbox.org.ous["sandboxes"])
    with pytest.raises(ClientError) as caught:
        ct.enable_control(controlIdentifier="arn:aws:controltower:us-east-1::guardrail/X-Y", targetIdentifier=target)
    assert caught.value.response["Error"]["Code"] == "ValidationException"


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
