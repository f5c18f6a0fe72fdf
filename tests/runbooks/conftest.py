"""Fixtures for the runbook tests: moto in a non-default VPC, and each handler two ways.

Every behavioural test runs the handler both as the imported module and as the Script text extracted
from the rendered SSM document, so the deployed bytes are the tested ones.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Iterator
from functools import cache
from typing import Any

import boto3
import pytest
from moto import mock_aws

from orgguard.runbooks import RUNBOOKS

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
REGION = "us-east-1"


def document_script(key: str) -> str:
    """The Script of the single aws:executeScript step of the rendered document."""
    doc = json.loads(RUNBOOKS[key].render_document())
    return doc["mainSteps"][0]["inputs"]["Script"]


@cache
def load_from_document(key: str) -> dict[str, Any]:
    """Execute the embedded Script as SSM would and return its namespace (once per run)."""
    namespace: dict[str, Any] = {"__name__": f"embedded_{key.replace('-', '_')}"}
    exec(compile(document_script(key), f"<{key} document>", "exec"), namespace)
    return namespace


def load_module(key: str) -> dict[str, Any]:
    return vars(importlib.import_module(RUNBOOKS[key].handler_module))


@pytest.fixture(params=["module", "document"])
def source(request: pytest.FixtureRequest) -> str:
    """Which copy of the handler a test runs: the imported module or the document's embedded text."""
    return request.param


def handler_ns(key: str, source: str) -> dict[str, Any]:
    return load_module(key) if source == "module" else load_from_document(key)


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def vpc(aws: None) -> dict[str, str]:
    """A non-default VPC with one subnet: exact-match revokes fail outright here, as in real AWS."""
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc_id = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
    return {"vpc_id": vpc_id, "subnet_id": subnet}
