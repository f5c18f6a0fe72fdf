"""The README's first command runs `orgguard demo`: the whole loop must succeed on a fresh machine."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_applies_verifies_runs_the_canary_and_catches_every_drift(tmp_path: Path) -> None:
    orgguard = Path(sys.executable).with_name("orgguard")
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc")}
    result = subprocess.run(
        [str(orgguard), "demo", "--workdir", str(tmp_path / "demo")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200,
    )
    out = result.stdout
    assert result.returncode == 0, out[-4000:] + result.stderr[-4000:]
    assert "faithful apply: " in out and ", 0 FAIL, 0 UNVERIFIED" in out.split("faithful apply: ")[1].splitlines()[0]
    assert out.count("CAUGHT: ") == 4 and "MISSED" not in out and "UNEXPECTED" not in out
    assert "PASSED" in out.split("== canary")[1]
    assert (tmp_path / "demo" / "plan-report.html").is_file()
