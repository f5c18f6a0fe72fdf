"""Account mode (vending pipelines): one stack per account, applied with real terraform through the
provider's assume_role into each account, then verified account by account over HTTP."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import yaml

from orgguard.sandbox import Sandbox
from orgguard.synth.build import synthesize
from orgguard.verify import verify

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def vended(tmp_path_factory: pytest.TempPathFactory):
    work = tmp_path_factory.mktemp("vended")
    saved = dict(os.environ)
    with Sandbox(work / "sandbox") as sb:
        os.environ.update(sb.env())
        data = yaml.safe_load(sb.governance_yaml(ROOT / "governance.yaml"))
        members = sorted(a for a in sb.org.accounts if a != sb.org.delegated_admin_account_id)[:2]
        data.update(mode="account", accounts=members, scp={"protect_governance_resources": False})
        data["organization"]["delegated_admin_account_id"] = None
        config = work / "vending.yaml"
        config.write_text(yaml.safe_dump(data))
        manifest = synthesize(config, work / "out")
        sb.apply(work / "out")
        yield sb, manifest, members, work / "out"
    os.environ.clear()
    os.environ.update(saved)


def test_each_vended_account_verifies_clean_after_apply(vended) -> None:
    sb, manifest, members, out = vended
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
    assert {r.account_id for r in report.results} >= set(members)
    assert [r for r in report.results if r.status != "PASS"] == []
    assert report.exit_code() == 0
    assert len([r for r in report.results if r.check == "remediation"]) == 2 * 2 * 5  # accounts x regions x controls


def test_a_binding_deleted_in_one_vended_account_fails_there_only(vended) -> None:
    sb, manifest, members, out = vended
    region = manifest.organization.home_region
    config = sb.session(members[0], region).client("config")
    config.delete_remediation_configuration(ConfigRuleName="orgguard-restricted-ssh")
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
    failed = [(r.check, r.control, r.account_id, r.region) for r in report.results if r.status != "PASS"]
    assert failed == [("remediation", "restricted-ssh", members[0], region)]
    assert report.exit_code() == 1


def test_a_fast_path_target_tampered_into_dry_run_fails_the_fast_path_check(vended) -> None:
    sb, manifest, members, out = vended
    region = manifest.organization.regions[-1]
    fp = manifest.fast_path
    events = sb.session(members[1], region).client("events")
    name = fp.route_rule_name(1)
    (target,) = events.list_targets_by_rule(Rule=name)["Targets"]
    template = json.loads(target["InputTransformer"]["InputTemplate"])
    template["DryRun"] = ["true"]  # still starts the runbook, which now revokes nothing
    target["InputTransformer"]["InputTemplate"] = json.dumps(template)
    events.put_targets(Rule=name, Targets=[target])
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
    failed = [(r.check, r.account_id, r.region) for r in report.results if r.status != "PASS"]
    assert (f"fast-path:{fp.rule_name}", members[1], region) in failed
    assert all(check != f"fast-path:{fp.rule_name}" or (acct, reg) == (members[1], region)
               for check, acct, reg in failed)
