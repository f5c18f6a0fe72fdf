"""The ECS.2 runbook: turn off assignPublicIp on a rolling-deployment service; handler.py beside it."""

from __future__ import annotations

from orgguard.runbooks.model import ACCOUNT, Grant, Param, Runbook, dry_run_param

ECS_SERVICE = f"arn:aws:ecs:*:{ACCOUNT}:service/*/*"

RUNBOOK = Runbook(
    key="ecs-service-public-ip",
    document_suffix="DisableEcsServicePublicIp",
    role_suffix="ecs-service-ip",
    description=(
        "orgguard (Security Hub ECS.2): set assignPublicIp DISABLED on an ECS service that uses the rolling (ECS) "
        "deployment controller, which starts a new deployment. CODE_DEPLOY and EXTERNAL services are refused. "
        "Approval-only by default: agree the change with the service owner first."
    ),
    revokes="The service's awsvpc assignPublicIp setting (ENABLED to DISABLED); ECS then redeploys its tasks.",
    never_touches=(
        "Subnets, security groups, task definition and scale of the service; services on the CODE_DEPLOY or "
        "EXTERNAL deployment controller; any other service."
    ),
    resource_type="AWS::ECS::Service",
    resource_parameter="ServiceId",
    handler_module=f"{__package__}.handler",
    step_name="DisableServicePublicIp",
    parameters=(
        Param("ServiceId", "String", "Service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<name>) or "
              "<cluster>/<name>; Config passes RESOURCE_ID."),
        Param("ClusterName", "String", "Cluster, only needed when ServiceId is a bare name or an old-format ARN.",
              default=""),
        dry_run_param(),
    ),
    grants=(
        Grant("DescribeAndUpdateServicesInThisAccount", ("ecs:DescribeServices", "ecs:UpdateService"), (ECS_SERVICE,)),
    ),
)  # fmt: skip
