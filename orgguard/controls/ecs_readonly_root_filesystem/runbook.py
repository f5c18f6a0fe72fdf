"""The ECS.5 runbook: register a read-only-root revision (optionally roll a service); handler.py beside it."""

from __future__ import annotations

from orgguard.runbooks.model import ACCOUNT, Grant, Param, Runbook, dry_run_param

ECS_SERVICE = f"arn:aws:ecs:*:{ACCOUNT}:service/*/*"
ECS_TASK_DEFINITION = f"arn:aws:ecs:*:{ACCOUNT}:task-definition/*"

RUNBOOK = Runbook(
    key="ecs-readonly-root-filesystem",
    document_suffix="EcsReadonlyRootFilesystem",
    role_suffix="ecs-readonly-root",
    description=(
        "orgguard (Security Hub ECS.5): register a new task-definition revision identical to the flagged one but "
        "with readonlyRootFilesystem true for every container; with RollService true, move the named service "
        "(ECS deployment controller, same family) onto it. Approval-only by default: writes must go to volumes."
    ),
    revokes=(
        "Registers one new task-definition revision with readonlyRootFilesystem true on every container; "
        "only with RollService true, updates the named service to that revision."
    ),
    never_touches=(
        "Existing revisions (never deregistered); services unless RollService is true; services of another "
        "family or on the CODE_DEPLOY or EXTERNAL controller."
    ),
    resource_type="AWS::ECS::TaskDefinition",
    resource_parameter="TaskDefinitionId",
    handler_module=f"{__package__}.handler",
    step_name="RegisterReadonlyRevision",
    parameters=(
        Param("TaskDefinitionId", "String", "Task definition ARN or family:revision; Config passes RESOURCE_ID."),
        Param("RollService", "String", "true: also update ServiceName in ClusterName to the new revision.",
              default="false", allowed_values=("true", "false")),
        Param("ClusterName", "String", "Cluster of the service to roll (RollService true only).", default=""),
        Param("ServiceName", "String", "Service to roll onto the new revision (RollService true only).", default=""),
        dry_run_param(),
    ),
    grants=(
        Grant("DescribeTaskDefinitions", ("ecs:DescribeTaskDefinition",), ("*",)),
        Grant("RegisterRevisionsInThisAccount", ("ecs:RegisterTaskDefinition",), (ECS_TASK_DEFINITION,)),
        Grant("CopyTagsOnRegisterOnly", ("ecs:TagResource",), (ECS_TASK_DEFINITION,),
              {"StringEquals": {"ecs:CreateAction": "RegisterTaskDefinition"}}, called=False),
        Grant("PassTaskRolesToEcsTasksOnly", ("iam:PassRole",), (f"arn:aws:iam::{ACCOUNT}:role/*",),
              {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}, called=False),
        Grant("RollServicesInThisAccount", ("ecs:DescribeServices", "ecs:UpdateService"), (ECS_SERVICE,)),
    ),
)  # fmt: skip
