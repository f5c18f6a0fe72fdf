"""The previous plan shape fails in the landing-zone-shaped sandbox, as it would in AWS.

Before issue 8 the regional stack passed only the configured exclusions to the organization pack, so
the pack reached the Security OU (audit, log archive), where the StackSets put no runbook, and AWS
failed it there. That shape is built explicitly from the synthesized stack (the configured exclusions
as a literal list, whatever the synth now computes) and applied with real terraform: the provider's
waiter fails the apply. The same stack with every account outside the target OUs excluded applies.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orgguard.manifest import load_manifest
from orgguard.sandbox import Sandbox, SandboxError

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


def _set_pack_exclusions(stack_dir: Path, excluded: list[str]) -> None:
    """The stack's organization pack with a literal ExcludedAccounts list (nothing read at apply time)."""
    path = stack_dir / "cdk.tf.json"
    stack = json.loads(path.read_text())
    [pack] = stack["resource"]["aws_config_organization_conformance_pack"].values()
    pack["excluded_accounts"] = sorted(set(excluded))
    pack.pop("lifecycle", None)  # preconditions about computed exclusions no longer apply
    path.write_text(json.dumps(stack, indent=2))


def test_the_previous_plan_shape_fails_and_excluding_accounts_outside_the_target_ous_applies(tmp_path: Path) -> None:
    with Sandbox(tmp_path / "sandbox") as sb:
        org = sb.org
        config = tmp_path / "governance.yaml"
        config.write_text(sb.governance_yaml(ROOT / "governance.yaml"))
        out = tmp_path / "out"
        cmd = [sys.executable, "-m", "orgguard", "synth", "--config", str(config), "--out", str(out)]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        manifest = load_manifest(out / "orgguard-manifest.json")
        old, fixed = org.regions[0], org.regions[1]
        by_region = {p.region: p for p in manifest.conformance_packs}
        region_stack = {s.region: s.name for s in manifest.stacks if s.kind == "org-region"}
        global_stack = next(s.name for s in manifest.stacks if s.kind == "org-global")
        # Old shape: only the configured exclusions. Fixed: also every account outside the target OUs.
        _set_pack_exclusions(out / "stacks" / region_stack[old], by_region[old].excluded_accounts)
        _set_pack_exclusions(
            out / "stacks" / region_stack[fixed], [*by_region[fixed].excluded_accounts, *org.outside_target_accounts()]
        )
        with pytest.raises(SandboxError) as failed:
            sb.apply(out, stacks=[global_stack, region_stack[old], region_stack[fixed]])
        message = str(failed.value)
        assert region_stack[old] in message and "CREATE_FAILED" in message
        for account in org.outside_target_accounts():  # the provider names each failed account
            assert account in message
        admin = sb.session(org.delegated_admin_account_id, old).client("config")
        pack = by_region[old].name
        rows = admin.get_organization_conformance_pack_detailed_status(OrganizationConformancePackName=pack)[
            "OrganizationConformancePackDetailedStatuses"]  # fmt: skip
        status = {r["AccountId"]: r for r in rows}
        assert {a for a, r in status.items() if r["Status"] == "CREATE_FAILED"} == set(org.outside_target_accounts())
        assert all("does not exist" in status[a]["ErrorMessage"] for a in org.outside_target_accounts())
        assert {a for a, r in status.items() if r["Status"] == "CREATE_SUCCESSFUL"} == set(org.target_accounts())

        fixed_admin = sb.session(org.delegated_admin_account_id, fixed).client("config")
        [fixed_status] = fixed_admin.describe_organization_conformance_pack_statuses(
            OrganizationConformancePackNames=[by_region[fixed].name]
        )["OrganizationConformancePackStatuses"]
        assert fixed_status["Status"] == "CREATE_SUCCESSFUL"
        reached = fixed_admin.get_organization_conformance_pack_detailed_status(
            OrganizationConformancePackName=by_region[fixed].name
        )["OrganizationConformancePackDetailedStatuses"]
        assert {r["AccountId"] for r in reached} == set(org.target_accounts())
        assert {r["Status"] for r in reached} == {"CREATE_SUCCESSFUL"}
