"""`orgguard report` end to end: output destinations, exit codes and one-line errors for bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from orgguard.cli import main

from .factory import example_manifest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def manifest(tmp_path: Path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(example_manifest().to_json())
    return path


def test_markdown_report_goes_to_stdout(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--manifest", str(manifest)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("# Plan review: orgguard (organization mode)")
    assert example_manifest().sha256() in out


def test_html_report_written_to_output_file(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "review.html"
    assert main(["report", "--manifest", str(manifest), "--format", "html", "--output", str(target)]) == 0
    assert target.read_text().startswith("<!DOCTYPE html>") or "<!DOCTYPE html>" in target.read_text()[:600]
    captured = capsys.readouterr()
    assert captured.out == "" and f"to {target}" in captured.err


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist; pass the orgguard-manifest.json written by `orgguard synth"),
        ("{not json", "is not valid JSON"),
        ('{"manifest_version": 1}', "is invalid at tool_version: Field required; regenerate it with `orgguard synth`"),
    ],
)
def test_bad_manifest_is_a_one_line_usage_error(
    tmp_path: Path, content: str | None, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content)
    assert main(["report", "--manifest", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_bad_previous_manifest_is_named_as_such(
    manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["report", "--manifest", str(manifest), "--against", str(tmp_path / "gone.json")]) == 2
    assert "previous manifest" in capsys.readouterr().err


def test_approval_without_gate_is_a_usage_error(manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "--manifest", str(manifest), "--approval", "a.yaml"]) == 2
    assert "--approval only applies with --gate" in capsys.readouterr().err


def test_unwritable_output_is_a_usage_error(manifest: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["report", "--manifest", str(manifest), "--output", str(blocker / "x.md")]) == 2
    assert "choose a writable --output" in capsys.readouterr().err


def test_real_entry_point_runs_without_traceback(manifest: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    done = subprocess.run(
        [sys.executable, "-m", "orgguard", "report", "--manifest", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("orgguard report: error: manifest")
    ok = subprocess.run(
        [sys.executable, "-m", "orgguard", "report", "--manifest", str(manifest), "--format", "html"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and "<!DOCTYPE html>" in ok.stdout
