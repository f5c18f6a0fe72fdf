"""restricted-ssh: no security group may admit 22/tcp from 0.0.0.0/0 or ::/0."""

from orgguard.catalog.base import Control, ControlSettings, managed_rule
from orgguard.manifest import Mappings, RuleSpec

SSH_PORT = 22


class RestrictedSsh(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        return managed_rule(
            self,
            prefix,
            "INCOMING_SSH_DISABLED",
            "Security groups must not admit SSH (22/tcp) from 0.0.0.0/0 or ::/0, "
            "including all-TCP and all-traffic rules.",
        )

    def remediation_parameters(self, settings: ControlSettings, exemption_tag_key: str) -> dict[str, list[str]]:
        return {"RestrictedPorts": [str(SSH_PORT)], "ExemptionTagKey": [exemption_tag_key], "DryRun": ["false"]}


CONTROL = RestrictedSsh(
    id="restricted-ssh",
    title="Security groups do not allow SSH from the internet",
    severity="high",
    mappings=Mappings(
        security_hub=["EC2.13"],
        control_tower="AWS-GR_RESTRICTED_SSH",
        control_tower_proactive=["CT.EC2.PR.3"],
        cis=["5.2"],
    ),
    # Global id: AWS's list at https://docs.aws.amazon.com/controltower/latest/controlreference/all-global-identifiers.html;
    # the value as AWS's own sample aws-samples/aws-control-tower-controls-terraform (variables.tfvars) names it.
    # `aws controlcatalog get-control --control-arn arn:aws:controlcatalog:::control/<id>` shows its alias.
    control_catalog_id="6rilu41n0gb9w6mxrkyewoer4",  # AWS-GR_RESTRICTED_SSH
    resource_types=("AWS::EC2::SecurityGroup",),
    runbook="sg-revoke",
    remediation_modes=("automatic", "manual", "off"),
    default_remediation="automatic",
    caveats=(
        "Detection is AWS Config's managed INCOMING_SSH_DISABLED rule: it evaluates on configuration "
        "change, so exposure lasts until the change is recorded and remediated (enable fast_path to "
        "shorten it to seconds).",
        "The runbook revokes only ingress rules open to 0.0.0.0/0 or ::/0 that reach 22/tcp; rules from "
        "other CIDRs, prefix lists and security groups are never touched.",
    ),
    # "AWS Region: All supported AWS regions" (checked 2026 on the rule's page).
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/restricted-ssh.html",
)
