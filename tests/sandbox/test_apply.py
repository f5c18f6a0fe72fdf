"""Real terraform applies the synthesized organization stacks to the sandbox, and they really deploy."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from orgguard.manifest import Manifest, load_manifest
from orgguard.sandbox import Sandbox, SandboxError

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Sandbox, Manifest]]:
    base = tmp_path_factory.mktemp("apply")
    with Sandbox(base / "sandbox") as sb:
        config = base / "governance.yaml"
        config.write_text(sb.governance_yaml(ROOT / "governance.yaml"))
        cmd = [sys.executable, "-m", "orgguard", "synth", "--config", str(config), "--out", str(base / "out")]
        subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True)
        sb.apply(base / "out")
        yield sb, load_manifest(base / "out" / "orgguard-manifest.json")


def test_apply_deploys_pack_rules_and_remediation_into_every_member_and_region(
    applied: tuple[Sandbox, Manifest],
) -> None:
    sb, manifest = applied
    pack = manifest.conformance_packs[0]
    for account_id in sb.org.accounts:
        for region in sb.org.regions:
            config = sb.session(account_id, region).client("config")
            names = [r["ConfigRuleName"] for r in config.describe_config_rules()["ConfigRules"]]
            bases = {n.split("-conformance-pack-")[0] for n in names if "-conformance-pack-" in n}
            # The Security OU (audit, log archive) is not a target: the pack must not reach it.
            assert bases == (set(pack.rules) if account_id in sb.org.target_accounts() else set()), account_id
            bound = config.describe_remediation_configurations(ConfigRuleNames=names)["RemediationConfigurations"]
            for remediation in bound:
                role = remediation["Parameters"]["AutomationAssumeRole"]["StaticValue"]["Values"][0]
                assert f":{account_id}:" in role


def test_apply_puts_documents_and_roles_into_target_ou_members(applied: tuple[Sandbox, Manifest]) -> None:
    sb, manifest = applied
    targeted = [a for a, ou in sb.org.accounts.items() if ou in manifest.organization.target_ous]
    assert targeted
    for account_id in targeted:
        iam = sb.session(account_id).client("iam")
        for role in manifest.roles:
            got = iam.get_role(RoleName=role.name)["Role"]
            assert (
                got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
                == role.trust_policy["Statement"][0]["Principal"]
            )
        for region in sb.org.regions:
            ssm = sb.session(account_id, region).client("ssm")
            for document in manifest.documents:
                content = ssm.get_document(Name=document.name)["Content"]
                assert json.loads(content)["schemaVersion"] == "0.3"


def test_apply_attaches_the_scp_to_the_target_ous(applied: tuple[Sandbox, Manifest]) -> None:
    sb, manifest = applied
    if manifest.scp is None:
        pytest.skip("the governance file has no SCP")
    orgs = sb.session().client("organizations")
    policies = orgs.list_policies(Filter="SERVICE_CONTROL_POLICY")["Policies"]
    scp = next(p for p in policies if p["Name"] == manifest.scp.name)
    targets = {t["TargetId"] for t in orgs.list_targets_for_policy(PolicyId=scp["Id"])["Targets"]}
    assert set(manifest.scp.targets) <= targets


def test_apply_of_an_unknown_stack_is_refused(applied: tuple[Sandbox, Manifest], tmp_path: Path) -> None:
    sb, _ = applied
    with pytest.raises(SandboxError, match="no plan manifest"):
        sb.apply(tmp_path)
