"""The approval gate refuses flagged changes unless an approval names this exact plan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from orgguard.cli import main
from orgguard.manifest import Manifest

from .factory import SG_ROLE, control, example_manifest, mutate, role


def write(path: Path, manifest: Manifest) -> Path:
    path.write_text(manifest.to_json())
    return path


def widen_role(d: dict[str, Any]) -> None:
    role(d, SG_ROLE)["permission_policies"]["revoke"]["Statement"][1]["Resource"] = "*"


def disable_ssh(d: dict[str, Any]) -> None:
    control(d, "restricted-ssh")["enabled"] = False


@pytest.fixture
def previous(tmp_path: Path) -> Path:
    return write(tmp_path / "previous.json", example_manifest())


def plan(tmp_path: Path, edit: Any) -> tuple[Path, Manifest]:
    new = mutate(example_manifest(), edit)
    return write(tmp_path / "manifest.json", new), new


def approval(tmp_path: Path, sha: str, **extra: Any) -> Path:
    path = tmp_path / "approval.yaml"
    body = {"manifest_sha256": sha, "approved_by": "alice@example.com", "reason": "CHG-1234 reviewed", **extra}
    path.write_text("\n".join(f"{k}: {json.dumps(v)}" for k, v in body.items()) + "\n")
    return path


def gate(manifest: Path, previous: Path | None, *extra: str) -> int:
    args = ["report", "--manifest", str(manifest), "--gate", *extra]
    if previous:
        args += ["--against", str(previous)]
    return main(args)


@pytest.mark.parametrize("edit", [widen_role, disable_ssh], ids=["widened-role", "disabled-control"])
def test_gate_refuses_flagged_change_without_approval(
    tmp_path: Path, previous: Path, edit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, new = plan(tmp_path, edit)
    assert gate(manifest, previous) == 1
    err = capsys.readouterr().err
    assert err.startswith("GATE REFUSED: 1 flagged change(s) need approval")
    assert new.sha256() in err and "needs approval: [" in err


@pytest.mark.parametrize("edit", [widen_role, disable_ssh], ids=["widened-role", "disabled-control"])
def test_gate_accepts_flagged_change_with_matching_approval(
    tmp_path: Path, previous: Path, edit: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, new = plan(tmp_path, edit)
    ok = approval(tmp_path, new.sha256(), expires="2999-12-31")
    assert gate(manifest, previous, "--approval", str(ok)) == 0
    captured = capsys.readouterr()
    assert "GATE PASSED: 1 flagged change(s) approved by alice@example.com (CHG-1234 reviewed)" in captured.err
    assert "  approved: [" in captured.err
    assert "APPROVED: **" in captured.out  # the report itself records which flags were approved


def test_gate_refuses_approval_naming_another_hash(
    tmp_path: Path, previous: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, new = plan(tmp_path, widen_role)
    stale = approval(tmp_path, example_manifest().sha256())
    assert gate(manifest, previous, "--approval", str(stale)) == 1
    err = capsys.readouterr().err
    assert f"names manifest {example_manifest().sha256()}, but this plan is {new.sha256()}" in err


def test_gate_refuses_expired_approval(tmp_path: Path, previous: Path, capsys: pytest.CaptureFixture[str]) -> None:
    manifest, new = plan(tmp_path, disable_ssh)
    old = approval(tmp_path, new.sha256(), expires="2001-01-01")
    assert gate(manifest, previous, "--approval", str(old)) == 1
    assert "expired on 2001-01-01" in capsys.readouterr().err


def test_gate_refuses_approval_for_a_different_previous_plan(
    tmp_path: Path, previous: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, new = plan(tmp_path, disable_ssh)
    other = approval(tmp_path, new.sha256(), against_sha256="0" * 64)
    assert gate(manifest, previous, "--approval", str(other)) == 1
    assert "approve the diff actually shown" in capsys.readouterr().err


def test_gate_passes_unflagged_change_without_approval(
    tmp_path: Path, previous: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, _ = plan(tmp_path, lambda d: control(d, "restricted-ssh").update(severity="critical"))
    assert gate(manifest, previous) == 0
    assert "GATE PASSED: no flagged changes" in capsys.readouterr().err


def test_gate_without_previous_plan_treats_it_as_first_deployment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write(tmp_path / "manifest.json", example_manifest())
    assert gate(manifest, None) == 1
    captured = capsys.readouterr()
    assert "First deployment" in captured.out
    ok = approval(tmp_path, example_manifest().sha256())
    assert gate(manifest, None, "--approval", str(ok)) == 0


def test_json_approval_file_and_json_verdict(
    tmp_path: Path, previous: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, new = plan(tmp_path, widen_role)
    path = tmp_path / "approval.json"
    path.write_text(json.dumps({"manifest_sha256": new.sha256(), "approved_by": "bob", "reason": "ok"}))
    assert gate(manifest, previous, "--approval", str(path), "--json-verdict") == 0
    verdict = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert verdict["passed"] is True and verdict["approved_by"] == "bob"
    assert [f["kind"] for f in verdict["approved_flags"]] == ["widened-permission"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("manifest_sha256: abc\napproved_by: a\nreason: r\n", "manifest_sha256: String should match pattern"),
        ("- just\n- a list\n", "must be a mapping"),
        ("manifest_sha256: '" + "a" * 64 + "'\nreason: r\n", "approved_by: Field required"),
        (
            "manifest_sha256: '" + "a" * 64 + "'\napproved_by: a\nreason: r\nexpires: someday\n",
            "write a date as YYYY-MM-DD",
        ),
        ("manifest_sha256: '" + "a" * 64 + "'\napproved_by: a\nreason: r\nsigned: yes\n", "allowed keys"),
        ("{unclosed: [\n", "not valid YAML/JSON"),
    ],
)
def test_invalid_approval_file_is_a_one_line_usage_error(
    tmp_path: Path, previous: Path, body: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest, _ = plan(tmp_path, widen_role)
    path = tmp_path / "approval.yaml"
    path.write_text(body)
    assert gate(manifest, previous, "--approval", str(path)) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err
