"""ECS.16: report a task set that assigns public IPs, and the steps to replace it. Changes nothing.

Embedded verbatim in the orgguard SSM Automation document (aws:executeScript, python3.11): standard
library and boto3 only. UpdateTaskSet changes only the scale, so no in-place fix exists: the owner must
create a replacement task set with assignPublicIp DISABLED, shift traffic to it and delete the old one.
"""

import re
from typing import Any

import boto3
from botocore.config import Config

_TASK_SET_ARN = re.compile(
    r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-set/(?P<cluster>[^/]+)/(?P<service>[^/]+)/(?P<id>.+)"
)
_PATH = re.compile(r"(?P<cluster>[A-Za-z0-9_-]+)/(?P<service>[A-Za-z0-9_-]+)/(?P<id>[A-Za-z0-9_/-]+)")
# CreateTaskSet request fields worth carrying over to the replacement.
_CARRY = (
    "taskDefinition",
    "loadBalancers",
    "serviceRegistries",
    "launchType",
    "capacityProviderStrategy",
    "platformVersion",
    "scale",
)


def parse_task_set(resource_id: str) -> tuple[str, str, str]:
    """Return (cluster, service, task set id) from a task-set ARN or cluster/service/id."""
    text = resource_id.strip()
    for pattern in (_TASK_SET_ARN, _PATH):
        match = pattern.fullmatch(text)
        if match:
            return match["cluster"], match["service"], match["id"]
    raise ValueError(
        f"TaskSetId: {resource_id!r} is not a task set ARN (arn:aws:ecs:<region>:<account>:task-set/<cluster>/"
        "<service>/<id>) or <cluster>/<service>/<id>"
    )


class _Ecs:
    """Counts every API call the runbook makes, so tests and the bench can measure calls per run."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: dict[str, int] = {}

    def call(self, operation: str, **kwargs: Any) -> Any:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        return getattr(self.client, re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower())(**kwargs)


def report(client: Any, cluster: str, service: str, task_set: str) -> dict[str, Any]:
    """Describe the task set and return the replacement plan; never calls a mutating API."""
    ecs = _Ecs(client)
    result: dict[str, Any] = {"cluster": cluster, "service": service, "task_set": task_set, "api_calls": ecs.calls}
    found = ecs.call("DescribeTaskSets", cluster=cluster, service=service, taskSets=[task_set])["taskSets"]
    if not found:
        return dict(result, status="TASK_SET_NOT_FOUND", message=f"task set {task_set} does not exist; nothing to do")
    current = found[0]
    awsvpc = (current.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not awsvpc or awsvpc.get("assignPublicIp") != "ENABLED":
        return dict(result, status="COMPLIANT", message=f"task set {task_set} assigns no public IPs")
    replacement = {k: current[k] for k in _CARRY if current.get(k) not in (None, [], {})}
    replacement.update(
        cluster=cluster,
        service=service,
        networkConfiguration={"awsvpcConfiguration": dict(awsvpc, assignPublicIp="DISABLED")},
    )
    return dict(
        result,
        status="ACTION_REQUIRED",
        task_set_arn=current.get("taskSetArn"),
        proposed_create_task_set=replacement,
        steps=[
            "Confirm with the service owner that the tasks need no public IP (egress via NAT or VPC endpoints).",
            "ecs create-task-set with proposed_create_task_set (assignPublicIp DISABLED).",
            "Wait until the new task set is STEADY_STATE, then ecs update-service-primary-task-set to it.",
            f"ecs delete-task-set --task-set {current.get('id', task_set)} once traffic has moved.",
        ],
        message=f"task set {task_set} assigns public IPs; no in-place fix exists (UpdateTaskSet changes only scale)",
    )


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """SSM aws:executeScript entry point; InputPayload carries the document parameters."""
    cluster, service, task_set = parse_task_set(str(events.get("TaskSetId") or ""))
    client = boto3.client("ecs", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    return report(client, cluster, service, task_set)
