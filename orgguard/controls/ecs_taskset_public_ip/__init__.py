"""ECS.16: ECS task sets must not assign public IP addresses.

Why a Guard rule and not a managed one (issue 12 item 3): AWS documents no managed Config rule for ECS.16.
Security Hub's page gives its rule as "ecs-taskset-assign-public-ip-disabled (custom Security Hub CSPM rule)",
Resource type AWS::ECS::TaskSet, Parameters None, with no AWS Config page
(https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-16); AWS Config's managed-rule
list has no rule for AWS::ECS::TaskSet (moto's copy of that list agrees; tests/catalog/test_managed_rules.py pins
it). So this Guard rule is the implementation in every region.
"""

from orgguard.controls.base import Control, ControlSettings, guard_rule
from orgguard.controls.ecs_taskset_public_ip.runbook import RUNBOOK
from orgguard.manifest import Mappings, RuleSpec

# Config's item for AWS::ECS::TaskSet spells the block "AwsVpcConfiguration" (capital V), unlike Service.
POLICY = """\
rule ecs_taskset_assign_public_ip_disabled when resourceType == "AWS::ECS::TaskSet" {
  when configuration.NetworkConfiguration.AwsVpcConfiguration.AssignPublicIp exists {
    configuration.NetworkConfiguration.AwsVpcConfiguration.AssignPublicIp != "ENABLED"
  }
}
"""


class EcsTasksetPublicIp(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        return guard_rule(self, prefix, "ECS task sets must not assign public IPs (Security Hub ECS.16).", POLICY)


CONTROL = EcsTasksetPublicIp(
    id="ecs-taskset-public-ip",
    order=50,
    title="ECS task sets do not assign public IP addresses automatically",
    severity="high",
    mappings=Mappings(security_hub=["ECS.16"]),
    resource_types=("AWS::ECS::TaskSet",),
    runbook=RUNBOOK,
    # UpdateTaskSet changes only scale: the fix is a new task set, so the runbook only reports.
    remediation_modes=("manual", "off"),
    default_remediation="manual",
    caveats=(
        "No in-place fix exists: UpdateTaskSet changes only the scale, so the runbook reports the task "
        "set and the steps (create a replacement task set with assignPublicIp DISABLED, shift traffic, "
        "delete the old one); it changes nothing.",
        "No AWS managed rule exists for ECS.16: detection is a Guard custom policy rule; AWS Config's "
        "regional support for AWS::ECS::TaskSet was not checked in every region.",
    ),
    # A Guard custom policy rule: no managed rule exists in any region (see the module docstring), so no
    # per-rule region list; AWS Config's recording of AWS::ECS::TaskSet per region was not checked (a known gap).
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_cfn-guard.html",
)
