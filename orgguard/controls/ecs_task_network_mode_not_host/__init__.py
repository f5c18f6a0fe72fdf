"""ECS.17: task definitions do not use host network mode. Off by default; approval-only (no runbook).

Detection is AWS Config's managed ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST (no parameters), the current
rule behind Security Hub ECS.17. The older ECS_TASK_DEFINITION_USER_FOR_HOST_MODE_CHECK (behind ECS.1, which
Security Hub retired in March 2026) is COMPLIANT for a host-mode task that is privileged or non-root, so it is
not a "no host mode" check. Page:
https://docs.aws.amazon.com/config/latest/developerguide/ecs-task-definition-network-mode-not-host.html
"""

from orgguard.controls.base import Control, ControlSettings, OffByDefaultSettings, managed_rule
from orgguard.manifest import Mappings, RuleSpec

IDENTIFIER = "ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST"


class EcsTaskNetworkModeNotHost(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        return managed_rule(
            self,
            prefix,
            IDENTIFIER,
            "ECS task definitions must not use host network mode (Security Hub ECS.17).",
        )


CONTROL = EcsTaskNetworkModeNotHost(
    id="ecs-task-network-mode-not-host",
    order=43,
    title="ECS task definitions do not use host network mode",
    # Security Hub ECS.17 "ECS task definitions should not use host network mode", Severity: Medium
    # (https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-17).
    severity="medium",
    mappings=Mappings(security_hub=["ECS.17"]),
    resource_types=("AWS::ECS::TaskDefinition",),
    # No runbook: a new network mode changes how every task of the service is reached (its own network
    # interface, subnets and security groups), which the owner decides. "off" is the only truthful mode.
    runbook=None,
    remediation_modes=("off",),
    default_remediation="off",
    settings_model=OffByDefaultSettings,
    caveats=(
        'ECS_TASK_DEFINITION_NETWORK_MODE_NOT_HOST "Checks if the latest active revision of Amazon ECS task '
        'definitions use host network mode" (AWS Config): an older ACTIVE revision in host mode is not evaluated '
        "and can still be run or deployed; deregister old revisions.",
        "Approval-only: no runbook runs; a finding is fixed by the task definition's owner (see the advice).",
    ),
    remediation_advice=(
        "Register a new revision of the task definition with networkMode awsvpc instead of host: each task then "
        "gets its own network interface and security group, and containers no longer share the instance's "
        "network stack and ports. Update every service that runs the family to the new revision, giving it the "
        "subnets and security groups awsvpc needs, then deregister the old revisions: Config looks only at the "
        "latest one, so an old host-mode revision stays usable and unseen."
    ),
    # The rule's page (current .html): "All supported AWS regions except Middle East (Bahrain), Asia Pacific
    # (Thailand), Mexico (Central), Asia Pacific (Taipei) Region" (an older stored copy says all regions; the
    # exceptions are kept). The region-name -> code mapping is orgguard's, not the page's: Bahrain me-south-1,
    # Thailand ap-southeast-7, Mexico (Central) mx-central-1, Taipei ap-east-2.
    unavailable_regions=("ap-east-2", "ap-southeast-7", "me-south-1", "mx-central-1"),
    availability_source=(
        "https://docs.aws.amazon.com/config/latest/developerguide/ecs-task-definition-network-mode-not-host.html"
    ),
)
