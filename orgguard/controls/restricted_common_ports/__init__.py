"""restricted-common-ports: no security group may admit high-risk TCP ports from the internet."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from orgguard.controls.base import Control, ControlSettings, check_port_list, managed_rule
from orgguard.manifest import Mappings, RuleSpec
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER, SG_REVOKE

PORT_PROFILES: dict[str, tuple[int, ...]] = {
    # RESTRICTED_INCOMING_TRAFFIC's defaults, as Control Tower's AWS-GR_RESTRICTED_COMMON_PORTS uses them.
    "control-tower": (20, 21, 3389, 3306, 4333),
    # Security Hub EC2.19's high-risk list.
    "security-hub-ec2-19": (
        20,
        21,
        22,
        23,
        25,
        110,
        135,
        143,
        445,
        1433,
        1434,
        3000,
        3306,
        3389,
        4333,
        5000,
        5432,
        5500,
        5601,
        8080,
        8088,
        8888,
    ),
}
MAX_NUMBERED_PARAMETERS = 5  # blockedPort1..blockedPort5


class CommonPortsSettings(ControlSettings):
    ports: Literal["control-tower", "security-hub-ec2-19"] | list[Any] = Field(
        "control-tower",
        description="A port profile (control-tower = 20,21,3389,3306,4333; security-hub-ec2-19 = the "
        "22-port EC2.19 list) or an explicit list of TCP ports",
    )

    @field_validator("ports", mode="before")
    @classmethod
    def _check_ports(cls, value: Any) -> Any:
        if isinstance(value, str):
            if value not in PORT_PROFILES:
                raise ValueError(f"unknown port profile {value!r}; use one of {', '.join(PORT_PROFILES)} or a list")
            return value
        if not isinstance(value, list) or not value:
            raise ValueError("must be a port profile name or a non-empty list of TCP ports")
        return check_port_list(value, lowest=1, noun="a TCP port (1-65535)")

    def port_list(self) -> list[int]:
        return list(PORT_PROFILES[self.ports]) if isinstance(self.ports, str) else list(self.ports)


class RestrictedCommonPorts(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        assert isinstance(settings, CommonPortsSettings)
        ports = settings.port_list()
        if len(ports) <= MAX_NUMBERED_PARAMETERS:
            # Every slot is filled (repeating the last port): a slot left empty may fall back to the rule's
            # default port, which the runbook's RestrictedPorts would then never revoke.
            slots = ports + [ports[-1]] * (MAX_NUMBERED_PARAMETERS - len(ports))
            params = {f"blockedPort{i}": str(p) for i, p in enumerate(slots, start=1)}
        else:
            params = {"blockedPorts": ",".join(str(p) for p in ports)}
        return managed_rule(
            self,
            prefix,
            "RESTRICTED_INCOMING_TRAFFIC",
            f"Security groups must not admit TCP ports {', '.join(map(str, ports))} from 0.0.0.0/0 or ::/0.",
            params,
        )

    def restricted_ports(self, settings: ControlSettings) -> tuple[int, ...]:
        assert isinstance(settings, CommonPortsSettings)
        return tuple(settings.port_list())

    def remediation_parameters(self, settings: ControlSettings, exemption_tag_key: str) -> dict[str, list[str]]:
        return {
            PORTS_PARAMETER: [str(p) for p in self.restricted_ports(settings)],
            "ExemptionTagKey": [exemption_tag_key],
            "DryRun": ["false"],
        }


CONTROL = RestrictedCommonPorts(
    id="restricted-common-ports",
    order=20,
    title="Security groups do not allow high-risk ports from the internet",
    severity="high",
    mappings=Mappings(
        security_hub=["EC2.14", "EC2.19"],
        control_tower="AWS-GR_RESTRICTED_COMMON_PORTS",
        control_tower_proactive=["CT.EC2.PR.4"],
        cis=["5.3"],
    ),
    # Global id: AWS's list at https://docs.aws.amazon.com/controltower/latest/controlreference/all-global-identifiers.html;
    # the value as AWS's own sample aws-samples/aws-control-tower-controls-terraform (variables.tfvars) names it.
    # `aws controlcatalog get-control --control-arn arn:aws:controlcatalog:::control/<id>` shows its alias.
    control_catalog_id="df2ta5ytg2zatj1q7y5e09u32",  # AWS-GR_RESTRICTED_COMMON_PORTS
    resource_types=("AWS::EC2::SecurityGroup",),
    runbook=SG_REVOKE,
    fast_path=True,
    remediation_modes=("automatic", "manual", "off"),
    default_remediation="automatic",
    settings_model=CommonPortsSettings,
    caveats=(
        "RESTRICTED_INCOMING_TRAFFIC checks TCP only: UDP exposure of the same ports is neither detected nor revoked.",
        "Security Hub EC2.14 covers 3389 only; choose the security-hub-ec2-19 profile for the 22-port list.",
    ),
    # "AWS Region: All supported AWS regions" (checked 2026 on the rule's page; the China-partition copy of the
    # page also excepts the AWS Secret-West Region, which is outside the aws partition).
    availability_source="https://docs.aws.amazon.com/config/latest/developerguide/restricted-common-ports.html",
    source_fields=("ports",),
)
