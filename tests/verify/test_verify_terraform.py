"""The verifier against what real terraform applied to the sandbox (the loop `orgguard demo` runs)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox
from orgguard.verify import VerifyReport, verify

from .org_deploy import restore_env, synth_for, use_sandbox_env

pytestmark = pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")


@dataclass
class Applied:
    sb: Sandbox
    manifest: Manifest
    out: Path

    def verify_as(self, account_id: str) -> VerifyReport:
        session = self.sb.session(account_id)
        return verify(self.manifest, session=session, workers=8, progress=False, manifest_dir=self.out)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Applied]:
    base = tmp_path_factory.mktemp("verify-terraform")
    with Sandbox(base / "sandbox") as sb:
        previous = use_sandbox_env(sb)
        try:
            manifest, out = synth_for(sb, base)
            sb.apply(out)
            yield Applied(sb, manifest, out)
        finally:
            restore_env(previous)


def test_terraform_applied_organization_passes_every_check_from_the_deployer(applied: Applied) -> None:
    report = applied.verify_as(applied.manifest.organization.deployer_account_id)
    assert len(report.results) > 100
    assert [r for r in report.results if r.status != "PASS"] == []
    assert report.exit_code() == 0


def test_from_the_management_account_every_check_passes_too(applied: Applied) -> None:
    """The management account sees the delegated admin's service-managed StackSets (CallAs=SELF), as in AWS."""
    report = applied.verify_as(applied.manifest.organization.management_account_id)
    instances = [r for r in report.results if r.check.startswith("stackset-instance")]
    assert instances and len(report.results) > 100
    assert [r for r in report.results if r.status != "PASS"] == []
