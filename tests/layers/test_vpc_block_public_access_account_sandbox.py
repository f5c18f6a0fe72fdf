"""VPC Block Public Access in account mode: the synthesized account stacks applied with real terraform to the
sandbox (aws_vpc_block_public_access_options in each account and region), and the verifier's mode per account
and region. Its own file, so each sandbox file stays well under a minute."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox
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


def test_account_plan_applies_with_real_terraform_and_a_changed_account_fails_alone(
    sb: Sandbox, tmp_path: Path
) -> None:
    accounts = _in(sb, "sandboxes")
    controls = {c: {"enabled": False} for c in yaml.safe_load((ROOT / "governance.yaml").read_text())["controls"]}
    config = _governance(
        sb, tmp_path, "acct", mode="account", accounts=accounts, controls=controls,
        fast_path={"enabled": False}, vpc_block_public_access={"mode": "block-bidirectional"},
    )
    data = yaml.safe_load(config.read_text())
    data["organization"]["delegated_admin_account_id"] = None
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    manifest: Manifest = synthesize(config, tmp_path / "out")
    sb.apply(tmp_path / "out")
    home = sb.org.home_region
    for account in accounts:
        seen = _options(sb, account, home)
        assert (seen["InternetGatewayBlockMode"], seen["ManagedBy"]) == ("block-bidirectional", "account")
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    assert _mine(report) == [("vpc-block-public-access", a, home, "PASS") for a in accounts]
    # An administrator in one account switches it off: that account and region fail, the other passes.
    sb.session(accounts[0], home).client("ec2").modify_vpc_block_public_access_options(InternetGatewayBlockMode="off")
    report = verify(manifest, session=sb.session(), workers=4, progress=False, manifest_dir=tmp_path / "out")
    assert _mine(report) == [
        ("vpc-block-public-access", accounts[0], home, "FAIL"),
        ("vpc-block-public-access", accounts[1], home, "PASS"),
    ]
