"""Real terraform against the sandbox: packs exclude, at apply time, every account outside the target OUs;
include_management_account gives the management account its runbooks; Control Tower controls already on
an OU are adopted or left alone, never a failed apply; a second apply changes nothing; the HCL twins plan
no change against the JSON's state; a reached account outside the target OUs fails verification clearly.

One apply of the whole organization plan (about two minutes), shared by every test here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from orgguard.controls import CATALOG, Control
from orgguard.manifest import Manifest, load_manifest
from orgguard.sandbox import Sandbox
from orgguard.synth.build import MANIFEST_FILE, synthesize
from orgguard.synth.plan import control_tower_arn, legacy_control_tower_arn
from tests.synth.conftest import EXAMPLE

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")

SSH = CATALOG["restricted-ssh"]
COMMON = CATALOG["restricted-common-ports"]


@dataclass
class Applied:
    sb: Sandbox
    out: Path
    manifest: Manifest
    targets: list[str]
    outside: list[str]  # member accounts outside the target OUs
    before: dict[str, list[str]]  # target OU -> control identifiers enabled on it before the apply


def _turn_on_recorder(sb: Sandbox, region: str) -> None:
    """include_management_account needs Config on in the management account (Control Tower leaves it off)."""
    config = sb.session(None, region).client("config")
    account = sb.org.management_account_id
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": f"arn:aws:iam::{account}:role/aws-service-role/config.amazonaws.com/AWSServiceRoleForConfig",
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": region == sb.org.home_region},
        }
    )
    config.put_delivery_channel(DeliveryChannel={"name": "default", "s3BucketName": f"config-{account}-{region}"})
    config.start_configuration_recorder(ConfigurationRecorderName="default")


def _enabled_on(sb: Sandbox, ou: str) -> list[str]:
    ct = sb.session().client("controltower")
    listed = ct.list_enabled_controls(targetIdentifier=sb.org.ou_arn(ou))["enabledControls"]
    return [c["controlIdentifier"] for c in listed]


def _forms(control: Control, home: str) -> set[str]:
    return {control_tower_arn(control, home), legacy_control_tower_arn(control, home)}


def _landing_zone_controls(sb: Sandbox, targets: list[str]) -> None:
    """Make sure both cases exist before the apply, whatever the sandbox enables at start: some OU has one
    of the plan's controls on under its global identifier, and some OU has one on under its legacy one."""
    home = sb.org.home_region
    ct = sb.session().client("controltower")
    wanted = [control_tower_arn(SSH, home), legacy_control_tower_arn(COMMON, home)]
    if any(legacy_control_tower_arn(c, home) in _enabled_on(sb, ou) for c in (SSH, COMMON) for ou in targets):
        wanted.pop()  # the sandbox's landing zone has a legacy-enabled control already
    for arn in wanted:
        control = SSH if arn in _forms(SSH, home) else COMMON
        free = next(ou for ou in targets if not _forms(control, home) & set(_enabled_on(sb, ou)))
        ct.enable_control(controlIdentifier=arn, targetIdentifier=sb.org.ou_arn(free))


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    base = tmp_path_factory.mktemp("exclusions")
    with Sandbox(base / "sandbox") as sb:
        org = sb.org
        admin_ou = org.accounts[org.delegated_admin_account_id]
        targets = sorted(ou for ou in org.ous.values() if ou != admin_ou)  # the audit account's OU is no target
        assert len(targets) >= 2
        data = yaml.safe_load(EXAMPLE.read_text())
        data["organization"] = {
            "organization_id": org.organization_id,
            "management_account_id": org.management_account_id,
            "delegated_admin_account_id": org.delegated_admin_account_id,
            "home_region": org.home_region,
            "regions": list(org.regions),
            "target_ous": targets,
            "include_management_account": True,
            "excluded_accounts": [],
        }
        data["control_tower"] = {"enable_detective_controls": True}
        config = base / "governance.yaml"
        config.write_text(yaml.safe_dump(data, sort_keys=False))
        out = base / "out"
        synthesize(config, out, hcl=True)
        for region in org.regions:
            _turn_on_recorder(sb, region)
        _landing_zone_controls(sb, targets)
        before = {ou: _enabled_on(sb, ou) for ou in targets}
        sb.apply(out)
        outside = sorted(a for a, ou in org.accounts.items() if ou not in targets)
        yield Applied(sb, out, load_manifest(out / MANIFEST_FILE), targets, outside, before)


def test_packs_exclude_exactly_the_accounts_outside_the_target_ous(applied: Applied) -> None:
    sb = applied.sb
    assert applied.outside, "the sandbox has accounts outside the target OUs"
    for region in sb.org.regions:
        config = sb.session(sb.org.delegated_admin_account_id, region).client("config")
        (pack,) = config.describe_organization_conformance_packs()["OrganizationConformancePacks"]
        # The manifest's static list is empty here (nothing configured, management account included), so
        # before this change the packs excluded nobody and reached the audit account, which has no runbook.
        assert sorted(pack.get("ExcludedAccounts", [])) == applied.outside
        assert sb.org.management_account_id not in pack.get("ExcludedAccounts", [])


def test_management_account_gets_its_runbooks(applied: Applied) -> None:
    sb, m = applied.sb, applied.manifest
    mgmt = sb.org.management_account_id
    assert [s.name for s in m.stacks if s.kind == "org-management"] == ["orgguard-org-management"]
    iam = sb.session(mgmt).client("iam")
    for role in m.roles:
        assert iam.get_role(RoleName=role.name)["Role"]["RoleName"] == role.name
    for region in sb.org.regions:
        ssm = sb.session(mgmt, region).client("ssm")
        for doc in m.documents:
            assert ssm.get_document(Name=doc.name)["Content"] == (applied.out / doc.content_file).read_text()


def test_control_tower_controls_already_on_are_adopted_or_left_alone(applied: Applied) -> None:
    """Every (control, OU) of the plan: on under its legacy identifier before -> left alone (never enabled a
    second time, not in state); on under its global identifier before -> adopted (in state, still once);
    off before -> enabled by the plan under its Control Catalog ARN."""
    sb, home = applied.sb, applied.sb.org.home_region
    state = json.loads(subprocess.run(
        ["terraform", "show", "-json"], cwd=_workdir(sb, "orgguard-org-management"),
        env=_env(sb, sb.org.management_account_id), capture_output=True, text=True, check=True, timeout=300,
    ).stdout)
    managed = {(r["values"]["control_identifier"], r["values"]["target_identifier"])
               for r in state["values"]["root_module"]["resources"] if r["type"] == "aws_controltower_control"}
    cases = set()
    for ou in applied.targets:
        now = _enabled_on(sb, ou)
        for control in (SSH, COMMON):
            ours, legacy = control_tower_arn(control, home), legacy_control_tower_arn(control, home)
            assert ours == f"arn:aws:controlcatalog:::control/{control.control_catalog_id}"
            if legacy in applied.before[ou]:
                cases.add("left alone")
                assert ours not in now and legacy in now and (ours, sb.org.ou_arn(ou)) not in managed
            else:
                cases.add("adopted" if ours in applied.before[ou] else "enabled")
                assert now.count(ours) == 1 and (ours, sb.org.ou_arn(ou)) in managed
    assert cases == {"left alone", "adopted", "enabled"}


def _workdir(sb: Sandbox, stack: str) -> Path:
    """The sandbox's working copy of a stack (under <workdir>/terraform/, where apply() ran terraform)."""
    return next(p.parent for p in (sb.workdir / "terraform").rglob("cdk.tf.json") if p.parent.name == stack)


def _env(sb: Sandbox, account: str) -> dict[str, str]:
    env = {**os.environ, **sb.env(), "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    if account != sb.org.management_account_id:
        creds = sb.session(account).get_credentials().get_frozen_credentials()
        env.update(AWS_ACCESS_KEY_ID=creds.access_key, AWS_SECRET_ACCESS_KEY=creds.secret_key,
                   AWS_SESSION_TOKEN=creds.token or "")
    return env


def _plan_changes(sb: Sandbox, stack: str, account: str, *, hcl_from: Path | None = None) -> int:
    """`terraform plan -detailed-exitcode` in the stack's sandbox working copy (its state and providers):
    0 = no changes, 2 = changes. With `hcl_from`, the HCL twin replaces the JSON for that plan."""
    work = _workdir(sb, stack)
    moved = work / "cdk.tf.json.aside"
    if hcl_from is not None:
        (work / "cdk.tf.json").rename(moved)
        shutil.copy(hcl_from / "main.tf", work / "main.tf")
    try:
        done = subprocess.run(
            ["terraform", "plan", "-detailed-exitcode", "-input=false", "-no-color", "-lock=false"],
            cwd=work, env=_env(sb, account), capture_output=True, text=True, timeout=600,
        )
    finally:
        if hcl_from is not None:
            (work / "main.tf").unlink()
            moved.rename(work / "cdk.tf.json")
    assert done.returncode in (0, 2), done.stderr[-3000:]
    return done.returncode


def test_the_hcl_twins_plan_no_change_over_what_the_json_applied(applied: Applied) -> None:
    """`synth --hcl` output, planned (with refresh) over the state the JSON's apply left: no change. So the
    HCL renders the data sources, locals, postconditions, count and import blocks as the JSON does, and a
    second run changes nothing: the import blocks are no-ops once adopted, a left-alone control stays at
    count 0, the exclusions read again give the same list."""
    sb = applied.sb
    for stack, account in (("orgguard-org-management", sb.org.management_account_id),
                           (f"orgguard-org-{sb.org.home_region}", sb.org.delegated_admin_account_id)):
        assert _plan_changes(sb, stack, account, hcl_from=applied.out / "hcl" / stack) == 0, stack


def test_a_pack_over_the_exclusion_limit_fails_at_plan_naming_the_field(applied: Applied, tmp_path: Path) -> None:
    """The limit postcondition runs when the organization is read, before anything is planned. The sandbox has
    a handful of accounts, so this copy of the stack lowers the limit from 1,000 to 1 to exceed it."""
    sb = applied.sb
    stack = f"orgguard-org-{sb.org.home_region}"
    work = tmp_path / stack
    shutil.copytree(_workdir(sb, stack), work, symlinks=True)
    tf = json.loads((work / "cdk.tf.json").read_text())
    organization = tf["data"]["aws_organizations_organization"]["organization"]
    limit = organization["lifecycle"]["postcondition"][1]
    assert limit["condition"].endswith("<= 1000}")
    limit["condition"] = limit["condition"].replace("<= 1000}", "<= 1}")
    (work / "cdk.tf.json").write_text(json.dumps(tf))
    for state in work.glob("*.tfstate*"):
        state.unlink()  # a fresh state: plan as for a first apply
    done = subprocess.run(["terraform", "plan", "-input=false", "-no-color", "-lock=false"], cwd=work,
                          env=_env(sb, sb.org.delegated_admin_account_id), capture_output=True, text=True, timeout=600)
    assert done.returncode == 1
    message = " ".join(done.stderr.split())
    assert "organization.target_ous: more than 1,000 accounts would be excluded from the pack" in message
    assert "aws_config_organization_conformance_pack" not in done.stdout  # stopped before the pack was planned


def test_verifier_fails_a_reached_account_outside_the_target_ous_naming_the_stack(applied: Applied) -> None:
    """Accounts that join outside the target OUs after an apply are reached until the regional stack runs
    again. Simulated by putting the pack once more without the exclusions, as the previous plan shape did
    (last test of the module: the home region's pack stays so)."""
    from orgguard.verify import verify

    sb, m = applied.sb, applied.manifest
    region = sb.org.home_region
    pack = next(p for p in m.conformance_packs if p.region == region)
    session = sb.session(sb.org.delegated_admin_account_id, region)

    def scope_results() -> list:
        # max_attempts=2: an account without runbooks answers NotFound errors, not throttling; no long backoff
        report = verify(m, session=session, workers=4, progress=False, accounts=applied.outside, regions=[region],
                        max_attempts=2)
        return [r for r in report.results if r.check == f"pack-scope:{pack.name}"]

    assert {(r.account_id, r.status) for r in scope_results()} == {(a, "PASS") for a in applied.outside}
    session.client("config").put_organization_conformance_pack(
        OrganizationConformancePackName=pack.name, TemplateBody=(applied.out / pack.template_file).read_text()
    )
    scope = scope_results()
    assert {r.account_id for r in scope} == set(applied.outside)
    assert all(r.status == "FAIL" and f"orgguard-org-{region}" in (r.reason or "") for r in scope), scope
