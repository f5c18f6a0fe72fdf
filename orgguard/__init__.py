"""orgguard: organization-wide guardrails against internet-exposed security groups and ECS tasks."""

import os

__version__ = "0.1.0"

# jsii (under cdktf) prints a Node 20 end-of-life banner on every import; silence it for every entry point.
os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
