"""ECS.2: stop an ECS service from assigning public IPs to its tasks (UpdateService, rolling controller only).

Embedded verbatim in the orgguard SSM Automation document (aws:executeScript, python3.11): standard
library and boto3 only. Services on the CODE_DEPLOY or EXTERNAL deployment controller are refused with a
clear message: their network configuration changes only through a new deployment or task set.
"""

import re
from typing import Any

import boto3
from botocore.config import Config

_SERVICE_ARN = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/(?P<cluster>[^/]+)/(?P<service>[^/]+)")
_OLD_ARN = re.compile(r"arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:service/(?P<service>[^/]+)")
_PATH = re.compile(r"(?P<cluster>[A-Za-z0-9_-]+)/(?P<service>[A-Za-z0-9_-]+)")


def parse_bool(value: Any, name: str) -> bool:
    """Config passes static values as strings, so accept "true"/"false" as well as booleans."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "false"):
        return text == "true"
    raise ValueError(f"{name}: {value!r} is not true or false")


def parse_service(resource_id: str, cluster: str) -> tuple[str, str]:
    """Return (cluster, service) from a service ARN, cluster/service, or a bare name plus ClusterName."""
    text = resource_id.strip()
    for pattern in (_SERVICE_ARN, _PATH):
        match = pattern.fullmatch(text)
        if match:
            return match["cluster"], match["service"]
    match = _OLD_ARN.fullmatch(text)
    name = match["service"] if match else text
    if cluster.strip() and re.fullmatch(r"[A-Za-z0-9_-]+", name):
        return cluster.strip(), name
    raise ValueError(
        f"ServiceId: {resource_id!r} is not a service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/"
        "<service>) or <cluster>/<service>; for a bare name or an old-format ARN also pass ClusterName"
    )


class _Ecs:
    """Counts every API call the runbook makes, so tests and the bench can measure calls per run."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.calls: dict[str, int] = {}

    def call(self, operation: str, **kwargs: Any) -> Any:
        self.calls[operation] = self.calls.get(operation, 0) + 1
        return getattr(self.client, re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower())(**kwargs)


def remediate(client: Any, cluster: str, service: str, dry_run: bool) -> dict[str, Any]:
    """Describe the service; if it assigns public IPs and uses the ECS controller, turn that off."""
    ecs = _Ecs(client)
    result: dict[str, Any] = {"cluster": cluster, "service": service, "dry_run": dry_run, "api_calls": ecs.calls}
    found = ecs.call("DescribeServices", cluster=cluster, services=[service])["services"]
    live = [s for s in found if s.get("status") != "INACTIVE"]
    if not live:
        return dict(result, status="SERVICE_NOT_FOUND", message=f"{cluster}/{service} does not exist; nothing to do")
    svc = live[0]
    awsvpc = (svc.get("networkConfiguration") or {}).get("awsvpcConfiguration")
    if not awsvpc or awsvpc.get("assignPublicIp") != "ENABLED":
        return dict(result, status="COMPLIANT", message=f"{cluster}/{service} assigns no public IPs")
    controller = (svc.get("deploymentController") or {}).get("type", "ECS")
    if controller != "ECS":
        raise RuntimeError(
            f"{cluster}/{service} uses the {controller} deployment controller: UpdateService cannot change its "
            "network configuration. Ask its owner to redeploy with assignPublicIp DISABLED "
            + ("(new CodeDeploy deployment)." if controller == "CODE_DEPLOY" else "(new task set).")
        )
    change = dict(awsvpc, assignPublicIp="DISABLED")
    result["network_configuration"] = {"awsvpcConfiguration": change}
    if dry_run:
        return dict(result, status="DRY_RUN", message=f"{cluster}/{service} would stop assigning public IPs")
    ecs.call("UpdateService", cluster=cluster, service=service, networkConfiguration={"awsvpcConfiguration": change})
    return dict(
        result,
        status="REMEDIATED",
        message=f"{cluster}/{service} no longer assigns public IPs; a new deployment replaces its tasks "
        "(tasks in public subnets now need a NAT gateway or VPC endpoints for egress)",
    )


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """SSM aws:executeScript entry point; InputPayload carries the document parameters."""
    cluster, service = parse_service(str(events.get("ServiceId") or ""), str(events.get("ClusterName") or ""))
    dry_run = parse_bool(events.get("DryRun", False), "DryRun")
    client = boto3.client("ecs", config=Config(retries={"mode": "adaptive", "max_attempts": 10}))
    return remediate(client, cluster, service, dry_run)
