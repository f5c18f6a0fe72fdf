"""restricted-ports-all-protocols: no security group may admit restricted ports from the internet over TCP or UDP.

AWS Config's managed rule VPC_SG_PORT_RESTRICTION_CHECK (page below): "NON_COMPLIANT if security groups allow
incoming traffic from 0.0.0.0/0 or ::/0 over TCP/UDP ports 22/3389 or as specified in parameters". It is
periodic only, so the rule carries a MaximumExecutionFrequency. The TCP controls (restricted-ssh,
restricted-common-ports) stay as they are beside it; this one is off unless the governance file enables it.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import Field, field_validator, model_validator

from orgguard.controls.base import Control, ControlSettings, OffByDefaultSettings, check_port_list, managed_rule
from orgguard.manifest import ExecutionFrequency, Mappings, RuleSpec
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER, PROTOCOLS_PARAMETER, SG_REVOKE

RULE_PAGE = "https://docs.aws.amazon.com/config/latest/developerguide/vpc-sg-port-restriction-check.html"
# The rule's own default restrictPorts ("If not specified, the rule defaults to check for 22 and 3389").
DEFAULT_PORTS = (22, 3389)
# protocol setting -> the rule's protocolType ('TCP', 'UDP', 'ALL'; ALL checks TCP, UDP and all-traffic -1
# rules) and the runbook's RestrictedProtocols (all-traffic rules are revoked for either).
PROTOCOL_TYPES: dict[str, tuple[str, tuple[str, ...]]] = {
    "tcp": ("TCP", ("tcp",)),
    "udp": ("UDP", ("udp",)),
    "all": ("ALL", ("tcp", "udp")),
}
IP_TYPES = {"ipv4": "IPv4", "ipv6": "IPv6", "all": "ALL"}  # the rule's ipType values
FREQUENCIES: tuple[str, ...] = get_args(ExecutionFrequency)


class AllProtocolsSettings(OffByDefaultSettings):
    """The control's section. Off by default: enabling it adds a periodic rule (billed per evaluation)."""

    ports: list[Any] = Field(
        default_factory=lambda: list(DEFAULT_PORTS),
        description="Ports (0-65535) that must not be open to 0.0.0.0/0 or ::/0 (the rule's restrictPorts; "
        "default 22, 3389); the runbook revokes the same ports",
    )
    protocol: Literal["tcp", "udp", "all"] = Field(
        "all", description="tcp | udp | all (TCP, UDP and all-traffic rules): the rule's protocolType"
    )
    ip_type: Literal["ipv4", "ipv6", "all"] = Field(
        "all", description="ipv4 | ipv6 | all: which internet the rule checks (its ipType)"
    )
    exclude_external_security_groups: bool = Field(
        True,
        description="true (AWS's default): groups shared from another account are not evaluated "
        "(the rule's excludeExternalSecurityGroups)",
    )
    frequency: ExecutionFrequency = Field(
        "TwentyFour_Hours",
        description="How often Config runs the periodic rule: One_Hour | Three_Hours | Six_Hours | Twelve_Hours "
        "| TwentyFour_Hours (AWS's default). One_Hour finds exposure sooner and costs 24 times the evaluations",
    )

    @field_validator("ports", mode="before")
    @classmethod
    def _check_ports(cls, value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise ValueError("must be a non-empty list of port numbers (0-65535), e.g. [22, 3389]")
        return check_port_list(value, lowest=0, noun="a port number (0-65535, the rule's valid range)")

    @field_validator("frequency", mode="before")
    @classmethod
    def _check_frequency(cls, value: Any) -> Any:
        """Named here so the message keeps AWS's spelling (the generic one is lower-cased)."""
        if value not in FREQUENCIES:
            raise ValueError(f"{value!r} is not a Config frequency; use one of {', '.join(FREQUENCIES)}")
        return value

    @model_validator(mode="after")
    def _runbook_matches_the_rule(self) -> AllProtocolsSettings:
        """The runbook revokes IPv4 and IPv6 exposure alike: with a one-family rule it would revoke more than the
        rule reports, so that combination is refused rather than silently widened."""
        if self.ip_type != "all" and self.remediation != "off":
            raise ValueError(
                f"@.ip_type: {self.ip_type} checks one address family, but the runbook revokes 0.0.0.0/0 and ::/0 "
                "alike; set ip_type: all, or remediation: off to detect only"
            )
        return self


class RestrictedPortsAllProtocols(Control):
    def rule(self, settings: ControlSettings, prefix: str) -> RuleSpec:
        assert isinstance(settings, AllProtocolsSettings)
        ports = ", ".join(map(str, settings.ports))
        if len(ports) > 100:  # the description is capped at 256 characters; the parameter lists them all
            ports = f"the {len(settings.ports)} ports in restrictPorts"
        protocol_type = PROTOCOL_TYPES[settings.protocol][0]
        family = {"ipv4": "0.0.0.0/0", "ipv6": "::/0", "all": "0.0.0.0/0 or ::/0"}[settings.ip_type]
        over = {"tcp": "TCP", "udp": "UDP", "all": "TCP, UDP or all traffic"}[settings.protocol]
        spec = managed_rule(
            self,
            prefix,
            "VPC_SG_PORT_RESTRICTION_CHECK",
            f"Security groups must not admit ports {ports} from {family} over {over}.",
            {
                # Every parameter is written out, AWS's defaults included, so the manifest says what is checked.
                "restrictPorts": ",".join(map(str, settings.ports)),
                "protocolType": protocol_type,
                "ipType": IP_TYPES[settings.ip_type],
                "excludeExternalSecurityGroups": "true" if settings.exclude_external_security_groups else "false",
            },
        )
        return spec.model_copy(update={"maximum_execution_frequency": settings.frequency})

    def restricted_ports(self, settings: ControlSettings) -> tuple[int, ...]:
        assert isinstance(settings, AllProtocolsSettings)
        return tuple(settings.ports)

    def remediation_parameters(self, settings: ControlSettings, exemption_tag_key: str) -> dict[str, list[str]]:
        assert isinstance(settings, AllProtocolsSettings)
        return {
            PORTS_PARAMETER: [str(p) for p in settings.ports],
            PROTOCOLS_PARAMETER: list(PROTOCOL_TYPES[settings.protocol][1]),
            "ExemptionTagKey": [exemption_tag_key],
            "DryRun": ["false"],
        }


CONTROL = RestrictedPortsAllProtocols(
    id="restricted-ports-all-protocols",
    order=25,
    title="Security groups do not allow restricted ports from the internet over TCP or UDP",
    severity="high",
    # EC2.53 (0.0.0.0/0) and EC2.54 (::/0) are the Security Hub controls built on this rule; CIS v3.0.0 5.2 and
    # 5.3 are theirs (docs/research/guardrails-in-depth.md section 3: from Security Hub's CIS v3.0 standard list,
    # a public code search hit, not an AWS page read here: UNCONFIRMED against the Security Hub user guide).
    mappings=Mappings(security_hub=["EC2.53", "EC2.54"], cis=["5.2", "5.3"]),
    resource_types=("AWS::EC2::SecurityGroup",),
    runbook=SG_REVOKE,
    # Off: the fast path starts the shared document with the TCP ports of the TCP controls and no
    # RestrictedProtocols (so TCP only); serving UDP would need its own routes and parameters. UDP exposure is
    # therefore closed when Config next runs this periodic rule (at most `frequency` later), not in seconds.
    fast_path=False,
    remediation_modes=("automatic", "manual", "off"),
    default_remediation="manual",
    settings_model=AllProtocolsSettings,
    caveats=(
        "VPC_SG_PORT_RESTRICTION_CHECK is periodic only: exposure is found at the next run (frequency, "
        "TwentyFour_Hours unless set), not on the change; the fast path does not serve this control.",
        "Whether the rule counts port ranges (e.g. udp 3000-4000 around 3389) and prefix-list sources is not "
        "said on its page (UNCONFIRMED); the runbook revokes both when they reach a restricted port.",
        "The runbook revokes 0.0.0.0/0 and ::/0 exposure alike (so ip_type other than all needs remediation: off), "
        "and only rules whose source is the whole internet; ICMP and other protocols are never touched.",
        "With exclude_external_security_groups: false the rule also reports groups shared from another account, "
        "which the runbook in the participant account cannot revoke (only the owner can).",
    ),
    # The rule's page: "All supported AWS regions except China (Beijing), Asia Pacific (Thailand), Asia Pacific
    # (Malaysia), Mexico (Central), Canada West (Calgary) Region"; other copies of it add Asia Pacific (Taipei)
    # and Asia Pacific (New Zealand). Every copy's exceptions are kept (the region codes are ours: the page
    # gives names). China (Beijing), cn-north-1, is outside the aws partition orgguard deploys to.
    unavailable_regions=(
        "ap-east-2",
        "ap-southeast-5",
        "ap-southeast-6",
        "ap-southeast-7",
        "ca-west-1",
        "cn-north-1",
        "mx-central-1",
    ),
    availability_source=RULE_PAGE,
    source_fields=("ports",),
)
