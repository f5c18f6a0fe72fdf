"""The governance file's `vpc_block_public_access:` section.

Modes are written as the EC2 API spells them (hyphens: `block-ingress`); the declarative policy spells
them with underscores (`block_ingress`), which `entry.policy_content` writes (AWS Organizations User Guide,
"Declarative policy syntax and examples", VPC Block Public Access:
https://docs.aws.amazon.com/organizations/latest/userguide/orgs_manage_policies_declarative_syntax.html).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator

# The same OU/root id pattern as orgguard.config.models.OuId (not imported: that module imports this one).
OU_PATTERN = r"^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$"
Mode = Literal["off", "block-ingress", "block-bidirectional"]


class VpcBlockPublicAccess(BaseModel):
    """Off unless `mode` says otherwise; a file that leaves the section out synthesizes exactly as before."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    mode: Mode = Field(
        "off",
        description="off (default) | block-ingress (inbound internet traffic through internet gateways blocked; "
        "NAT and egress-only gateways still reach out) | block-bidirectional (all internet-gateway and "
        "egress-only-gateway traffic blocked). Organization mode: an EC2 declarative policy on target_ous; "
        "account mode: aws_vpc_block_public_access_options in every region of each account",
    )
    target_ous: list[str] | None = Field(
        None,
        description="Organization mode: the OUs (or the root) the declarative policy is attached to; each must "
        "be one of organization.target_ous (the verifier checks the accounts of those OUs). Default: "
        "organization.target_ous",
    )
    # Strict: only YAML true/false. A lax bool would read the quoted "no" or "off" as false and "yes" as
    # true, so a typo'd or quoted value would silently flip who may exempt their VPCs.
    exclusions_allowed: StrictBool = Field(
        True,
        description="Organization mode: whether member accounts may create VPC/subnet exclusions (made in the "
        "VPC owner's account). Account mode has no such switch (an account may always create exclusions), "
        "so false is refused there",
    )

    @field_validator("target_ous")
    @classmethod
    def _ou_ids(cls, v: list[str] | None) -> list[str] | None:
        if v is None:
            return v
        problems = [
            f"@[{i}]: {ou!r} is malformed; use an OU id like ou-ab12-cdefgh34 or the root id r-ab12"
            for i, ou in enumerate(v)
            if not re.fullmatch(OU_PATTERN, ou)
        ]
        problems += [f"@[{i}]: {ou} is listed twice; remove the repeat" for i, ou in enumerate(v) if ou in v[:i]]
        if problems:
            raise ValueError("\n".join(problems))
        return v

    @property
    def enabled(self) -> bool:
        return self.mode != "off"


def problems(bpa: VpcBlockPublicAccess, *, mode: str, organization_target_ous: list[str]) -> list[str]:
    """Cross-field refusals, one line each, `@.`-relative to the governance file's top level.

    target_ous must be among organization.target_ous: the verifier walks exactly those OUs, so a policy on
    any other OU would reach accounts it never checks (and a sub-OU cannot be told apart offline).
    """
    out: list[str] = []
    where = "@.vpc_block_public_access"
    if not bpa.enabled:
        return out
    if mode == "account":
        if bpa.target_ous is not None:
            out.append(
                f"{where}.target_ous: only organization mode attaches a policy to OUs; account mode sets the mode "
                "in every region of each account in accounts; remove target_ous"
            )
        if not bpa.exclusions_allowed:
            out.append(
                f"{where}.exclusions_allowed: false is enforced only by the organization's declarative policy; "
                "in account mode any account admin can create exclusions (CreateVpcBlockPublicAccessExclusion), "
                "so it would promise what it cannot keep; remove it, or use mode: organization"
            )
        return out
    ous = organization_target_ous if bpa.target_ous is None else bpa.target_ous
    if not ous:
        out.append(f"{where}.target_ous: is empty; name at least one of organization.target_ous, or set mode: off")
    for i, ou in enumerate(bpa.target_ous or []):
        if ou not in organization_target_ous:
            out.append(
                f"{where}.target_ous[{i}]: {ou} is not one of organization.target_ous, so the verifier would never "
                "check its accounts; add it to organization.target_ous or remove it here"
            )
    return out
