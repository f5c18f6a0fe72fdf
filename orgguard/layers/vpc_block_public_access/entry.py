"""What the plan records about the layer (the manifest entry) and the declarative policy it deploys.

The manifest imports this module, so it imports only pydantic and the settings model.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from orgguard.config.models import Governance

POLICY_TYPE = "DECLARATIVE_POLICY_EC2"
# Lower in the tree a child policy may not change what this one assigns (management-policy inheritance,
# https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_inheritance_mgmt.html).
# Only the management account or a delegated policy administrator can attach policies at all, so the threat
# is a careless or compromised administrator attaching a weaker policy to a sub-OU or an account, not a member.
LOCKED = ["@@none"]
EnabledMode = Literal["block-ingress", "block-bidirectional"]


def policy_mode(mode: str) -> str:
    """The EC2 API's `block-ingress` as the policy writes it, `block_ingress` (same User Guide page)."""
    return mode.replace("-", "_")


def policy_content(mode: str, exclusions_allowed: bool) -> dict[str, Any]:
    """The EC2 declarative policy, shaped as the AWS Organizations User Guide's VPC BPA example
    (orgs_manage_policies_declarative_syntax.html), each value locked against child policies."""
    return {
        "ec2_attributes": {
            "vpc_block_public_access": {
                "internet_gateway_block": {
                    "mode": {"@@assign": policy_mode(mode), "@@operators_allowed_for_child_policies": LOCKED},
                    "exclusions_allowed": {
                        "@@assign": "enabled" if exclusions_allowed else "disabled",
                        "@@operators_allowed_for_child_policies": LOCKED,
                    },
                }
            }
        }
    }


def content_text(content: dict[str, Any]) -> str:
    """The one serialization sent to AWS and hashed (sorted keys, no white space)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"))


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AccountRegionMode(_Model):
    account_id: str
    region: str
    mode: EnabledMode


class VpcBpaEntry(_Model):
    """The preventive layer as planned. Organization mode: the policy and the OUs it is attached to;
    account mode: the mode set in each account and region."""

    mode: EnabledMode = Field(description="As the EC2 API spells it (hyphens)")
    exclusions_allowed: bool = Field(description="Organization mode: may member accounts create exclusions")
    regions: list[str] = Field(description="Regions the verifier checks (the setting is per region)")
    policy_name: str | None = Field(None, description="Organization mode: the declarative policy's name")
    policy_type: Literal["DECLARATIVE_POLICY_EC2"] | None = None
    policy_content: dict[str, Any] | None = Field(None, description="Organization mode: the policy document")
    policy_sha256: str | None = Field(None, description="SHA-256 hex of the content string sent to AWS")
    target_ous: list[str] = Field(default_factory=list, description="Organization mode: OUs the policy is attached to")
    accounts: list[AccountRegionMode] = Field(default_factory=list, description="Account mode: mode per account/region")

    @property
    def organization_mode(self) -> bool:
        return self.policy_name is not None


def policy_name(prefix: str) -> str:
    return f"{prefix}-vpc-block-public-access"


def plan_entry(gov: Governance) -> VpcBpaEntry | None:
    """None when the layer is off, so the manifest leaves the key out and stays byte-for-byte as before."""
    bpa = gov.vpc_block_public_access
    if not bpa.enabled:
        return None
    org = gov.organization
    mode: EnabledMode = bpa.mode  # type: ignore[assignment]
    if gov.mode == "account":
        return VpcBpaEntry(
            mode=mode,
            exclusions_allowed=True,
            regions=list(org.regions),
            accounts=[AccountRegionMode(account_id=a, region=r, mode=mode) for a in gov.accounts for r in org.regions],
        )
    content = policy_content(mode, bpa.exclusions_allowed)
    return VpcBpaEntry(
        mode=mode,
        exclusions_allowed=bpa.exclusions_allowed,
        regions=list(org.regions),
        policy_name=policy_name(gov.name_prefix),
        policy_type=POLICY_TYPE,
        policy_content=content,
        policy_sha256=hashlib.sha256(content_text(content).encode()).hexdigest(),
        target_ous=list(org.target_ous if bpa.target_ous is None else bpa.target_ous),
    )
