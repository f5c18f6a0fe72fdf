"""Every synthesized stack is valid against the real AWS provider 5.100.0 schema (offline mirror)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.synth.conftest import ROOT

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


def _validate(stack_dir: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    init = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=stack_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert init.returncode == 0, init.stderr
    return subprocess.run(
        ["terraform", "validate", "-no-color"], cwd=stack_dir, env=env, capture_output=True, text=True, timeout=300
    )


def test_every_organization_stack_passes_terraform_validate(org_out):
    stacks = sorted((org_out / "stacks").iterdir())
    assert len(stacks) == 5  # global, management (SCP), three regions
    for stack in stacks:
        result = _validate(stack)
        assert result.returncode == 0, f"{stack.name}: {result.stderr}"


def test_every_account_stack_passes_terraform_validate(account_out):
    stacks = sorted((account_out / "stacks").iterdir())
    assert len(stacks) == 2
    for stack in stacks:
        result = _validate(stack)
        assert result.returncode == 0, f"{stack.name}: {result.stderr}"


def test_terraform_reads_embedded_templates_back_byte_for_byte(org_out, tmp_path):
    """`${` in embedded templates is escaped for Terraform; Terraform's own evaluation must undo exactly that."""
    import hashlib
    import json

    tf = json.loads((org_out / "stacks" / "orgguard-org-global" / "cdk.tf.json").read_text())
    body = tf["resource"]["aws_cloudformation_stack_set"]["stackset-documents"]["template_body"]
    expected = (org_out / "templates" / "orgguard-documents.yaml").read_text()
    assert "${AWS::" in expected and body != expected  # there was something to escape
    (tmp_path / "probe.tf.json").write_text(json.dumps({"locals": {"body": body}}))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc")}
    console = subprocess.run(
        ["terraform", "console", "-no-color"],
        input="sha256(local.body)\n",
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert console.returncode == 0, console.stderr
    assert console.stdout.strip().strip('"') == hashlib.sha256(expected.encode()).hexdigest()
