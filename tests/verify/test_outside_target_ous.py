"""Organization packs have no OU scoping: an account outside the target OUs gets detection and a
remediation binding but no runbook. The verifier must check it (and fail it), not skip it."""

from __future__ import annotations

import yaml

from orgguard.sandbox import Sandbox
from orgguard.synth.build import synthesize
from orgguard.verify import verify

from .org_deploy import ROOT, deploy_org, restore_env, use_sandbox_env


def test_an_account_the_pack_reaches_outside_the_target_ous_fails_its_runbook_checks(tmp_path) -> None:
    with Sandbox(tmp_path / "sandbox") as sb:
        previous = use_sandbox_env(sb)
        try:
            org = sb.org
            kept_ou = org.accounts[org.delegated_admin_account_id]
            outside = sorted(a for a, ou in org.accounts.items() if ou != kept_ou)
            assert outside, "the fake organization needs a member outside the delegated admin's OU"
            data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
            data["organization"]["target_ous"] = [kept_ou]
            config = tmp_path / "governance.yaml"
            config.write_text(yaml.safe_dump(data, sort_keys=False))
            manifest = synthesize(config, tmp_path / "out")
            deploy_org(sb, manifest, tmp_path / "out", exclude_outside_target_ous=False)  # the pre-issue-8 shape
            report = verify(manifest, session=sb.session(), workers=8, progress=False, manifest_dir=tmp_path / "out")
        finally:
            restore_env(previous)
    checked = {r.account_id for r in report.results}
    assert set(outside) <= checked
    for account in outside:
        failing = {r.check.split(":")[0] for r in report.results if r.account_id == account and r.status == "FAIL"}
        assert {"ssm-document", "iam-role"} <= failing, (account, failing)
    inside = [r for r in report.results if r.account_id not in outside and r.status != "PASS"]
    assert [(r.check, r.account_id) for r in inside if not r.check.startswith("scp")] == []
    assert report.exit_code() == 1
