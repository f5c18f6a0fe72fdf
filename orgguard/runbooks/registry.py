"""The four runbooks: documents, parameters and exactly-scoped grants."""

from __future__ import annotations

from orgguard.runbooks.model import ACCOUNT, Grant, Param, Runbook

DEFAULT_EXEMPTION_TAG_KEY = "orgguard:exemption"
EXEMPTION_TAG_FORMAT = "owner=<email>;reason=<text>;expires=YYYY-MM-DD"

SG = f"arn:aws:ec2:*:{ACCOUNT}:security-group/*"
# Any owner: a rule may name the account's own list, one shared from another account (RAM), or an
# AWS-managed one (owner "aws", e.g. arn:aws:ec2:us-east-1:aws:prefix-list/pl-...). Resource type
# prefix-list, ARN arn:${Partition}:ec2:${Region}:${Account}:prefix-list/${PrefixListId} (Service
# Authorization Reference, Amazon EC2). Read-only, and only lists the account can already see.
PREFIX_LISTS = "arn:aws:ec2:*:*:prefix-list/*"
ECS_SERVICE = f"arn:aws:ecs:*:{ACCOUNT}:service/*/*"
ECS_TASK_DEFINITION = f"arn:aws:ecs:*:{ACCOUNT}:task-definition/*"
ECS_TASK_SET = f"arn:aws:ecs:*:{ACCOUNT}:task-set/*/*/*"


def _dry_run(default: str = "false") -> Param:
    return Param(
        "DryRun",
        "String",
        "true: report what would change and change nothing. A String, because AWS Config passes static "
        "remediation values as strings.",
        default=default,
        allowed_values=("true", "false"),
    )


SG_REVOKE = Runbook(
    key="sg-revoke",
    document_suffix="RevokePublicSgIngress",
    role_suffix="sg-revoke",
    description=(
        "orgguard: revoke, by rule ID in one call, the security group ingress rules open to 0.0.0.0/0 or ::/0 "
        "(directly or through a managed prefix list holding them) that reach a restricted TCP port (single "
        "ports, ranges containing it, all-TCP and all-traffic rules). Only groups approved in the governance "
        "file are exempt, until their expiry; a tag never exempts. Nothing else is touched."
    ),
    revokes=(
        "Ingress rules whose source is 0.0.0.0/0 or ::/0, or a managed prefix list holding either (or one "
        "whose entries cannot be read), and that admit TCP to a restricted port: the exact port, any TCP "
        "range containing it, and all-traffic (-1) rules. Revoked by rule ID, in one call."
    ),
    never_touches=(
        "Rules whose source is a security group, a narrower CIDR or a prefix list of narrower CIDRs; UDP and "
        "ICMP rules; ports not in the restricted list; egress rules; groups approved in exemptions.known, "
        "until their expiry."
    ),
    resource_type="AWS::EC2::SecurityGroup",
    resource_parameter="GroupId",
    handler_file="sg_revoke.py",
    step_name="RevokePublicIngress",
    parameters=(
        Param("GroupId", "String", "Security group to remediate (Config passes RESOURCE_ID).",
              allowed_pattern=r"^sg-[0-9a-f]{8,17}$"),
        Param("RestrictedPorts", "StringList", "TCP ports that must not be open to the internet, e.g. [\"22\"].",
              default=["22"]),
        Param("ExemptionTagKey", "String", "Tag key reported as a label when present; a tag never exempts "
              "(only the approved list embedded in this document does).", default=DEFAULT_EXEMPTION_TAG_KEY),
        _dry_run(),
    ),
    grants=(
        Grant("DescribeGroupsAndRules", ("ec2:DescribeSecurityGroupRules", "ec2:DescribeSecurityGroups"), ("*",)),
        Grant("RevokeIngressInThisAccount", ("ec2:RevokeSecurityGroupIngress",), (SG,)),
        Grant("ReadPrefixListEntries", ("ec2:GetManagedPrefixListEntries",), (PREFIX_LISTS,)),
    ),
    embeds_exemptions=True,
)  # fmt: skip

ECS_SERVICE_PUBLIC_IP = Runbook(
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
    handler_file="ecs_service_public_ip.py",
    step_name="DisableServicePublicIp",
    parameters=(
        Param("ServiceId", "String", "Service ARN (arn:aws:ecs:<region>:<account>:service/<cluster>/<name>) or "
              "<cluster>/<name>; Config passes RESOURCE_ID."),
        Param("ClusterName", "String", "Cluster, only needed when ServiceId is a bare name or an old-format ARN.",
              default=""),
        _dry_run(),
    ),
    grants=(
        Grant("DescribeAndUpdateServicesInThisAccount", ("ecs:DescribeServices", "ecs:UpdateService"), (ECS_SERVICE,)),
    ),
)  # fmt: skip

ECS_READONLY_ROOT = Runbook(
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
    handler_file="ecs_readonly_root.py",
    step_name="RegisterReadonlyRevision",
    parameters=(
        Param("TaskDefinitionId", "String", "Task definition ARN or family:revision; Config passes RESOURCE_ID."),
        Param("RollService", "String", "true: also update ServiceName in ClusterName to the new revision.",
              default="false", allowed_values=("true", "false")),
        Param("ClusterName", "String", "Cluster of the service to roll (RollService true only).", default=""),
        Param("ServiceName", "String", "Service to roll onto the new revision (RollService true only).", default=""),
        _dry_run(),
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

ECS_TASKSET_PUBLIC_IP = Runbook(
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
    handler_file="ecs_taskset_public_ip.py",
    step_name="ReportTaskSetPublicIp",
    parameters=(
        Param("TaskSetId", "String", "Task set ARN (arn:aws:ecs:<region>:<account>:task-set/<cluster>/<service>/"
              "<id>) or <cluster>/<service>/<id>; Config passes RESOURCE_ID."),
    ),
    grants=(Grant("DescribeTaskSetsInThisAccount", ("ecs:DescribeTaskSets",), (ECS_TASK_SET,)),),
)  # fmt: skip

RUNBOOKS: dict[str, Runbook] = {
    r.key: r for r in (SG_REVOKE, ECS_SERVICE_PUBLIC_IP, ECS_READONLY_ROOT, ECS_TASKSET_PUBLIC_IP)
}
