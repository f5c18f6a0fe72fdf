"""The cdktf app: `python main.py` or `cdktf synth` (cdktf.json runs `python3 main.py`).

Reads governance.yaml, or the file named by ORGGUARD_CONFIG, and writes the stacks and the plan
manifest to cdktf.out (or CDKTF_OUTDIR, which the cdktf CLI sets).
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")

from orgguard.cli import main as orgguard_main

if __name__ == "__main__":
    config = os.environ.get("ORGGUARD_CONFIG", str(Path(__file__).with_name("governance.yaml")))
    out = os.environ.get("CDKTF_OUTDIR", "cdktf.out")
    sys.exit(orgguard_main(["synth", "--config", config, "--out", out]))
