"""VPC Block Public Access in account mode: the synthesized account stacks applied with real terraform to the
sandbox (aws_vpc_block_public_access_options in each account and region), and the verifier's mode per account
and region. Its own file, so each sandbox file stays well under a minute."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox
from orgguard.sandbox.terraform import _deployer_env
from orgguard.synth.build import synthesize
from orgguard.verify import verify
from tests.layers.test_vpc_block_public_access_sandbox import ROOT, _governance, _in, _mine, _options

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


@pytest.fixture(scope="module")
def sb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    saved = dict(os.environ)
    with Sandbox(tmp_path_factory.mktemp("bpa-account") / "sandbox") as sandbox:
        os.environ.update(sandbox.env())
        yield sandbox
    os.environ.clear()
    os.environ.update(saved)


def test_account_plan_applies_with_real_terraform_verifies_and_destroy_sets_off(sb: Sandbox, tmp_path: Path) -> None:
    """One vended account (each account stack is a terraform run; the per-account spread is the org test's)."""
    account = _in(sb, "sandboxes")[0]
    controls = {c: {"enabled": False} for c in yaml.safe_load((ROOT / "governance.yaml").read_text())["controls"]}
    config = _governance(
        sb, tmp_path, "acct", mode="account", accounts=[account], controls=controls,
        fast_path={"enabled": False}, vpc_block_public_access={"mode": "block-bidirectional"},
    )
    data = yaml.safe_load(config.read_text())
    data["organization"]["delegated_admin_account_id"] = None
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    manifest: Manifest = synthesize(config, tmp_path / "out")
    sb.apply(tmp_path / "out")
    home = sb.org.home_region
    seen = _options(sb, account, home)
    assert (seen["InternetGatewayBlockMode"], seen["ManagedBy"]) == ("block-bidirectional", "account")
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    assert _mine(report) == [("vpc-block-public-access", account, home, "PASS")]
    # An administrator of the account weakens it: FAIL, naming the account, the region, seen and expected.
    ec2 = sb.session(account, home).client("ec2")
    ec2.modify_vpc_block_public_access_options(InternetGatewayBlockMode="block-ingress")
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    (result,) = [r for r in report.results if r.check == "vpc-block-public-access"]
    assert result.status == "FAIL" and report.exit_code() == 1
    assert result.reason == f"{account} {home}: mode seen block-ingress, expected block-bidirectional"

    # Destroying the account stack sets the mode back to off: the provider's delete calls
    # ModifyVpcBlockPublicAccessOptions with off (docs/operators.md), shown with the real provider.
    env = _deployer_env(sb, manifest.organization.deployer_account_id)
    done = subprocess.run(
        ["terraform", "destroy", "-auto-approve", "-input=false", "-no-color"],
        cwd=sb.workdir / "terraform" / "stacks" / manifest.stacks[0].name,
        env=env, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert _options(sb, account, home)["InternetGatewayBlockMode"] == "off"
