"""The synthesis benchmark stays runnable: its entry point parses its options without the bench venv."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_synth_speed_help_lists_its_options_and_exits_zero() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "synth_speed.py"), "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    for option in ("--repeats", "--accounts", "--account-regions", "--skip-prebuilt", "--prebuilt-python"):
        assert option in result.stdout
