"""The synthesis benchmark stays runnable and its JSON floor measures the same work as ours."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from orgguard.synth.build import synthesize

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

import synth_speed  # noqa: E402


def test_synth_speed_help_lists_its_options_and_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "synth_speed.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--repeats", "--accounts", "--account-regions", "--skip-prebuilt", "--prebuilt-python",
                   "--skip-floor", "--skip-previous"):
        assert option in result.stdout


@pytest.mark.parametrize("config", ["governance.yaml", "examples/account-vending.yaml"])
def test_the_json_floor_writes_exactly_our_terraform_without_loading_jsii(tmp_path: Path, config: str) -> None:
    """If the floor drifted from the product, the bench would compare unlike work: it must stay identical."""
    synthesize(ROOT / config, tmp_path / "ours")
    env = {"ORGGUARD_CONFIG": str(ROOT / config), "CDKTF_OUTDIR": str(tmp_path / "floor"), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "json_floor.py")], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]  # it asserts itself that jsii was never imported
    comparison = synth_speed.compare_outputs(tmp_path / "ours", tmp_path / "floor")
    assert comparison["same"], json.dumps(comparison["problems"])
    assert comparison["stacks"] >= 2 and comparison["artifacts_checked"] >= 5  # something was compared
