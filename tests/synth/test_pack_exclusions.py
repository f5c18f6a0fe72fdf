"""Organization packs reach only accounts that hold their runbooks, decided at apply time from the
organization itself; the management account gets a runbook stack when it is included; Control Tower
controls are named by their Control Catalog ARNs and never enabled twice. Offline: synth output, read
back, and checked by `terraform validate` against provider 5.100.0. Against the sandbox:
test_pack_exclusions_sandbox.py."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from orgguard.manifest import load_manifest
from orgguard.synth.build import MANIFEST_FILE, synthesize
from tests.synth.conftest import ROOT, run_cli, stack_json, variant

MGMT, ADMIN, BREAK_GLASS = "111111111111", "222222222222", "999999999999"
DESCENDANTS = "aws_organizations_organizational_unit_descendant_accounts"


def _synth(tmp: Path, name: str, edit, *, hcl: bool = False) -> Path:
    out = tmp / name / "out"
    synthesize(variant(tmp, f"{name}.yaml", edit), out, hcl=hcl)
    return out


def _include_management(data: dict) -> None:
    data["organization"]["include_management_account"] = True


def _control_tower(data: dict) -> None:
    data["control_tower"]["enable_detective_controls"] = True


def test_narrowed_target_ous_exclude_every_account_outside_them_read_at_apply(org_out):
    """Before: the pack excluded only the configured accounts and the management account, so it reached
    every account outside the target OUs (the audit account of a landing zone) and failed there."""
    tf = stack_json(org_out, "orgguard-org-us-east-1")
    (pack,) = tf["resource"]["aws_config_organization_conformance_pack"].values()
    assert pack["excluded_accounts"] == "${local.pack_excluded_accounts}"
    under = tf["data"][DESCENDANTS]
    assert sorted(d["parent_id"] for d in under.values()) == ["ou-a1b2-sandboxes", "ou-a1b2-workloads"]
    assert list(tf["data"]["aws_organizations_organization"]) == ["organization"]
    outside = tf["locals"]["accounts_outside_target_ous"]
    assert outside.startswith("${sort(setsubtract(data.aws_organizations_organization.organization.accounts[*].id,")
    for name in under:
        assert f"data.{DESCENDANTS}.{name}.accounts[*].id" in outside
    assert MGMT not in outside  # not kept: the management account has no runbook here
    assert tf["locals"]["pack_excluded_accounts"] == (
        f'${{sort(setunion(local.accounts_outside_target_ous, ["{MGMT}", "{BREAK_GLASS}"]))}}'
    )


def test_the_organization_read_is_checked_before_the_pack_is_planned(org_out):
    tf = stack_json(org_out, "orgguard-org-us-east-1")
    listed, limit = tf["data"]["aws_organizations_organization"]["organization"]["lifecycle"]["postcondition"]
    assert listed["condition"] == "${length(self.accounts) > 0}"
    assert listed["error_message"].startswith("organization.delegated_admin_account_id: the account running this")
    assert limit["condition"].startswith("${length(setunion(setsubtract(self.accounts[*].id, flatten([")
    assert limit["condition"].endswith(f'["{MGMT}", "{BREAK_GLASS}"])) <= 1000}}')
    assert limit["error_message"].startswith("organization.target_ous: more than 1,000 accounts would be excluded")


def test_a_root_target_reads_nothing_and_keeps_the_static_exclusions(tmp_path):
    out = _synth(tmp_path, "root", lambda d: d["organization"].update(target_ous=["r-a1b2"]))
    tf = stack_json(out, "orgguard-org-us-east-1")
    assert "data" not in tf and "locals" not in tf
    (pack,) = tf["resource"]["aws_config_organization_conformance_pack"].values()
    assert pack["excluded_accounts"] == [MGMT, BREAK_GLASS]


def test_include_management_account_gives_it_a_runbook_stack(tmp_path):
    """Before: the packs reached the management account, which StackSets never give a runbook."""
    out = _synth(tmp_path, "incl", _include_management)
    m = load_manifest(out / MANIFEST_FILE)
    (stack,) = [s for s in m.stacks if s.kind == "org-management"]
    assert stack.account_id == MGMT
    assert MGMT not in m.conformance_packs[0].excluded_accounts
    tf = stack_json(out, stack.name)
    providers = tf["provider"]["aws"]
    assert {p.get("region") for p in providers} == set(m.organization.regions)
    assert all(p["allowed_account_ids"] == [MGMT] for p in providers)
    docs = tf["resource"]["aws_ssm_document"].values()
    assert sorted((d["name"], d.get("provider", "aws")) for d in docs) == sorted(
        (doc.name, "aws" if region == m.organization.home_region else f"aws.{region.replace('-', '_')}")
        for doc in m.documents
        for region in doc.regions
    )
    for d in docs:
        assert d["content"] == (out / m.document(d["name"]).content_file).read_text().replace("${", "$${")
    assert sorted(r["name"] for r in tf["resource"]["aws_iam_role"].values()) == sorted(r.name for r in m.roles)
    assert len(tf["resource"]["aws_cloudwatch_event_rule"]) == len(m.fast_path.routes) * len(m.fast_path.regions)
    assert "aws_organizations_policy" in tf["resource"]  # still the SCP's stack (a delegated admin runs the rest)
    region = stack_json(out, "orgguard-org-us-east-1")
    assert f'["{MGMT}"]' in region["locals"]["accounts_outside_target_ous"]  # kept in: it has its runbooks
    assert region["locals"]["pack_excluded_accounts"].endswith(f'["{BREAK_GLASS}"]))}}')


def test_without_a_delegated_admin_the_management_stack_holds_only_runbooks(tmp_path):
    def edit(data):
        _include_management(data)
        del data["organization"]["delegated_admin_account_id"]

    out = _synth(tmp_path, "mgmt-only", edit)
    stacks = {s.kind: s.name for s in load_manifest(out / MANIFEST_FILE).stacks}
    assert "aws_organizations_policy" in stack_json(out, stacks["org-global"])["resource"]  # where it always was
    assert "aws_organizations_policy" not in stack_json(out, stacks["org-management"])["resource"]
    assert "aws_ssm_document" in stack_json(out, stacks["org-management"])["resource"]


def test_no_management_stack_when_nothing_needs_the_management_account(tmp_path):
    out = _synth(tmp_path, "plain", lambda d: d["organization"].pop("delegated_admin_account_id"))
    assert [s.kind for s in load_manifest(out / MANIFEST_FILE).stacks].count("org-management") == 0


def test_the_delegated_admin_may_be_excluded_but_the_management_account_only_by_its_switch(tmp_path):
    """Before: excluding the delegated administrator (a landing zone's audit account) was refused."""
    config = variant(tmp_path, "admin.yaml", lambda d: d["organization"]["excluded_accounts"].append(
        {"account_id": ADMIN, "reason": "Audit account, outside the workload OUs"}))
    done = run_cli("synth", "--config", str(config), "--out", str(tmp_path / "admin-out"))
    assert done.returncode == 0, done.stderr
    assert ADMIN in load_manifest(tmp_path / "admin-out" / MANIFEST_FILE).conformance_packs[0].excluded_accounts
    config = variant(tmp_path, "mgmt.yaml", lambda d: d["organization"]["excluded_accounts"].append(
        {"account_id": MGMT, "reason": "management"}))
    done = run_cli("synth", "--config", str(config), "--out", str(tmp_path / "mgmt-out"))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "organization.excluded_accounts[1].account_id: 111111111111 is the management account" in done.stderr
    assert not (tmp_path / "mgmt-out").exists()


def test_control_tower_controls_are_named_by_control_catalog_arns_and_never_enabled_twice(tmp_path):
    """Before: the legacy Regional ARN, and an unconditional EnableControl that fails where it is on."""
    out = _synth(tmp_path, "ct", _control_tower)
    m = load_manifest(out / MANIFEST_FILE)
    assert {c.control_identifier for c in m.control_tower} == {
        "arn:aws:controlcatalog:::control/6rilu41n0gb9w6mxrkyewoer4",  # AWS-GR_RESTRICTED_SSH
        "arn:aws:controlcatalog:::control/df2ta5ytg2zatj1q7y5e09u32",  # AWS-GR_RESTRICTED_COMMON_PORTS
    }
    tf = stack_json(out, "orgguard-org-management")
    listed = {d["target_identifier"]: f"data.aws_controltower_controls.{name}.enabled_controls"
              for name, d in tf["data"]["aws_controltower_controls"].items()}
    assert set(listed) == {c.target_identifier for c in m.control_tower}
    imports = {i["to"]: i for i in tf["import"]}
    legacy = {"restricted-ssh": "AWS-GR_RESTRICTED_SSH", "restricted-common-ports": "AWS-GR_RESTRICTED_COMMON_PORTS"}
    for name, r in tf["resource"]["aws_controltower_control"].items():
        entry = next(c for c in m.control_tower if name.startswith(f"ct-{c.for_control}-")
                     and c.target_identifier == r["target_identifier"])
        assert r["control_identifier"] == entry.control_identifier
        on_as_legacy = f'contains({listed[entry.target_identifier]}, "arn:aws:controltower:us-east-1::control/' \
                       f'{legacy[entry.for_control]}")'
        assert r["count"] == f"${{({on_as_legacy}) ? 0 : 1}}"
        adopt = imports[f"aws_controltower_control.{name}[0]"]
        assert adopt["id"] == f"{entry.target_identifier},{entry.control_identifier}"
        assert adopt["for_each"] == (
            f'${{(contains({listed[entry.target_identifier]}, "{entry.control_identifier}") && !{on_as_legacy}) '
            '? toset(["adopt"]) : toset([])}'
        )


def _validate(stack_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    init = subprocess.run(["terraform", "init", "-backend=false", "-input=false", "-no-color"], cwd=stack_dir,
                          env=env, capture_output=True, text=True, timeout=300)
    assert init.returncode == 0, init.stderr
    return subprocess.run(["terraform", "validate", "-json", "-no-color"], cwd=stack_dir, env=env,
                          capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_data_sources_expressions_conditions_and_imports_pass_terraform_validate_in_json_and_hcl(tmp_path):
    def edit(data):
        _include_management(data)
        _control_tower(data)

    out = _synth(tmp_path, "all", edit, hcl=True)
    for stack in ("orgguard-org-management", "orgguard-org-eu-west-1"):
        for kind in ("stacks", "hcl"):
            result = _validate(out / kind / stack)
            report = json.loads(result.stdout)
            errors = [d for d in report["diagnostics"] if d["severity"] == "error"]
            assert result.returncode == 0 and report["valid"] and not errors, f"{kind}/{stack}: {errors}"


def test_the_report_says_what_happens_to_accounts_outside_the_target_ous(tmp_path, org_out):
    manifest = str(org_out / MANIFEST_FILE)
    md = run_cli("report", "--manifest", manifest, "--format", "markdown")
    html = run_cli("report", "--manifest", manifest, "--format", "html")
    assert md.returncode == 0 and html.returncode == 0, md.stderr + html.stderr
    for text in (md.stdout, html.stdout):
        assert "Accounts outside the target OUs" in text and "pack-scope" in text
        assert "The management account</strong> receives" not in text and "**The management account**" not in text
    out = _synth(tmp_path, "root-incl", lambda d: (d["organization"].update(target_ous=["r-a1b2"]),
                                                   _include_management(d)))
    md = run_cli("report", "--manifest", str(out / MANIFEST_FILE), "--format", "markdown").stdout
    assert "Accounts outside the target OUs" not in md
    assert "**The management account** receives the packs too" in md
