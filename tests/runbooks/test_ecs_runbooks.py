"""ECS.2, ECS.5 and ECS.16 runbooks against moto, for the module and the document's embedded Script."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from orgguard.runbooks import RUNBOOKS

from .conftest import REGION, handler_ns

ACCOUNT_ID = "123456789012"  # moto's default account


@pytest.fixture
def ecs(vpc: dict[str, str]) -> dict[str, Any]:
    ec2 = boto3.client("ec2", region_name=REGION)
    sg = ec2.create_security_group(GroupName="tasks", Description="t", VpcId=vpc["vpc_id"])["GroupId"]
    client = boto3.client("ecs", region_name=REGION)
    client.create_cluster(clusterName="prod")
    client.register_task_definition(
        family="web",
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="256",
        memory="512",
        taskRoleArn=f"arn:aws:iam::{ACCOUNT_ID}:role/web-task",
        containerDefinitions=[
            {"name": "app", "image": "nginx:1.27", "essential": True},
            {"name": "sidecar", "image": "envoy:1", "readonlyRootFilesystem": False},
        ],
        tags=[{"key": "team", "value": "payments"}],
    )
    awsvpc = {"subnets": [vpc["subnet_id"]], "securityGroups": [sg], "assignPublicIp": "ENABLED"}
    return {"client": client, "awsvpc": awsvpc}


def _service(ecs: dict[str, Any], name: str, controller: str = "ECS", public: str = "ENABLED") -> str:
    kwargs: dict[str, Any] = {"cluster": "prod", "serviceName": name, "taskDefinition": "web:1", "desiredCount": 1}
    if controller == "ECS":
        kwargs["networkConfiguration"] = {"awsvpcConfiguration": dict(ecs["awsvpc"], assignPublicIp=public)}
        kwargs["launchType"] = "FARGATE"
    kwargs["deploymentController"] = {"type": controller}
    return ecs["client"].create_service(**kwargs)["service"]["serviceArn"]


def _awsvpc(ecs: dict[str, Any], service: str) -> dict[str, Any]:
    svc = ecs["client"].describe_services(cluster="prod", services=[service])["services"][0]
    return svc["networkConfiguration"]["awsvpcConfiguration"]


# --- ECS.2 -----------------------------------------------------------------------------------------


def _ecs2(source: str, **events: Any) -> dict[str, Any]:
    return handler_ns("ecs-service-public-ip", source)["handler"](events, None)


def test_ecs2_turns_off_public_ip_on_a_rolling_service_and_keeps_the_rest(ecs: dict[str, Any], source: str) -> None:
    arn = _service(ecs, "api")

    result = _ecs2(source, ServiceId=arn, DryRun="false")

    assert result["status"] == "REMEDIATED"
    assert _awsvpc(ecs, "api") == dict(ecs["awsvpc"], assignPublicIp="DISABLED")
    assert {f"ecs:{op}" for op in result["api_calls"]} == set(RUNBOOKS["ecs-service-public-ip"].called_actions())
    second = _ecs2(source, ServiceId=arn)
    assert second["status"] == "COMPLIANT" and second["api_calls"] == {"DescribeServices": 1}


@pytest.mark.parametrize("form", ["cluster/service", "bare name with ClusterName"])
def test_ecs2_accepts_the_other_service_id_forms(ecs: dict[str, Any], source: str, form: str) -> None:
    _service(ecs, "api")
    events = {"ServiceId": "prod/api"} if form == "cluster/service" else {"ServiceId": "api", "ClusterName": "prod"}

    assert _ecs2(source, **events)["status"] == "REMEDIATED"


def test_ecs2_dry_run_changes_nothing(ecs: dict[str, Any], source: str) -> None:
    _service(ecs, "api")

    result = _ecs2(source, ServiceId="prod/api", DryRun="true")

    assert result["status"] == "DRY_RUN" and _awsvpc(ecs, "api")["assignPublicIp"] == "ENABLED"


@pytest.mark.parametrize("controller", ["CODE_DEPLOY", "EXTERNAL"])
def test_ecs2_refuses_services_it_cannot_fix_in_place_with_a_clear_message(
    ecs: dict[str, Any], source: str, controller: str
) -> None:
    arn = _service(ecs, "bluegreen", controller=controller)
    ecs["client"].update_service(
        cluster="prod", service="bluegreen", networkConfiguration={"awsvpcConfiguration": ecs["awsvpc"]}
    )

    with pytest.raises(RuntimeError, match=f"uses the {controller} deployment controller"):
        _ecs2(source, ServiceId=arn)


def test_ecs2_succeeds_when_the_service_is_gone(ecs: dict[str, Any], source: str) -> None:
    assert _ecs2(source, ServiceId="prod/ghost")["status"] == "SERVICE_NOT_FOUND"


def test_ecs2_rejects_an_unusable_service_id(aws: None, source: str) -> None:
    with pytest.raises(ValueError, match="ServiceId"):
        _ecs2(source, ServiceId="api")


# --- ECS.5 -----------------------------------------------------------------------------------------


def _ecs5(source: str, **events: Any) -> dict[str, Any]:
    return handler_ns("ecs-readonly-root-filesystem", source)["handler"](events, None)


def _definition(ecs: dict[str, Any], ident: str) -> dict[str, Any]:
    return ecs["client"].describe_task_definition(taskDefinition=ident, include=["TAGS"])


def test_ecs5_registers_a_read_only_copy_and_changes_nothing_else(ecs: dict[str, Any], source: str) -> None:
    old = _definition(ecs, "web:1")

    result = _ecs5(source, TaskDefinitionId=old["taskDefinition"]["taskDefinitionArn"])

    assert result["status"] == "REMEDIATED" and result["writable_containers"] == ["app", "sidecar"]
    new = _definition(ecs, result["new_revision"])
    assert new["taskDefinition"]["revision"] == 2
    assert [c["readonlyRootFilesystem"] for c in new["taskDefinition"]["containerDefinitions"]] == [True, True]
    strip = ("taskDefinitionArn", "revision", "containerDefinitions", "registeredAt", "registeredBy")
    assert {k: v for k, v in new["taskDefinition"].items() if k not in strip} == {
        k: v for k, v in old["taskDefinition"].items() if k not in strip
    }
    for before, after in zip(
        old["taskDefinition"]["containerDefinitions"], new["taskDefinition"]["containerDefinitions"], strict=True
    ):
        assert dict(before, readonlyRootFilesystem=True) == after
    assert new["tags"] == old["tags"]
    assert _definition(ecs, "web:1")["taskDefinition"]["status"] == "ACTIVE", "old revisions are never deregistered"
    assert "UpdateService" not in result["api_calls"]


def test_ecs5_run_again_on_the_old_revision_registers_nothing(ecs: dict[str, Any], source: str) -> None:
    first = _ecs5(source, TaskDefinitionId="web:1")

    second = _ecs5(source, TaskDefinitionId="web:1")

    assert second["status"] == "ALREADY_FIXED" and second["new_revision"] == first["new_revision"]
    assert "RegisterTaskDefinition" not in second["api_calls"]
    assert _ecs5(source, TaskDefinitionId=first["new_revision"])["status"] == "COMPLIANT"


def test_ecs5_rolls_the_named_service_only_when_asked(ecs: dict[str, Any], source: str) -> None:
    _service(ecs, "api")

    result = _ecs5(source, TaskDefinitionId="web:1", RollService="true", ClusterName="prod", ServiceName="api")

    svc = ecs["client"].describe_services(cluster="prod", services=["api"])["services"][0]
    assert svc["taskDefinition"] == result["new_revision"] and result["rollout"].startswith("rolled onto")
    assert {f"ecs:{op}" for op in result["api_calls"]} | {"ecs:TagResource", "iam:PassRole"} == set(
        RUNBOOKS["ecs-readonly-root-filesystem"].required_actions()
    )


def test_ecs5_never_rolls_a_service_of_another_family(ecs: dict[str, Any], source: str) -> None:
    ecs["client"].register_task_definition(
        family="other", containerDefinitions=[{"name": "x", "image": "x", "memory": 128}]
    )
    ecs["client"].create_service(cluster="prod", serviceName="batch", taskDefinition="other:1", desiredCount=1)

    with pytest.raises(RuntimeError, match="not family web"):
        _ecs5(source, TaskDefinitionId="web:1", RollService="true", ClusterName="prod", ServiceName="batch")

    svc = ecs["client"].describe_services(cluster="prod", services=["batch"])["services"][0]
    assert svc["taskDefinition"].endswith("other:1")


def test_ecs5_dry_run_and_missing_definitions_change_nothing(ecs: dict[str, Any], source: str) -> None:
    assert _ecs5(source, TaskDefinitionId="web:1", DryRun="true")["status"] == "DRY_RUN"
    assert _ecs5(source, TaskDefinitionId="nope:7")["status"] == "TASK_DEFINITION_NOT_FOUND"
    assert ecs["client"].list_task_definitions(familyPrefix="web")["taskDefinitionArns"][-1].endswith("web:1")


def test_ecs5_roll_without_a_service_name_is_a_usage_error(aws: None, source: str) -> None:
    with pytest.raises(ValueError, match="ClusterName or ServiceName"):
        _ecs5(source, TaskDefinitionId="web:1", RollService="true")


# --- ECS.16 ----------------------------------------------------------------------------------------


def _task_set(ecs: dict[str, Any], public: str = "ENABLED") -> dict[str, Any]:
    _service(ecs, "edge", controller="EXTERNAL")
    return ecs["client"].create_task_set(
        cluster="prod",
        service="edge",
        taskDefinition="web:1",
        launchType="FARGATE",
        networkConfiguration={"awsvpcConfiguration": dict(ecs["awsvpc"], assignPublicIp=public)},
    )["taskSet"]


def _ecs16(source: str, **events: Any) -> dict[str, Any]:
    return handler_ns("ecs-taskset-public-ip", source)["handler"](events, None)


def test_ecs16_reports_the_replacement_plan_and_changes_nothing(ecs: dict[str, Any], source: str) -> None:
    task_set = _task_set(ecs)

    result = _ecs16(source, TaskSetId=task_set["taskSetArn"])

    assert result["status"] == "ACTION_REQUIRED" and len(result["steps"]) == 4
    plan = result["proposed_create_task_set"]
    assert plan["networkConfiguration"]["awsvpcConfiguration"] == dict(ecs["awsvpc"], assignPublicIp="DISABLED")
    assert plan["taskDefinition"] == task_set["taskDefinition"]
    assert result["api_calls"] == {"DescribeTaskSets": 1}
    after = ecs["client"].describe_task_sets(cluster="prod", service="edge")["taskSets"]
    assert [t["networkConfiguration"] for t in after] == [task_set["networkConfiguration"]]


def test_ecs16_compliant_and_missing_task_sets_succeed(ecs: dict[str, Any], source: str) -> None:
    task_set = _task_set(ecs, public="DISABLED")
    assert _ecs16(source, TaskSetId=task_set["taskSetArn"])["status"] == "COMPLIANT"
    assert _ecs16(source, TaskSetId="prod/edge/ecs-svc/123")["status"] == "TASK_SET_NOT_FOUND"
    with pytest.raises(ValueError, match="TaskSetId"):
        _ecs16(source, TaskSetId="edge")
