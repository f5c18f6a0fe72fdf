"""The ECS.16 runbook: report-only (UpdateTaskSet changes only scale); handler.py beside it."""

from __future__ import annotations

from orgguard.runbooks.model import ACCOUNT, Grant, Param, Runbook

ECS_TASK_SET = f"arn:aws:ecs:*:{ACCOUNT}:task-set/*/*/*"

RUNBOOK = Runbook(
    key="ecs-taskset-public-ip",
    document_suffix="ReportEcsTaskSetPublicIp",
    role_suffix="ecs-taskset-report",
    description=(
        "orgguard (Security Hub ECS.16): report a task set that assigns public IPs and the steps to replace it. "
        "Read-only: UpdateTaskSet changes only the scale, so no in-place fix exists."
    ),
    revokes="Nothing: it describes the task set and returns the replacement steps.",
    never_touches="Everything: it makes no mutating call.",
    resource_type="AWS::ECS::TaskSet",
    resource_parameter="TaskSetId",
    handler_module=f"{__package__}.handler",
    step_name="ReportTaskSetPublicIp",
    parameters=(
        Param("TaskSetId", "String", "Task set ARN (arn:aws:ecs:<region>:<account>:task-set/<cluster>/<service>/"
              "<id>) or <cluster>/<service>/<id>; Config passes RESOURCE_ID."),
    ),
    grants=(Grant("DescribeTaskSetsInThisAccount", ("ecs:DescribeTaskSets",), (ECS_TASK_SET,)),),
)  # fmt: skip
