"""How the report words the preventive layer, and which of its changes the diff flags.

The words follow the Amazon VPC User Guide, "VPC BPA basics"
(https://docs.aws.amazon.com/vpc/latest/userguide/security-vpc-bpa-basics.html).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from orgguard.layers.vpc_block_public_access.entry import VpcBpaEntry

if TYPE_CHECKING:
    from orgguard.manifest import Manifest
    from orgguard.review.diff import ManifestDiff

SOURCE = "https://docs.aws.amazon.com/vpc/latest/userguide/security-vpc-bpa-basics.html"
_STRENGTH = {None: 0, "block-ingress": 1, "block-bidirectional": 2}
# Quoted from the VPC User Guide page above.
QUOTE_INGRESS = (
    "Only traffic to and from NAT gateways and egress-only internet gateways is allowed because these gateways "
    "only allow outbound connections to be established."
)
QUOTE_LOAD_BALANCER = (
    "the load balancer can still receive public traffic in the excluded subnet and route it privately to targets "
    "in subnets that are not excluded"
)


@dataclass(frozen=True)
class LayerSection:
    """One layer in the report: what it is, where, what it blocks and what it does not."""

    anchor: str
    title: str
    summary: str
    facts: list[tuple[str, str]]
    blocked: list[str]
    not_blocked: list[str]
    notes: list[str]
    source: str


def _where(entry: VpcBpaEntry, manifest: Manifest) -> str:
    regions = ", ".join(entry.regions)
    if entry.organization_mode:
        return (
            f"every account under {', '.join(entry.target_ous)} (an EC2 declarative policy attached there, "
            f"accounts that join later included), in every region ({regions} are verified)"
        )
    accounts = sorted({a.account_id for a in entry.accounts})
    return f"accounts {', '.join(accounts)}, in regions {regions} (set per account and region)"


def report_section(manifest: Manifest) -> LayerSection | None:
    entry = manifest.vpc_block_public_access
    if entry is None:
        return None
    ingress = entry.mode == "block-ingress"
    blocked = [
        (
            "Inbound internet traffic through internet gateways to every VPC and subnet not excluded: nothing on "
            "the internet can open a connection in, whatever the security groups and network ACLs allow."
            if ingress
            else "All traffic through internet gateways and egress-only internet gateways, in and out, to every VPC "
            "and subnet not excluded: no internet access at all, NAT gateways included (they need an internet "
            "gateway)."
        ),
        "Internet-facing Network and Application Load Balancers, CloudFront VPC origins and Global Accelerator "
        "(inbound) in subnets not excluded: the VPC User Guide's “VPC BPA basics” page lists each of them as "
        f"impacted by VPC BPA ({SOURCE}).",
    ]
    not_blocked = [
        *(
            [
                "Outbound connections through NAT gateways and egress-only internet gateways keep working: "
                f"“{QUOTE_INGRESS}”"
            ]
            if ingress
            else []
        ),
        "Excluded VPCs and subnets (exclusions are created in the account that owns the VPC"
        + ("" if entry.exclusions_allowed or not entry.organization_mode else "; this plan does not allow them")
        + "). A load balancer in an excluded subnet still passes internet traffic to targets elsewhere: "
        f"“{QUOTE_LOAD_BALANCER}”.",
        "Private connectivity: Transit Gateway, Site-to-Site VPN, Direct Connect (private VIF), VPC peering, "
        "Client VPN, Cloud WAN, Verified Access, and traffic to in-VPC services such as the Route 53 Resolver.",
    ]
    facts = [
        ("Mode", entry.mode),
        ("Where", _where(entry, manifest)),
    ]
    notes = []
    if entry.exclusions_allowed:
        notes.append(
            "Exclusions are allowed: any administrator of an account in scope can exempt their own VPCs and "
            "subnets (CreateVpcBlockPublicAccessExclusion, allow-bidirectional lets internet traffic in and out "
            "again), without asking anyone. The verifier lists every exclusion per account and region "
            "(vpc-bpa-exclusions); review that list."
        )
    if entry.organization_mode:
        facts += [
            ("Exclusions", "allowed (member accounts may exclude VPCs and subnets)" if entry.exclusions_allowed
             else "not allowed (no account can exclude a VPC or subnet)"),
            ("Policy", f"{entry.policy_name} ({entry.policy_type}), values locked against child policies"),
        ]
        notes.append(
            "Accounts in scope cannot change the setting (ModifyVpcBlockPublicAccessOptions is refused); only "
            "the management account or a delegated policy administrator can detach or edit the policy."
        )
        notes.append(
            "Control Tower's CT.EC2.PV.8 is a declarative policy on the same setting (block-bidirectional, no "
            "exclusions): do not enable it on these OUs as well; the plan refuses an OU that has one already, and "
            "the verifier fails an OU that has both."
        )
    else:
        facts.append(("Exclusions", "allowed: account mode has no switch to forbid them"))
        notes.append(
            "Account mode: an account administrator can change the setting back (verify shows it); destroying "
            "the stack, or turning the layer off, sets the mode to off in that account and region."
        )
        notes.append(
            f"Account mode overwrites the account's own setting: the apply sets {entry.mode} in each account and "
            "region whatever was there before (a block-bidirectional the account owner chose becomes "
            f"{entry.mode}{'' if entry.mode == 'block-bidirectional' else ', which lets outbound traffic out again'}"
            "), and destroying it sets off, not what was there before. Provider 5.100.0 has no data source to "
            "read the setting at plan time: record each account's current mode first (aws ec2 "
            "describe-vpc-block-public-access-options, per region; docs/vending-pipelines.md)."
        )
    return LayerSection(
        anchor="vpc-block-public-access",
        title="Preventive layer: VPC Block Public Access",
        summary=(
            "Blocks internet traffic to the VPCs themselves, before any security group or Config rule is "
            "involved: a security group opened to 0.0.0.0/0 is not reachable from the internet where it applies."
        ),
        facts=facts,
        blocked=blocked,
        not_blocked=not_blocked,
        notes=notes,
        source=SOURCE,
    )


def diff_layer(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    """Turning it on, stricter, onto more OUs, or forbidding exclusions blocks traffic: flagged BLOCKING.
    Turning it off, weaker, off an OU, or allowing exclusions opens traffic again: flagged."""
    from orgguard.review.diff import BLOCKING, RUNBOOK, SCOPE, WEAKENED

    o = old.vpc_block_public_access if old else None
    n = new.vpc_block_public_access
    subject = "VPC Block Public Access"
    if o is None and n is None:
        return
    if n is None:
        diff.flag(
            WEAKENED,
            subject,
            f"turned off (was {o.mode}): internet traffic through internet gateways reaches the VPCs again"
            + ("; the declarative policy is detached and deleted" if o.organization_mode else
               "; each account and region is set back to off"),
        )
        return
    if o is None:
        diff.flag(BLOCKING, subject, f"turned on, {n.mode}: {_blocks(n)}; check that no workload needs it first")
        return
    if n.mode != o.mode:
        words = f"mode {o.mode} → {n.mode}"
        if _STRENGTH[n.mode] > _STRENGTH[o.mode]:
            diff.flag(BLOCKING, subject, f"{words}: {_blocks(n)}")
        else:
            diff.flag(WEAKENED, subject, f"{words}: inbound stays blocked, outbound internet traffic is allowed again")
    if n.exclusions_allowed != o.exclusions_allowed:
        if n.exclusions_allowed:
            diff.flag(WEAKENED, subject, "exclusions allowed: any member account can exempt its VPCs and subnets")
        else:
            diff.flag(BLOCKING, subject, "exclusions no longer allowed: VPCs and subnets excluded today are blocked")
    for ou in o.target_ous:
        if ou not in n.target_ous:
            diff.flag(SCOPE, subject, f"target OU {ou} removed: its accounts are no longer blocked")
    for ou in n.target_ous:
        if ou not in o.target_ous:
            diff.flag(BLOCKING, subject, f"target OU {ou} added: {_blocks(n)} in its accounts")
    before = {(a.account_id, a.region) for a in o.accounts}
    for a in n.accounts:
        if (a.account_id, a.region) not in before:
            diff.change("vpc block public access", subject, f"{a.account_id} {a.region}: {a.mode}")
    after = {(a.account_id, a.region) for a in n.accounts}
    for a in o.accounts:
        if (a.account_id, a.region) not in after:
            diff.flag(SCOPE, subject, f"{a.account_id} {a.region} no longer set: it goes back to off")
    if n.policy_content != o.policy_content and n.mode == o.mode and n.exclusions_allowed == o.exclusions_allowed:
        diff.flag(RUNBOOK, subject, "declarative policy content changed: review it before approving")


def _blocks(entry: VpcBpaEntry) -> str:
    if entry.mode == "block-ingress":
        return "inbound internet traffic to every VPC and subnet not excluded is blocked"
    return "all internet traffic to and from every VPC and subnet not excluded is blocked, NAT egress included"
