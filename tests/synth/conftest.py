"""Synthesized outputs shared by the synth tests (each built once per session)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from orgguard.manifest import Manifest, load_manifest
from orgguard.synth.build import MANIFEST_FILE, synthesize

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "governance.yaml"
ACCOUNT_EXAMPLE = ROOT / "examples" / "account-vending.yaml"


def variant(tmp: Path, name: str, edit) -> Path:
    """Write a copy of the example governance file changed by `edit(dict)`."""
    data = yaml.safe_load(EXAMPLE.read_text())
    edit(data)
    path = tmp / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def stack_json(out: Path, stack: str) -> dict:
    return json.loads((out / "stacks" / stack / "cdk.tf.json").read_text())


def run_cli(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(ROOT / ".venv" / "bin" / "orgguard"), *args]
        if (ROOT / ".venv/bin/orgguard").exists()
        else ["python", "-m", "orgguard", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture(scope="session")
def org_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("org") / "cdktf.out"
    synthesize(EXAMPLE, out)
    return out


@pytest.fixture(scope="session")
def org_manifest(org_out: Path) -> Manifest:
    return load_manifest(org_out / MANIFEST_FILE)


@pytest.fixture(scope="session")
def account_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("acct") / "cdktf.out"
    synthesize(ACCOUNT_EXAMPLE, out)
    return out
