"""The AFT account-customization example calls the synthesized baseline modules and is valid Terraform.

Rendered the way AFT's customization pipeline renders every `*.jinja` of the customization's terraform/
folder (jinja2 with -D provider_region, target_admin_role_arn, ...), with `orgguard synth`'s modules
copied in as docs/vending-pipelines.md says, then `terraform init` + `terraform validate` offline.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from tests.synth.conftest import ACCOUNT_EXAMPLE, ROOT

EXAMPLE = ROOT / "examples" / "aft-customization" / "ORGGUARD_BASELINE"
pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


def render_customization(
    account_out: Path, target: Path, *, account: str, home_region: str, role: str = "AWSAFTExecution"
) -> Path:
    """The customization as AFT would run it: modules copied in, *.jinja rendered to *.tf beside them."""
    shutil.copytree(EXAMPLE, target)
    terraform_dir = target / "terraform"
    shutil.copytree(account_out / "modules", terraform_dir / "modules")
    values = {
        "timestamp": "2026-01-01 00:00:00",
        "provider_region": home_region,
        "target_admin_role_arn": f"arn:aws:iam::{account}:role/{role}",
    }
    for template in terraform_dir.glob("*.jinja"):
        text = jinja2.Template(template.read_text(), undefined=jinja2.StrictUndefined).render(**values)
        template.with_suffix(".tf").write_text(text)
        template.unlink()
    return terraform_dir


def _terraform(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def test_the_aft_customization_validates_against_the_synthesized_modules(account_out, tmp_path):
    terraform_dir = render_customization(account_out, tmp_path / "ORGGUARD_BASELINE", account="444444444444",
                                         home_region="us-east-1")
    for args in (["init", "-backend=false", "-input=false", "-no-color"], ["validate", "-no-color"]):
        result = _terraform(args, terraform_dir)
        assert result.returncode == 0, result.stderr[-3000:]


def test_the_aft_customization_guards_every_region_of_the_example_governance_file():
    """One regional module block per region, each with the provider of that region (a careless copy of a
    block would otherwise guard one region twice and another not at all)."""
    regions = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())["organization"]["regions"]
    main = (EXAMPLE / "terraform" / "main.tf").read_text()
    blocks = re.findall(r'module "(orgguard_[a-z0-9_]+)" \{(.*?)\n\}', main, re.S)
    regional = {name: body for name, body in blocks if "orgguard-account-regional" in body}
    declared = {re.search(r'region\s+=\s+"([a-z0-9-]+)"', body).group(1): body for body in regional.values()}
    assert sorted(declared) == sorted(regions)
    providers = re.findall(r'alias\s+=\s+"([a-z0-9_]+)"', (EXAMPLE / "terraform" / "aft-providers.jinja").read_text())
    home = regions[0]  # AFT's default provider is the Control Tower home region; the example assumes us-east-1
    for region, body in declared.items():
        expected = "aws" if region == home else f"aws.{region.replace('-', '_')}"
        assert f"providers  = {{ aws = {expected} }}" in body, region
        assert region == home or region.replace("-", "_") in providers, region
