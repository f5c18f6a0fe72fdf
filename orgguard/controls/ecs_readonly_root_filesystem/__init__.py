"""ECS.5: containers run with a read-only root filesystem."""

from orgguard.controls.base import Control, ControlSettings, managed_rule
from orgguard.controls.ecs_readonly_root_filesystem.runbook import RUNBOOK
from orgguard.manifest import Mappings, RuleSpec


class EcsReadonlyRootFilesystem(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        return managed_rule(
            self,
            prefix,
            "ECS_CONTAINERS_READONLY_ACCESS",
            "ECS task definitions must give every container a read-only root filesystem (Security Hub ECS.5).",
        )


CONTROL = EcsReadonlyRootFilesystem(
    id="ecs-readonly-root-filesystem",
    order=40,
    title="ECS containers are limited to read-only access to root filesystems",
    severity="high",
    mappings=Mappings(security_hub=["ECS.5"]),
    resource_types=("AWS::ECS::TaskDefinition",),
    runbook=RUNBOOK,
    remediation_modes=("manual", "automatic", "off"),
    default_remediation="manual",
    caveats=(
        "ECS_CONTAINERS_READONLY_ACCESS evaluates only the latest active revision of each task definition.",
        "The runbook registers a new revision with readonlyRootFilesystem: true; applications that write "
        "to their root filesystem fail until writes go to volumes. Keep it approval-only (manual) unless "
        "the workloads are known to cope.",
    ),
    # The rule's page: "All supported AWS regions except Asia Pacific (Thailand), Asia Pacific (Malaysia),
    # Mexico (Central), Asia Pacific (Taipei), Canada West (Calgary)"; a later copy of the same page lists
    # "Asia Pacific (New Zealand), Asia Pacific (Thailand), Mexico (Central), Asia Pacific (Taipei)". Both
    # versions' exceptions are kept (refusing where AWS may since offer it is safer than a failing pack).
    unavailable_regions=(
        "ap-east-2",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "mx-central-1",
    ),
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/ecs-containers-readonly-access.html",
)
