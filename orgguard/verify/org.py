"""Reads and checks from the management or delegated-admin account (the caller's own credentials)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from orgguard.manifest import ControlTowerControl, ScpEntry, for_account
from orgguard.verify.aws import SessionPool
from orgguard.verify.compare import differing
from orgguard.verify.errors import error_code
from orgguard.verify.policy import parse_policy, policy_diff
from orgguard.verify.result import GLOBAL_REGION, CheckResult, failed, passed


def accounts_under(pool: SessionPool, parent_id: str, region: str) -> set[str]:
    """Every active account below an OU or root, recursively, with full pagination."""
    org = pool.client(None, "organizations", region)
    found: set[str] = set()
    stack = [parent_id]
    while stack:
        parent = stack.pop()
        for page in org.get_paginator("list_accounts_for_parent").paginate(ParentId=parent):
            for account in page["Accounts"]:
                if account.get("State", account.get("Status", "ACTIVE")) == "ACTIVE":
                    found.add(str(account["Id"]))
        for page in org.get_paginator("list_organizational_units_for_parent").paginate(ParentId=parent):
            stack += [ou["Id"] for ou in page["OrganizationalUnits"]]
    return found


def pack_detailed_status(pool: SessionPool, pack: str, region: str) -> dict[str, dict[str, Any]]:
    """Account -> detailed status item of an organization conformance pack in one region."""
    cfg = pool.client(None, "config", region)
    out: dict[str, dict[str, Any]] = {}
    paginator = cfg.get_paginator("get_organization_conformance_pack_detailed_status")
    try:
        for page in paginator.paginate(OrganizationConformancePackName=pack):
            for item in page.get("OrganizationConformancePackDetailedStatuses", []):
                out[str(item["AccountId"])] = item
    except ClientError as exc:
        if error_code(exc) != "NoSuchOrganizationConformancePackException":
            raise
        return {}  # a definite answer: deployed nowhere, so every member account's check fails
    return out


def stack_instances(pool: SessionPool, name: str, region: str, call_as: str) -> dict[tuple[str, str], dict[str, Any]]:
    """(account, region) -> stack instance summary of a service-managed StackSet."""
    cfn = pool.client(None, "cloudformation", region)
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for page in cfn.get_paginator("list_stack_instances").paginate(StackSetName=name, CallAs=call_as):
        for item in page.get("Summaries", []):
            out[(str(item["Account"]), item["Region"])] = item
    return out


def ou_id(target_arn: str) -> str:
    return target_arn.rsplit("/", 1)[-1]


def enabled_controls(pool: SessionPool, target_arn: str, region: str) -> list[dict[str, Any]]:
    ct = pool.client(None, "controltower", region)
    return [
        item
        for page in ct.get_paginator("list_enabled_controls").paginate(targetIdentifier=target_arn)
        for item in page.get("enabledControls", [])
    ]


def check_control_tower(
    entry: ControlTowerControl, enabled: list[dict[str, Any]], region: str, legacy_identifier: str | None = None
) -> CheckResult:
    """The control is enabled on the OU, under its identifier or (left alone by the plan, which never enables
    it twice) under its legacy Regional identifier; SUCCEEDED and not drifted."""
    name = entry.control_identifier.rsplit("/", 1)[-1]
    args = (f"control-tower:{name}", entry.for_control, ou_id(entry.target_identifier), region)
    expected = {"status": "SUCCEEDED", "drift": "not DRIFTED"}
    accepted = {entry.control_identifier, legacy_identifier} - {None}
    match = next((c for c in enabled if c.get("controlIdentifier") in accepted), None)
    if match is None:
        return failed(*args, expected, None, f"{name} is not enabled on {entry.target_identifier}")
    status = (match.get("statusSummary") or {}).get("status")
    drift = (match.get("driftStatusSummary") or {}).get("driftStatus", "UNKNOWN")
    actual = {"status": status, "drift": "DRIFTED" if drift == "DRIFTED" else "not DRIFTED"}
    if diff := differing(expected, actual):
        return failed(*args, expected, {"status": status, "drift": drift}, f"{', '.join(diff)} differ")
    return passed(*args, {"status": status, "drift": drift})


def check_scp(pool: SessionPool, scp: ScpEntry, target: str, region: str, account_id: str) -> CheckResult:
    """The protecting SCP is attached to the target and still says what the manifest says."""
    args = (f"scp:{scp.name}", None, target, GLOBAL_REGION)
    org = pool.client(None, "organizations", region)
    attached = [
        p
        for page in org.get_paginator("list_policies_for_target").paginate(
            TargetId=target, Filter="SERVICE_CONTROL_POLICY"
        )
        for p in page["Policies"]
    ]
    by_name = {p.get("Name"): p for p in attached}
    missing = [part.name for part in scp.policies if part.name not in by_name]
    if missing:
        names = sorted(str(n) for n in by_name)
        reason = f"SCP {', '.join(missing)} not attached to {target}"
        return failed(*args, [p.name for p in scp.policies], names, reason)
    ids = {}
    for part in scp.policies:  # every part: together they are the protection (split to fit 5,120 characters)
        match = by_name[part.name]
        content = parse_policy(org.describe_policy(PolicyId=match["Id"])["Policy"]["Content"])
        want = for_account(part.policy, account_id)
        if diff := policy_diff(want, content):
            return failed(*args, want, content, f"SCP {part.name} content: {diff}")
        ids[part.name] = match["Id"]
    return passed(*args, {"policy_ids": ids} if len(ids) > 1 else {"policy_id": ids[scp.name]})
