"""restricted-ssh: no security group may admit 22/tcp from 0.0.0.0/0 or ::/0."""

from orgguard.controls.base import Control, ControlSettings, managed_rule
from orgguard.manifest import Mappings, RuleSpec
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER, SG_REVOKE

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

    def restricted_ports(self, settings: ControlSettings) -> tuple[int, ...]:
        return (SSH_PORT,)

    def remediation_parameters(self, settings: ControlSettings, exemption_tag_key: str) -> dict[str, list[str]]:
        return {
            PORTS_PARAMETER: [str(p) for p in self.restricted_ports(settings)],
            "ExemptionTagKey": [exemption_tag_key],
            "DryRun": ["false"],
        }


CONTROL = RestrictedSsh(
    id="restricted-ssh",
    order=10,
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
    runbook=SG_REVOKE,
    fast_path=True,
    remediation_modes=("automatic", "manual", "off"),
    default_remediation="automatic",
    caveats=(
        "Detection is AWS Config's managed INCOMING_SSH_DISABLED rule: it evaluates on configuration "
        "change, so exposure lasts until the change is recorded and remediated (enable fast_path to "
        "shorten it to seconds).",
        "The runbook revokes only ingress rules that reach 22/tcp from the whole internet: 0.0.0.0/0, ::/0 "
        "or a managed prefix list holding one of them. Narrower CIDRs, prefix lists of narrower CIDRs and "
        "security-group references are never touched; so the internet split into narrower blocks "
        "(0.0.0.0/1 plus 128.0.0.0/1) stays open, and the managed rule does not flag it either.",
    ),
    # "AWS Region: All supported AWS regions" (checked 2026 on the rule's page).
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/restricted-ssh.html",
)
