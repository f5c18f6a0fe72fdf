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
    assert out.count("CAUGHT: ") == 5 and "MISSED" not in out and "UNEXPECTED" not in out
    assert "CAUGHT: member-side notification rule deleted (notifications-member:" in out
    assert "PASSED" in out.split("== canary")[1]
    # The opt-in layers: the policy type enabled first, their checks in the clean verify, the policy's mode in
    # every governed account and region, the member's attempt to turn it off refused, a finding delivered.
    assert "DECLARATIVE_POLICY_EC2 ENABLED" in out
    faithful = out.split("== verify: every control")[1].split("faithful apply: ")[0]
    for kind in ("vpc-block-public-access", "vpc-bpa-policy", "notifications-member", "notifications-bus"):
        assert f"  {kind} " in faithful, faithful
    for control in ("restricted-ports-all-protocols", "ecs-containers-nonprivileged"):
        (row,) = [line for line in faithful.splitlines() if line.startswith(f"  {control} ")]
        assert " 0 other" in row and " 0 PASS" not in row, row
    bpa = out.split("== VPC Block Public Access")[1].split("\n== ")[0]
    assert bpa.count("block-ingress (ManagedBy declarative-policy)") >= 3 and "ManagedBy account" not in bpa
    # Both attacks (turn it off, exclude a VPC) refused with the policy's refusal, and the mode unchanged after.
    assert bpa.count("attack refused (the sandbox's emulation of the declarative policy)") == 2, bpa
    assert "still block-ingress after the attacks" in bpa and "UNEXPECTED" not in bpa
    assert "finding arrived: Config Rules Compliance Change NON_COMPLIANT" in out
    assert (tmp_path / "demo" / "plan-report.html").is_file()
