"""ECS.4: no container of a task definition runs privileged. Off by default; approval-only (no runbook).

Detection is AWS Config's managed ECS_CONTAINERS_NONPRIVILEGED (no parameters). Its page:
https://docs.aws.amazon.com/config/latest/developerguide/ecs-containers-nonprivileged.html
"""

from orgguard.controls.base import Control, ControlSettings, OffByDefaultSettings, managed_rule
from orgguard.manifest import Mappings, RuleSpec

IDENTIFIER = "ECS_CONTAINERS_NONPRIVILEGED"


class EcsContainersNonprivileged(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        return managed_rule(
            self,
            prefix,
            IDENTIFIER,
            "ECS task definitions must not run any container privileged (Security Hub ECS.4).",
        )


CONTROL = EcsContainersNonprivileged(
    id="ecs-containers-nonprivileged",
    order=41,
    title="ECS containers run as non-privileged",
    # Security Hub ECS.4 "ECS containers should run as non-privileged", Severity: High
    # (https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-4).
    severity="high",
    mappings=Mappings(security_hub=["ECS.4"]),
    resource_types=("AWS::ECS::TaskDefinition",),
    # No runbook: changing a task definition means a new revision and a deployment of every service that
    # runs it, which its owner decides. "off" is the only truthful mode: no remediation binding exists; what a
    # person does is remediation_advice, printed in the report.
    runbook=None,
    remediation_modes=("off",),
    default_remediation="off",
    settings_model=OffByDefaultSettings,
    caveats=(
        'ECS_CONTAINERS_NONPRIVILEGED "only evaluates the latest active revision of an Amazon ECS task '
        'definition" (AWS Config): an older ACTIVE revision with privileged: true is not evaluated and can still '
        "be run or deployed; deregister old revisions.",
        "Approval-only: no runbook runs; a finding is fixed by the task definition's owner (see the advice).",
    ),
    remediation_advice=(
        "Register a new revision of the task definition with privileged removed (or false) on every container. "
        "If a container needs one kernel capability, grant only that one with linuxParameters.capabilities.add "
        "instead of privileged mode (on Fargate only SYS_PTRACE can be added). Update every service that runs "
        "the family to the new revision (a new deployment replaces the running tasks), then deregister the old "
        "revisions: Config looks only at the latest one, so an old privileged revision stays usable and unseen."
    ),
    # The rule's page: "All supported AWS regions except Asia Pacific (Thailand), Asia Pacific (Malaysia),
    # Mexico (Central), Asia Pacific (Taipei), Canada West (Calgary) Region"; a later copy (docs.amazonaws.cn,
    # same page) lists "Asia Pacific (New Zealand), Asia Pacific (Thailand), Mexico (Central), Asia Pacific
    # (Taipei)". Both versions' exceptions are kept. The region-name -> code mapping is orgguard's, not the page's:
    # Thailand ap-southeast-7, Malaysia ap-southeast-5, New Zealand ap-southeast-6, Mexico (Central) mx-central-1,
    # Taipei ap-east-2, Calgary ca-west-1.
    unavailable_regions=(
        "ap-east-2",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "mx-central-1",
    ),
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/ecs-containers-nonprivileged.html",
)
