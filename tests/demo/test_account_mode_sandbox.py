"""Account mode (vending pipelines): one thin stack per account calling the baseline modules, applied with
real terraform through the provider's assume_role into each account, then verified account by account over
HTTP; and an account applied with the old one-stack layout upgraded to the modules without destroying anything."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from orgguard.sandbox import Sandbox
from orgguard.sandbox.terraform import _deployer_env, override
from orgguard.synth.build import synthesize
from orgguard.verify import verify
from tests.synth.legacy_account_layout import synthesize_legacy

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
        data["exemptions"]["known"] = []  # the example's exemption names an account outside this sandbox
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


# --- upgrade from the one-stack-per-account layout ---------------------------------------------------


def _identities(sb: Sandbox, account: str, manifest) -> dict[str, str]:
    """Ids AWS gives an object when it is created: unchanged ids mean nothing was destroyed and recreated."""
    ids: dict[str, str] = {}
    iam = sb.session(account).client("iam")
    for role in manifest.roles:
        ids[f"role {role.name}"] = iam.get_role(RoleName=role.name)["Role"]["RoleId"]
    for region in manifest.organization.regions:
        session = sb.session(account, region)
        for rule in session.client("config").describe_config_rules()["ConfigRules"]:
            ids[f"rule {region} {rule['ConfigRuleName']}"] = rule["ConfigRuleArn"] + rule.get("ConfigRuleId", "")
        ssm = session.client("ssm")
        for doc in manifest.documents:
            ids[f"document {region} {doc.name}"] = str(ssm.describe_document(Name=doc.name)["Document"]["CreatedDate"])
    return ids


def _plan_in_place(sb: Sandbox, out: Path, stack: str, deployer: str) -> dict:
    """`terraform plan` of the re-synthesized stack in the working directory (and state) the old apply used,
    exactly as the sandbox's apply lays it out (stacks/<name> beside modules/)."""
    work = sb.workdir / "terraform" / "stacks" / stack
    assert (work / "terraform.tfstate").is_file(), "the old layout was not applied there"
    shutil.copytree(out / "modules", sb.workdir / "terraform" / "modules", dirs_exist_ok=True)
    shutil.copytree(out / "stacks" / stack, work, dirs_exist_ok=True)
    stack_json = json.loads((work / "cdk.tf.json").read_text())
    (work / "sandbox_override.tf.json").write_text(json.dumps(override(stack_json, sb.endpoint_url)))
    env = _deployer_env(sb, deployer)
    for args in (["init", "-input=false", "-no-color"], ["plan", "-input=false", "-no-color", "-out=upgrade.plan"]):
        done = subprocess.run(["terraform", *args], cwd=work, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-3000:]
    shown = subprocess.run(["terraform", "show", "-json", "upgrade.plan"], cwd=work, env=env, capture_output=True,
                           text=True, timeout=600, check=True)
    return json.loads(shown.stdout)


@pytest.fixture(scope="module")
def upgraded(vended):
    """A third account applied with the old layout, then re-synthesized, planned in place and applied."""
    sb, _, members, out = vended
    work = out.parent
    others = sorted(a for a in sb.org.accounts if a != sb.org.delegated_admin_account_id and a not in members)
    assert others, "the sandbox needs a third member account"
    account = others[0]
    data = yaml.safe_load((work / "vending.yaml").read_text())
    data["accounts"] = [account]
    config = work / "upgrade.yaml"
    config.write_text(yaml.safe_dump(data))
    legacy = synthesize_legacy(config, work / "legacy")
    stack = legacy.stacks[0].name
    sb.apply(work / "legacy")
    before = _identities(sb, account, legacy)
    manifest = synthesize(config, work / "upgraded")
    plan = _plan_in_place(sb, work / "upgraded", stack, manifest.organization.deployer_account_id)
    sb.apply(work / "upgraded")
    yield sb, manifest, account, work / "upgraded", plan, before, _identities(sb, account, manifest)


def test_an_account_applied_with_the_old_layout_plans_no_destroy_after_the_upgrade(upgraded) -> None:
    _, _, _, out, plan, _, _ = upgraded
    changes = [c for c in plan["resource_changes"] if c["mode"] == "managed"]
    actions = {c["address"]: c["change"]["actions"] for c in changes}
    assert not [a for a, act in actions.items() if "delete" in act or "create" in act], actions
    moved = {c["previous_address"]: c["address"] for c in changes if c.get("previous_address")}
    (stack,) = [p.name for p in (out / "stacks").iterdir()]
    old_layout = json.loads((out.parent / "legacy" / "stacks" / stack / "cdk.tf.json").read_text())
    old_addresses = {f"{t}.{n}" for t, by in old_layout["resource"].items() for n in by}
    assert set(moved) == old_addresses and len(old_addresses) == 10 + 2 * 18  # roles once, two regions
    updates = {
        c["address"]: {k: (c["change"]["before"].get(k), v) for k, v in c["change"]["after"].items()
                       if c["change"]["before"].get(k) != v}
        for c in changes if c["change"]["actions"] != ["no-op"]
    }
    assert not updates, f"the modules hold exactly what the old stack held: {json.dumps(updates)[:3000]}"


def test_the_upgraded_account_kept_every_object_and_verifies_clean(upgraded) -> None:
    sb, manifest, account, out, _, before, after = upgraded
    assert after == before  # same role ids, rule ids, document creation times: nothing was recreated
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=out)
    assert {r.account_id for r in report.results} >= {account}
    assert [r for r in report.results if r.status != "PASS"] == []
