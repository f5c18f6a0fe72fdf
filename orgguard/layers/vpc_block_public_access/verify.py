"""The verifier's checks for the preventive layer.

Per account and region, `ec2:DescribeVpcBlockPublicAccessOptions` (botocore ec2 model:
`VpcBlockPublicAccessOptions.InternetGatewayBlockMode`, `ManagedBy` account | declarative-policy,
`ExclusionsAllowed` allowed | not-allowed) is the effective setting, whoever set it. In organization mode
the policy itself is checked too: attached to each target OU (`ListPoliciesForTarget`, Filter
DECLARATIVE_POLICY_EC2) with the planned content (`DescribePolicy`), and no other EC2 declarative policy on
that OU setting VPC BPA (Control Tower's CT.EC2.PV.8 is one: block-bidirectional, no exclusions).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from orgguard.layers.vpc_block_public_access.entry import POLICY_TYPE, VpcBpaEntry
from orgguard.manifest import Manifest
from orgguard.verify.context import OrgFacts, Target
from orgguard.verify.result import GLOBAL_REGION, CheckResult, failed, passed

CHECK = "vpc-block-public-access"
POLICY_CHECK = "vpc-bpa-policy"
EXCLUSIONS_CHECK = "vpc-bpa-exclusions"
Key = tuple[str, str | None, str, str]
# botocore ec2 VpcBlockPublicAccessExclusionState: these no longer exempt anything (failed, deleted, or disabled
# because the policy stopped allowing exclusions); every other state counts as an exclusion in effect.
NOT_IN_EFFECT = {"create-failed", "delete-complete", "disable-complete"}


def expected_options(entry: VpcBpaEntry) -> dict[str, str]:
    want = {"mode": entry.mode}
    if entry.organization_mode:
        want["managed_by"] = "declarative-policy"
        want["exclusions_allowed"] = "allowed" if entry.exclusions_allowed else "not-allowed"
    return want


def check_options(t: Target, entry: VpcBpaEntry) -> CheckResult:
    """The account-region's effective mode (and, under the policy, who manages it and exclusions)."""
    got = t.client("ec2").describe_vpc_block_public_access_options().get("VpcBlockPublicAccessOptions") or {}
    want = expected_options(entry)
    seen = {"mode": got.get("InternetGatewayBlockMode"), "managed_by": got.get("ManagedBy")}
    if entry.organization_mode:
        seen["exclusions_allowed"] = got.get("ExclusionsAllowed")
    differ = [k for k in want if seen.get(k) != want[k]]
    if not differ:
        return passed(CHECK, None, t.account_id, t.region, seen)
    words = "; ".join(f"{k} seen {seen.get(k)}, expected {want[k]}" for k in differ)
    hint = ""
    if entry.organization_mode and seen.get("managed_by") == "declarative-policy":
        hint = " (another declarative policy higher in the tree, or Control Tower's CT.EC2.PV.8, decides here)"
    elif entry.organization_mode:
        hint = " (the policy does not reach this account: check its attachment and the policy type on the root)"
    return failed(
        CHECK, None, t.account_id, t.region, want, seen, f"{t.account_id} {t.region}: {words}{hint}"
    )


def list_exclusions(ec2: Any) -> list[dict[str, Any]]:
    """Every exclusion of the account-region. botocore ships no paginator for this operation, so NextToken is
    followed by hand (DescribeVpcBlockPublicAccessExclusionsResult.NextToken, MaxResults 5-1000)."""
    out: list[dict[str, Any]] = []
    kwargs: dict[str, Any] = {"MaxResults": 1000}
    while True:
        page = ec2.describe_vpc_block_public_access_exclusions(**kwargs)
        out += page.get("VpcBlockPublicAccessExclusions") or []
        token = page.get("NextToken")
        if not token:
            return out
        kwargs["NextToken"] = token


def check_exclusions(t: Target, entry: VpcBpaEntry) -> CheckResult:
    """Who exempted what. An allowed exclusion is PASS with each one listed (id, VPC or subnet ARN, mode, state)
    in the row: the plan permits it, but an account admin made it alone, so it is shown rather than hidden.
    Under a plan that forbids exclusions, one in effect is a FAIL. UNVERIFIED is kept for what could not be
    read, so an allowed exclusion does not turn every run's exit code into "unverified"."""
    rows = [
        {
            "id": str(e.get("ExclusionId")),
            "resource": str(e.get("ResourceArn")),
            "mode": str(e.get("InternetGatewayExclusionMode")),
            "state": str(e.get("State")),
        }
        for e in list_exclusions(t.client("ec2"))
    ]
    rows.sort(key=lambda r: r["id"])
    active = [r for r in rows if r["state"] not in NOT_IN_EFFECT]
    words = "; ".join(f"{r['id']} {r['resource']} {r['mode']} ({r['state']})" for r in active)
    where = f"{t.account_id} {t.region}"
    if active and entry.organization_mode and not entry.exclusions_allowed:
        return failed(
            EXCLUSIONS_CHECK, None, t.account_id, t.region, [], rows,
            f"{where}: {len(active)} exclusion(s) in effect although the plan does not allow them: {words}",
        )
    result = passed(EXCLUSIONS_CHECK, None, t.account_id, t.region, rows)
    if not active:
        return result
    return CheckResult(
        result.check, None, t.account_id, t.region, "PASS", actual=rows,
        reason=f"{where}: {len(active)} exclusion(s) allowed by the plan, made in this account: {words}",
    )


def in_scope(manifest: Manifest, facts: OrgFacts, account_id: str) -> bool:
    """Account mode: every vended account. Organization mode: accounts under one of the policy's OUs."""
    entry = manifest.vpc_block_public_access
    if entry is None:
        return False
    if not entry.organization_mode:
        return any(a.account_id == account_id for a in entry.accounts)
    return any(account_id in facts.ou_accounts.get(ou, set()) for ou in entry.target_ous)


def member_checks(t: Target) -> list[tuple[Key, Callable[[], CheckResult]]]:
    """The runner adds these to each account-region target."""
    entry = t.manifest.vpc_block_public_access
    if entry is None or t.region not in entry.regions or not in_scope(t.manifest, t.org, t.account_id):
        return []
    return [
        ((CHECK, None, t.account_id, t.region), lambda: check_options(t, entry)),
        ((EXCLUSIONS_CHECK, None, t.account_id, t.region), lambda: check_exclusions(t, entry)),
    ]


def _vpc_bpa_block(content: Any) -> Any:
    try:
        return json.loads(content)["ec2_attributes"]["vpc_block_public_access"]
    except (KeyError, TypeError, ValueError):
        return None


def check_policy(org: Any, entry: VpcBpaEntry, target: str) -> CheckResult:
    """The policy is attached to the OU with the planned content, and no other EC2 declarative policy there
    sets VPC BPA (two would conflict; refuse to run both, docs/operators.md)."""
    args = (f"{POLICY_CHECK}:{entry.policy_name}", None, target, GLOBAL_REGION)
    attached = [
        p
        for page in org.get_paginator("list_policies_for_target").paginate(TargetId=target, Filter=POLICY_TYPE)
        for p in page["Policies"]
    ]
    ours = next((p for p in attached if p.get("Name") == entry.policy_name), None)
    if ours is None:
        names = sorted(str(p.get("Name")) for p in attached)
        return failed(*args, entry.policy_name, names, f"{entry.policy_name} is not attached to {target}")
    content = org.describe_policy(PolicyId=ours["Id"])["Policy"]["Content"]
    try:
        live = json.loads(content)
    except ValueError:
        live = content
    if live != entry.policy_content:
        return failed(*args, entry.policy_content, live, f"{entry.policy_name} on {target}: content differs")
    others = []
    for p in attached:
        if p is ours:
            continue
        if _vpc_bpa_block(org.describe_policy(PolicyId=p["Id"])["Policy"]["Content"]) is not None:
            others.append(str(p.get("Name")))
    if others:
        return failed(
            *args,
            f"only {entry.policy_name} sets VPC Block Public Access on {target}",
            {"also_attached": others},
            f"{', '.join(others)} also set(s) VPC Block Public Access on {target} (Control Tower's CT.EC2.PV.8 is "
            "such a policy): the effective mode is their merge; disable one of them",
        )
    return passed(*args, {"policy_id": ours["Id"]})


def org_checks(manifest: Manifest, org_client: Callable[[], Any]) -> list[tuple[Key, Callable[[], CheckResult]]]:
    entry = manifest.vpc_block_public_access
    if entry is None or not entry.organization_mode:
        return []
    check = f"{POLICY_CHECK}:{entry.policy_name}"
    return [
        ((check, None, ou, GLOBAL_REGION), lambda ou=ou: check_policy(org_client(), entry, ou))
        for ou in entry.target_ous
    ]


def caller_statements(manifest: Manifest) -> list[dict[str, Any]]:
    """The verifier's own role (management or delegated admin): the policy's attachments and content.
    Policy ARN `policy/o-<org>/<policy type>/p-<id>` (Service Authorization Reference, AWS Organizations
    resource types); the lower-case type segment `declarative_policy_ec2` follows `service_control_policy`
    and is UNCONFIRMED for this type (docs/verifier.md)."""
    entry = manifest.vpc_block_public_access
    if entry is None or not entry.organization_mode:
        return []
    mgmt = manifest.organization.management_account_id
    return [
        {
            "Sid": "ReadDeclarativePolicyAttachments",
            "Effect": "Allow",
            "Action": ["organizations:ListPoliciesForTarget"],
            "Resource": [
                f"arn:aws:organizations::{mgmt}:ou/o-*/ou-*",
                f"arn:aws:organizations::{mgmt}:root/o-*/r-*",
            ],
            "Condition": {"StringEquals": {"organizations:PolicyType": POLICY_TYPE}},
        },
        {
            "Sid": "ReadDeclarativePolicyContent",
            "Effect": "Allow",
            "Action": ["organizations:DescribePolicy"],
            "Resource": [f"arn:aws:organizations::{mgmt}:policy/o-*/declarative_policy_ec2/p-*"],
        },
    ]


def member_statements(manifest: Manifest) -> list[dict[str, Any]]:
    """The read role in each member account. EC2 Describe* actions take no resource-level permission
    (Service Authorization Reference, Amazon EC2: no resource type for DescribeVpcBlockPublicAccessOptions;
    the same for DescribeVpcBlockPublicAccessExclusions is UNCONFIRMED, like every EC2 Describe* action)."""
    if manifest.vpc_block_public_access is None:
        return []
    return [
        {
            "Sid": "ReadVpcBlockPublicAccess",
            "Effect": "Allow",
            "Action": ["ec2:DescribeVpcBlockPublicAccessExclusions", "ec2:DescribeVpcBlockPublicAccessOptions"],
            "Resource": ["*"],
        }
    ]
