"""Crafted approval files get one line and exit 2, in bounded time and memory (review item 7): before, non-UTF-8
and deep nesting printed tracebacks, a FIFO hung, /dev/zero ran out of memory and blank approvers passed."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orgguard.cli import main
from orgguard.review.approval import MAX_APPROVAL_BYTES, load_approval
from orgguard.review.errors import ReviewError
from orgguard.synth.build import MANIFEST_FILE, synthesize

from .factory import example_manifest, mutate
from .test_gate import disable_ssh, write

SHA = "a" * 64
ROOT = Path(__file__).resolve().parents[2]


def body(approved_by: str = "alice@example.com", reason: str = "CHG-1 reviewed") -> bytes:
    return f'manifest_sha256: "{SHA}"\napproved_by: "{approved_by}"\nreason: "{reason}"\n'.encode()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'manifest_sha256: "' + SHA.encode() + b'"\napproved_by: m\xe9\nreason: r\n', "not UTF-8 text (byte"),
        (b"[" * 30000, "not valid YAML/JSON"),
        (b"x: " + b"y" * (MAX_APPROVAL_BYTES + 10), "larger than 64 KiB"),
        (body(approved_by=" "), "approved_by: Value error, must contain text"),
        (body(reason="\\u00a0\\t"), "reason: Value error, must contain text"),
        (body(reason="ok \\u202e desrever"), "bidirectional-override"),
        (body(approved_by="\\x1b[31mroot"), "control or bidirectional-override"),
        (b'{"manifest_sha256": "' + SHA.encode() + b'", "manifest_sha256": "' + SHA.encode() + b'"}', "twice"),
    ],
    ids=["non-utf8", "deep", "huge", "blank-by", "blank-reason", "rlo", "esc", "duplicate-key"],
)
def test_crafted_approval_file_is_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "approval.yaml"
    path.write_bytes(content)
    with pytest.raises(ReviewError) as exc:
        load_approval(path)
    text = str(exc.value)
    assert message in text and len(text.splitlines()) == 1 and len(text) < 400, text


def test_plain_approval_still_loads(tmp_path: Path) -> None:
    path = tmp_path / "approval.yaml"
    path.write_bytes(body())
    assert load_approval(path).approved_by == "alice@example.com"


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_non_regular_file_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "approval.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    start = time.monotonic()
    with pytest.raises(ReviewError) as exc:
        load_approval(path)
    assert time.monotonic() - start < 2
    assert "not a regular file" in str(exc.value)


@pytest.mark.parametrize("command", ["report", "verify"])
def test_cli_never_hangs_or_tracebacks_on_a_fifo(tmp_path: Path, command: str) -> None:
    """Both commands read approvals through load_approval; run in a subprocess with a timeout, so a hang fails."""
    if command == "report":
        manifest = write(tmp_path / "manifest.json", mutate(example_manifest(), disable_ssh))
    else:  # verify checks the files beside the manifest first: a real synth output
        synthesize(ROOT / "governance.yaml", tmp_path / "out")
        manifest = tmp_path / "out" / MANIFEST_FILE
    fifo = tmp_path / "approval.yaml"
    os.mkfifo(fifo)
    args = ["--manifest", str(manifest), "--approval", str(fifo)]
    args = [command, *args, "--gate"] if command == "report" else [command, *args]
    proc = subprocess.run(
        [sys.executable, "-m", "orgguard", *args], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and "not a regular file" in proc.stderr


def test_gate_refuses_blank_approver(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    previous = write(tmp_path / "previous.json", example_manifest())
    new = mutate(example_manifest(), disable_ssh)
    manifest = write(tmp_path / "manifest.json", new)
    path = tmp_path / "approval.yaml"
    path.write_text(f'manifest_sha256: "{new.sha256()}"\napproved_by: "   "\nreason: "ok"\n')
    args = ["report", "--manifest", str(manifest), "--against", str(previous), "--gate", "--approval", str(path)]
    assert main(args) == 2
    assert "approved_by" in capsys.readouterr().err
