"""Suite-wide settings: no real AWS credentials or endpoints can leak into a test."""

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

os.environ["JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION"] = "20"
os.environ["TF_CLI_CONFIG_FILE"] = str(ROOT / "terraform.rc")
os.environ.setdefault("TF_IN_AUTOMATION", "1")
for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
    os.environ.pop(var, None)
os.environ["AWS_ACCESS_KEY_ID"] = "testing"
os.environ["AWS_SECRET_ACCESS_KEY"] = "testing"
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
