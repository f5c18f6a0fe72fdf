"""The review on manifests written by the real synth from the example governance.yaml.

The hand-built factory can drift from what synth writes; these tests read synth's own output, so
the report, the diff and the gate are proven on the real contract.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from orgguard.cli import main
from orgguard.manifest import Manifest, load_manifest
from orgguard.review.diff import DISABLED, DOWNGRADED, diff_manifests
from orgguard.review.render import render_report
from orgguard.synth.build import MANIFEST_FILE, synthesize

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "governance.yaml"


def synth(tmp_path: Path, name: str, edit: Any = None) -> Path:
    """Synthesize the example (optionally edited) and return the written manifest file."""
    config = tmp_path / f"{name}.yaml"
    data = yaml.safe_load(EXAMPLE.read_text())
    if edit:
        edit(data)
    config.write_text(yaml.safe_dump(data, sort_keys=False))
    out = tmp_path / f"{name}-out"
    synthesize(config, out)
    return out / MANIFEST_FILE


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return synth(tmp_path_factory.mktemp("real"), "example")


@pytest.mark.parametrize("fmt", ["markdown", "html"])
def test_real_manifest_report_shows_every_control_document_and_role(real: Path, fmt: str) -> None:
    manifest = load_manifest(real)
    text = render_report(manifest, fmt, today=dt.date(2026, 6, 1))
    assert manifest.sha256() in text
    for control in manifest.controls:
        assert control.id in text and control.rule.name in text
        for sid in control.mappings.security_hub:
            assert sid in text
    for doc in manifest.documents:
        assert doc.sha256 in text
    for role in manifest.roles:
        assert role.name in text
    assert "Plan problem" not in text  # every control's document and role is in the manifest
    assert "${AWS::AccountId}" not in text
    assert "CT.EC2.PR.3 / CT.EC2.PR.4 are CloudFormation hooks" in text


def test_real_manifest_diffs_against_itself_as_unchanged(real: Path) -> None:
    manifest: Manifest = load_manifest(real)
    assert diff_manifests(manifest, manifest).empty


def test_gate_on_real_synth_refuses_governance_edit_until_approved(
    real: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def weaken(data: dict[str, Any]) -> None:
        data["controls"]["restricted-ssh"]["enabled"] = False
        data["controls"]["restricted-common-ports"]["remediation"] = "manual"
        data["fast_path"]["enabled"] = False  # it needs an automatic security-group control

    changed = synth(tmp_path, "weakened", weaken)
    diff = diff_manifests(load_manifest(real), load_manifest(changed))
    assert {f.kind for f in diff.flags} >= {DISABLED, DOWNGRADED}
    args = ["report", "--manifest", str(changed), "--against", str(real), "--gate"]
    assert main(args) == 1
    assert "GATE REFUSED" in capsys.readouterr().err
    approval = tmp_path / "approval.yaml"
    approval.write_text(
        yaml.safe_dump({"manifest_sha256": load_manifest(changed).sha256(), "approved_by": "carol", "reason": "test"})
    )
    assert main([*args, "--approval", str(approval)]) == 0
    err = capsys.readouterr().err
    assert "GATE PASSED" in err and "[CONTROL DISABLED] restricted-ssh" in err
