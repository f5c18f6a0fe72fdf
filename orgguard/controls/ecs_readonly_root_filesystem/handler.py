"""ECS.5: register a task-definition revision whose containers all have a read-only root filesystem.

Embedded verbatim in the orgguard SSM Automation document (aws:executeScript, python3.11): standard
library and boto3 only. Every field of the old revision is copied; only readonlyRootFilesystem changes.
With RollService it also moves the named service (ECS deployment controller only) onto the new revision.
"""

import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

# RegisterTaskDefinition's request fields; Describe adds read-only ones (arn, revision, status...).
_REGISTER_FIELDS = (
    "family", "taskRoleArn", "executionRoleArn", "networkMode", "containerDefinitions", "volumes",
    "placementConstraints", "requiresCompatibilities", "cpu", "memory", "pidMode", "ipcMode",
    "proxyConfiguration", "inferenceAccelerators", "ephemeralStorage", "runtimePlatform", "enableFaultInjection",
)  # fmt: skip
_TASK_DEF = re.compile(r"(arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:task-definition/)?[A-Za-z0-9_-]{1,255}(:\d+)?")


def parse_bool(value: Any, name: str) -> bool:
    """Config passes static values as strings, so accept "true"/"false" as well as booleans."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"{name}: {value!r} is not true or false")


def writable(task_definition: dict[str, Any]) -> list[str]:
    """Names of the containers whose root filesystem is writable (the ECS.5 finding)."""
    return [
        c["name"]
        for c in task_definition.get("containerDefinitions", [])
        if c.get("readonlyRootFilesystem") is not True
    ]


def fixed_request(task_definition: dict[str, Any], tags: list[dict[str, str]]) -> dict[str, Any]:
    """The RegisterTaskDefinition request: the old revision with every container read-only."""
    request = {k: task_definition[k] for k in _REGISTER_FIELDS if task_definition.get(k) not in (None, [], {})}
    request["containerDefinitions"] = [
        dict(c, readonlyRootFilesystem=True) for c in task_definition["containerDefinitions"]
    ]
    user_tags = [t for t in tags if not t["key"].startswith("aws:")]
    if user_tags:
        request["tags"] = user_tags
    return request


class _Ecs:
    """Counts every API call the runbook makes, so tests and the bench can measure calls per run."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: dict[str, int] = {}

    def call(self, operation: str, **kwargs: Any) -> Any:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        return getattr(self.client, re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower())(**kwargs)


def _describe(ecs: _Ecs, ident: str) -> dict[str, Any] | None:
    try:
        return ecs.call("DescribeTaskDefinition", taskDefinition=ident, include=["TAGS"])
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("ClientException", "InvalidParameterException"):
            return None
        raise


def _roll(ecs: _Ecs, cluster: str, service: str, family: str, arn: str) -> str:
    found = [
        s
        for s in ecs.call("DescribeServices", cluster=cluster, services=[service])["services"]
        if s.get("status") != "INACTIVE"
    ]
    if not found:
        raise RuntimeError(f"RollService: service {cluster}/{service} does not exist; new revision {arn} is registered")
    svc = found[0]
    controller = (svc.get("deploymentController") or {}).get("type", "ECS")
    if controller != "ECS":
        raise RuntimeError(f"RollService: {cluster}/{service} uses {controller}; deploy {arn} through it instead")
    current = svc.get("taskDefinition", "")
    if current == arn:
        return "already runs the read-only revision"
    if current.rsplit("/", 1)[-1].split(":")[0] != family:
        raise RuntimeError(f"RollService: {cluster}/{service} runs {current}, not family {family}; not rolled")
    ecs.call("UpdateService", cluster=cluster, service=service, taskDefinition=arn)
    return f"rolled onto {arn}"


def remediate(client: Any, ident: str, dry_run: bool, roll: tuple[str, str] | None) -> dict[str, Any]:
    """Describe the flagged revision; register a read-only copy unless the family's latest already is one."""
    ecs = _Ecs(client)
    result: dict[str, Any] = {"task_definition": ident, "dry_run": dry_run, "api_calls": ecs.calls}
    old = _describe(ecs, ident)
    if old is None or old["taskDefinition"].get("status") != "ACTIVE":
        return dict(
            result, status="TASK_DEFINITION_NOT_FOUND", message=f"{ident} is not an active revision; nothing to do"
        )
    definition = old["taskDefinition"]
    family, result["writable_containers"] = definition["family"], writable(definition)
    target = definition["taskDefinitionArn"]
    if result["writable_containers"]:
        latest = _describe(ecs, family)
        if (
            latest
            and not writable(latest["taskDefinition"])
            and latest["taskDefinition"]["revision"] > definition["revision"]
        ):
            target = latest["taskDefinition"]["taskDefinitionArn"]
            result.update(status="ALREADY_FIXED", message=f"latest revision {target} is already read-only")
        elif dry_run:
            return dict(result, status="DRY_RUN", message=f"would register a read-only revision of {family}")
        else:
            request = fixed_request(definition, old.get("tags", []))
            target = ecs.call("RegisterTaskDefinition", **request)["taskDefinition"]["taskDefinitionArn"]
            result.update(status="REMEDIATED", message=f"registered {target} with read-only root filesystems")
    else:
        result.update(status="COMPLIANT", message=f"{target} already has read-only root filesystems")
    result["new_revision"] = target
    if roll and not dry_run:
        result["rollout"] = _roll(ecs, roll[0], roll[1], family, target)
    return result


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """SSM aws:executeScript entry point; InputPayload carries the document parameters."""
    ident = str(events.get("TaskDefinitionId") or "").strip()
    if not _TASK_DEF.fullmatch(ident):
        raise ValueError(f"TaskDefinitionId: {ident!r} is not a task definition ARN or family:revision")
    dry_run = parse_bool(events.get("DryRun", False), "DryRun")
    roll = None
    if parse_bool(events.get("RollService", False), "RollService"):
        cluster, service = str(events.get("ClusterName") or "").strip(), str(events.get("ServiceName") or "").strip()
        if not cluster or not service:
            raise ValueError(
                "RollService is true but ClusterName or ServiceName is empty; pass both, or RollService false"
            )
        roll = (cluster, service)
    client = boto3.client("ecs", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    return remediate(client, ident, dry_run, roll)
