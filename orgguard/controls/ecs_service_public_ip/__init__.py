"""ECS.2: ECS services must not assign public IP addresses to their tasks.

Why a Guard rule and not a managed one (issue 12 item 3): AWS documents no managed Config rule for ECS.2.
Security Hub's page gives its rule as "ecs-service-assign-public-ip-disabled (custom Security Hub CSPM rule)",
Parameters None, with no AWS Config page
(https://docs.aws.amazon.com/securityhub/latest/userguide/ecs-controls.html#ecs-2); AWS Config's managed-rule list
has no ECS_SERVICE_ASSIGN_PUBLIC_IP_DISABLED in any region (moto's copy of that list, scraped from AWS's pages,
agrees; tests/catalog/test_managed_rules.py pins it). The identifier in public Terraform code is Security Hub's
own rule name, whose rule is a Security Hub-owned Lambda. So this Guard rule is the implementation everywhere.
"""

from orgguard.controls.base import Control, ControlSettings, guard_rule
from orgguard.controls.ecs_service_public_ip.runbook import RUNBOOK
from orgguard.manifest import Mappings, RuleSpec

# Config's item for AWS::ECS::Service spells the block "AwsvpcConfiguration" (lower-case vpc).
POLICY = """\
rule ecs_service_assign_public_ip_disabled when resourceType == "AWS::ECS::Service" {
  when configuration.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp exists {
    configuration.NetworkConfiguration.AwsvpcConfiguration.AssignPublicIp != "ENABLED"
  }
}
"""


class EcsServicePublicIp(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        return guard_rule(
            self, prefix, "ECS services must not assign public IPs to their tasks (Security Hub ECS.2).", POLICY
        )


CONTROL = EcsServicePublicIp(
    id="ecs-service-public-ip",
    order=30,
    title="ECS services do not assign public IP addresses automatically",
    severity="high",
    mappings=Mappings(security_hub=["ECS.2"]),
    resource_types=("AWS::ECS::Service",),
    runbook=RUNBOOK,
    remediation_modes=("manual", "automatic", "off"),
    default_remediation="manual",
    caveats=(
        "No AWS managed rule exists for ECS.2: detection is a Guard custom policy rule. Guard rules are "
        "documented for conformance packs; inside an organization conformance pack they are not proven "
        "by AWS documentation - confirm with `orgguard verify` after the first apply.",
        "The runbook starts a new deployment of the service; services using the CODE_DEPLOY or EXTERNAL "
        "deployment controller are refused and need a new deployment or task set by their owners.",
        "Tasks in public subnets without a public IP lose direct internet egress: route through a NAT "
        "gateway or VPC endpoints before enabling automatic remediation.",
    ),
    # A Guard custom policy rule: no managed rule exists in any region (see the module docstring), so no
    # per-rule region list; AWS Config's recording of AWS::ECS::Service per region was not checked (a known gap).
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/evaluate-config_develop-rules_cfn-guard.html",
)
