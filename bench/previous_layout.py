"""`orgguard synth` with the account stacks laid out as before the baseline modules (bench only).

Why: docs/performance.md compares the module layout with the layout it replaced, on today's plan and
constructs, in the same run. tests/synth/legacy_account_layout.py holds that layout (the committed class,
checked against git history by tests/synth/test_account_mode.py); this runs `orgguard synth` with it.
Account mode only. Reads ORGGUARD_CONFIG and writes CDKTF_OUTDIR, like main.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import mock

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from orgguard.cli import main as orgguard_main  # noqa: E402
from orgguard.synth import build  # noqa: E402
from tests.synth.legacy_account_layout import legacy_build_app  # noqa: E402


def main() -> int:
    config = os.environ.get("ORGGUARD_CONFIG", str(REPO / "governance.yaml"))
    out = os.environ.get("CDKTF_OUTDIR", "cdktf.out")
    with mock.patch.object(build, "build_app", legacy_build_app):
        return orgguard_main(["synth", "--config", config, "--out", out])


if __name__ == "__main__":
    sys.exit(main())
