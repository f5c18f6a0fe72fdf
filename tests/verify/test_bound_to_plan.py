"""`orgguard verify` is bound to the approved plan: the manifest is checked before any AWS call, an
unapproved or emptied plan is refused with exit 2 and one line, and the reports carry what was checked.

Each refusal here would have passed (or crashed) before: the old loader hashed nothing, accepted any
manifest with --approval unknown, verified an emptied plan, and printed a RecursionError traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from moto import mock_aws

from orgguard.cli import main
from orgguard.manifest import Manifest, load_manifest

from .factory import DOC, MEMBERS, deploy_account, manifest_dict, write_manifest

ROOT = Path(__file__).resolve().parents[2]
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


def _usage(capsys: pytest.CaptureFixture[str], argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err


def _approve(path: Path, manifest: Manifest | str, **extra: Any) -> Path:
    sha = manifest if isinstance(manifest, str) else manifest.sha256()
    path.write_text(yaml.safe_dump({"manifest_sha256": sha, "approved_by": "carol", "reason": "CAB-42", **extra}))
    return path


@pytest.fixture
def manifest_file(tmp_path: Path) -> Path:
    return write_manifest(tmp_path / "out")


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local endpoint that records whether anything connected to it (an AWS call would)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def _connected(server: socket.socket, wait: float) -> bool:
    readable, _, _ = select.select([server], [], [], wait)
    return bool(readable)


def _verify_process(manifest: Path, endpoint: socket.socket, *extra: str) -> subprocess.Popen[str]:
    port = endpoint.getsockname()[1]
    env = {**os.environ, **FAKE_CREDENTIALS, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    return subprocess.Popen(
        [sys.executable, "-m", "orgguard", "verify", "--manifest", str(manifest), "--workers", "1", *extra],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_tampered_document_is_refused_with_one_line_before_any_aws_call(manifest_file: Path, listener) -> None:
    doc = manifest_file.parent / f"documents/{DOC}.json"
    doc.write_text(doc.read_text().replace("aws:sleep", "aws:executeScript"))
    started = time.monotonic()
    proc = _verify_process(manifest_file, listener)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2, err
    assert time.monotonic() - started < 30
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert "documents[0].content_file" in err and "sha256" in err and "changed after synth" in err
    assert out == ""
    assert not _connected(listener, 0)  # nothing ever reached the endpoint


def test_the_endpoint_probe_does_see_a_verify_that_proceeds(manifest_file: Path, listener) -> None:
    """Control for the test above: an intact manifest does reach the endpoint, so silence there means something."""
    proc = _verify_process(manifest_file, listener)
    try:
        assert _connected(listener, 60), "an intact manifest must lead to AWS calls"
    finally:
        proc.kill()
        proc.communicate()


@pytest.mark.parametrize(("field", "kind"), [("documents", "content_file"), ("conformance_packs", "template_file")])
def test_missing_or_edited_artifact_names_the_field(capsys, tmp_path: Path, field: str, kind: str) -> None:
    data = manifest_dict()
    if field == "conformance_packs":
        template = "Resources: {}\n"
        data["conformance_packs"] = [{
            "name": "orgguard-pack", "region": "us-east-1", "template_file": "templates/pack.yaml",
            "template_sha256": hashlib.sha256(template.encode()).hexdigest(), "rules": [], "excluded_accounts": [],
        }]  # fmt: skip
        path = write_manifest(tmp_path, data)
        (tmp_path / "templates").mkdir()
        (tmp_path / "templates/pack.yaml").write_text(template + "# edited\n")
        assert f"{field}[0].{kind}" in _usage(capsys, ["verify", "--manifest", str(path)])
        (tmp_path / "templates/pack.yaml").unlink()
        assert "is missing beside the manifest" in _usage(capsys, ["verify", "--manifest", str(path)])
    else:
        path = write_manifest(tmp_path, data)
        (tmp_path / data["documents"][0]["content_file"]).unlink()
        err = _usage(capsys, ["verify", "--manifest", str(path)])
        assert f"{field}[0].{kind}" in err and "is missing beside the manifest" in err


def test_artifact_path_outside_the_manifest_directory_is_refused(capsys, tmp_path: Path) -> None:
    data = manifest_dict()
    secret = tmp_path / "secret.json"
    secret.write_text("{}")
    data["documents"][0]["content_file"] = "../secret.json"
    data["documents"][0]["sha256"] = hashlib.sha256(b"{}").hexdigest()  # even with the right hash
    path = write_manifest(tmp_path / "out", data)
    assert "points outside the manifest's directory" in _usage(capsys, ["verify", "--manifest", str(path)])


@pytest.mark.parametrize("command", ["verify", "report"])
@pytest.mark.parametrize("shape", ["[" * 200_000 + "]" * 200_000, '{"a":' * 200_000 + "1" + "}" * 200_000])
def test_deep_json_is_refused_quickly_without_traceback(tmp_path: Path, command: str, shape: str) -> None:
    path = tmp_path / "orgguard-manifest.json"
    path.write_text(shape)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "orgguard", command, "--manifest", str(path)],
        env={**os.environ, **FAKE_CREDENTIALS}, cwd=ROOT, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2, done.stderr[-500:]
    assert time.monotonic() - started < 30
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "nests deeper than 64 levels" in done.stderr


def test_moderately_deep_json_is_refused_too(capsys, tmp_path: Path) -> None:
    """Deep enough to slip past Python's recursion limit (500 levels), still deeper than synth ever writes."""
    data = manifest_dict()
    nested: Any = "x"
    for _ in range(500):
        nested = [nested]
    data["exemptions"] = nested
    path = write_manifest(tmp_path, data)
    assert "nests deeper than 64 levels" in _usage(capsys, ["verify", "--manifest", str(path)])


def test_duplicate_keys_are_refused(capsys, tmp_path: Path) -> None:
    path = write_manifest(tmp_path)
    text = path.read_text()
    path.write_text(text.replace('"controls": [', '"controls": [], "controls": [', 1))
    assert "repeats the key 'controls'" in _usage(capsys, ["verify", "--manifest", str(path)])


def test_manifest_with_every_control_removed_does_not_verify(capsys, tmp_path: Path) -> None:
    data = manifest_dict()
    data["controls"] = []
    path = write_manifest(tmp_path, data)
    assert "enables no control: nothing to verify" in _usage(capsys, ["verify", "--manifest", str(path)])
    for control in (manifest := manifest_dict())["controls"]:
        control["enabled"] = False
    path = write_manifest(tmp_path / "disabled", manifest)
    assert "enables no control" in _usage(capsys, ["verify", "--manifest", str(path)])


def test_manifest_not_named_by_the_approval_is_refused(capsys, manifest_file: Path, tmp_path: Path) -> None:
    approval = _approve(tmp_path / "approval.yaml", "a" * 64)
    err = _usage(capsys, ["verify", "--manifest", str(manifest_file), "--approval", str(approval)])
    assert f"approves manifest {'a' * 64}" in err and load_manifest(manifest_file).sha256() in err
    assert "not the approved plan" in err


def test_emptied_manifest_with_the_old_approval_is_refused(capsys, manifest_file: Path, tmp_path: Path) -> None:
    """An attacker drops a control from the approved plan: the hash no longer matches the approval."""
    approval = _approve(tmp_path / "approval.yaml", load_manifest(manifest_file))
    data = json.loads(manifest_file.read_text())
    data["controls"] = data["controls"][:1]
    manifest_file.write_text(json.dumps(data))
    err = _usage(capsys, ["verify", "--manifest", str(manifest_file), "--approval", str(approval)])
    assert "not the approved plan" in err


@pytest.mark.parametrize(
    ("content", "needle"),
    [(None, "cannot read approval file"), ("- a list\n", "must be a mapping"), ("manifest_sha256: 12\n", "quote")],
)
def test_bad_approval_file_is_one_line(capsys, manifest_file: Path, tmp_path: Path, content, needle) -> None:
    approval = tmp_path / "approval.yaml"
    if content is not None:
        approval.write_text(content)
    assert needle in _usage(capsys, ["verify", "--manifest", str(manifest_file), "--approval", str(approval)])


def _verify_in_moto(argv: list[str], manifest_file: Path) -> int:
    with mock_aws():
        base = boto3.Session(region_name="us-east-1")
        deploy_account(base, load_manifest(manifest_file), MEMBERS[0], remediation=False)
        return main(["verify", "--manifest", str(manifest_file), "--accounts", MEMBERS[0], "--workers", "2", *argv])


def test_approved_manifest_proceeds_and_reports_carry_the_plan_and_the_approval(
    capsys, manifest_file: Path, tmp_path: Path
) -> None:
    manifest = load_manifest(manifest_file)
    approval = _approve(tmp_path / "approval.yaml", manifest, approved_at="2026-11-30T09:15:00Z")
    report = tmp_path / "verify.json"
    code = _verify_in_moto(["--approval", str(approval), "--format", "json", "--output", str(report)], manifest_file)
    assert code == 3  # it ran: remediation bindings cannot be read in-process (moto), so UNVERIFIED, not PASS
    err = capsys.readouterr().err
    assert "WARNING" not in err
    evidence = json.loads(report.read_text())["evidence"]
    assert evidence["manifest_sha256"] == manifest.sha256()
    assert evidence["manifest_file_sha256"] == hashlib.sha256(manifest_file.read_bytes()).hexdigest()
    assert evidence["approval"] == {
        "file": str(approval),
        "file_sha256": hashlib.sha256(approval.read_bytes()).hexdigest(),
        "manifest_sha256": manifest.sha256(),
        "approved_by": "carol",
        "reason": "CAB-42",
        "approved_at": "2026-11-30T09:15:00+00:00",
        "expires": None,
    }
    assert evidence["checked_at"].endswith("+00:00") and evidence["verifier_version"].startswith("orgguard ")

    junit = tmp_path / "verify.xml"
    _verify_in_moto(["--approval", str(approval), "--format", "junit", "--output", str(junit)], manifest_file)
    suites = ET.parse(junit).getroot().findall("testsuite")
    assert suites
    for suite in suites:
        props = {p.get("name"): p.get("value") for p in suite.findall("properties/property")}
        assert props["orgguard.manifest.sha256"] == manifest.sha256()
        assert props["orgguard.approval.approved_by"] == "carol"
        assert props["orgguard.approval.file_sha256"] == evidence["approval"]["file_sha256"]


def test_run_without_approval_warns_and_says_so_in_the_report(capsys, manifest_file: Path, tmp_path: Path) -> None:
    report = tmp_path / "verify.json"
    _verify_in_moto(["--format", "json", "--output", str(report)], manifest_file)
    err = capsys.readouterr().err
    assert "WARNING: this run is not bound to an approval" in err
    data = json.loads(report.read_text())
    assert data["evidence"]["approval"] is None and data["evidence"]["warnings"]
    table = tmp_path / "verify.txt"
    _verify_in_moto(["--output", str(table)], manifest_file)
    assert "approval: NONE" in table.read_text()


def test_expired_approval_still_binds_but_warns(capsys, manifest_file: Path, tmp_path: Path) -> None:
    approval = _approve(tmp_path / "approval.yaml", load_manifest(manifest_file), expires="2020-01-01")
    report = tmp_path / "verify.json"
    assert _verify_in_moto(["--approval", str(approval), "--format", "json", "--output", str(report)],
                           manifest_file) == 3  # fmt: skip
    assert "expired on 2020-01-01" in capsys.readouterr().err
    assert json.loads(report.read_text())["evidence"]["approval"]["expires"] == "2020-01-01"


def test_bad_output_directory_is_refused_before_any_call(capsys, manifest_file: Path, tmp_path: Path) -> None:
    err = _usage(capsys, ["verify", "--manifest", str(manifest_file), "--output", str(tmp_path / "no/such/r.xml")])
    assert "--output" in err and "does not exist" in err


def test_review_refuses_a_tampered_document_but_not_an_archived_previous_plan(capsys, tmp_path: Path) -> None:
    current = write_manifest(tmp_path / "current")
    previous = tmp_path / "archive" / "previous.json"
    previous.parent.mkdir()
    previous.write_text(current.read_text())  # archived alone, without its documents: fine
    assert main(["report", "--manifest", str(current), "--against", str(previous)]) == 0
    capsys.readouterr()
    (current.parent / f"documents/{DOC}.json").write_text("{}")
    assert main(["report", "--manifest", str(current), "--against", str(previous)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "documents[0].content_file" in err


def test_review_help_names_the_real_manifest_file(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    out = capsys.readouterr().out
    assert "orgguard-manifest.json" in out and " manifest.json" not in out
