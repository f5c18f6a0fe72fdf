"""The Guard custom policy rules (ECS.2, ECS.16) run in the real cfn-guard engine (cfn-guard-rs) against
configuration items shaped as AWS Config records them."""

from __future__ import annotations

import cfn_guard_rs
import pytest

from orgguard.controls import CATALOG
from orgguard.controls.base import ControlSettings


def _item(resource_type: str, block: str, assign_public_ip: str | None) -> dict:
    if assign_public_ip is None:
        return {"resourceType": resource_type, "configuration": {}}
    network = {block: {"AssignPublicIp": assign_public_ip}}
    return {"resourceType": resource_type, "configuration": {"NetworkConfiguration": network}}


CASES = [
    # control, resource type, the block spelling Config uses for that type
    ("ecs-service-public-ip", "AWS::ECS::Service", "AwsvpcConfiguration"),
    ("ecs-taskset-public-ip", "AWS::ECS::TaskSet", "AwsVpcConfiguration"),
]


def _policy(control_id: str) -> str:
    rule = CATALOG[control_id].rule(ControlSettings(), "orgguard")
    assert rule.source_owner == "CUSTOM_POLICY" and rule.policy_text
    return rule.policy_text


@pytest.mark.parametrize(("control_id", "resource_type", "block"), CASES)
def test_public_ip_enabled_is_non_compliant(control_id, resource_type, block):
    report = cfn_guard_rs.run_checks(_item(resource_type, block, "ENABLED"), _policy(control_id))
    assert report.status == "FAIL" and report.not_compliant


@pytest.mark.parametrize(("control_id", "resource_type", "block"), CASES)
def test_public_ip_disabled_is_compliant(control_id, resource_type, block):
    report = cfn_guard_rs.run_checks(_item(resource_type, block, "DISABLED"), _policy(control_id))
    assert report.status == "PASS"


@pytest.mark.parametrize(("control_id", "resource_type", "block"), CASES)
def test_tasks_without_awsvpc_networking_are_not_applicable(control_id, resource_type, block):
    report = cfn_guard_rs.run_checks(_item(resource_type, block, None), _policy(control_id))
    assert report.status == "SKIP"


def test_each_rule_reads_its_own_types_spelling_of_the_block():
    """Service says AwsvpcConfiguration, TaskSet says AwsVpcConfiguration: a rule reading the other
    spelling would never fire, so each rule must ignore the other type's spelling."""
    service = cfn_guard_rs.run_checks(
        _item("AWS::ECS::Service", "AwsVpcConfiguration", "ENABLED"), _policy("ecs-service-public-ip")
    )
    taskset = cfn_guard_rs.run_checks(
        _item("AWS::ECS::TaskSet", "AwsvpcConfiguration", "ENABLED"), _policy("ecs-taskset-public-ip")
    )
    assert service.status == taskset.status == "SKIP"


def test_a_rule_ignores_other_resource_types():
    report = cfn_guard_rs.run_checks(
        _item("AWS::ECS::TaskSet", "AwsVpcConfiguration", "ENABLED"), _policy("ecs-service-public-ip")
    )
    assert report.status == "SKIP"
