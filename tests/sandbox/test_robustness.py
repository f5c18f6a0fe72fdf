"""The sandbox under clients that retry: missing operations fail at once, connection failures are retried,
and stacks apply in dependency order."""

from __future__ import annotations

import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox, SandboxError
from orgguard.sandbox.terraform import MAX_RETRIES, apply_levels, is_transport_failure, override


@pytest.mark.parametrize(
    ("service", "operation", "kwargs"),
    [
        ("config", "get_discovered_resource_counts", {}),  # JSON protocol
        ("ec2", "describe_capacity_block_offerings", {"CapacityDurationHours": 24}),  # EC2 query protocol
        ("organizations", "list_handshakes_for_account", {}),
    ],
)
def test_an_operation_moto_lacks_answers_501_not_implemented_and_is_not_retried(
    sandbox: Sandbox, service: str, operation: str, kwargs: dict
) -> None:
    # Before: Flask answered 500 with an HTML page, which botocore and the terraform provider's SDK retry.
    client = sandbox.session().client(service, config=Config(retries={"mode": "standard", "max_attempts": 5}))
    started = time.monotonic()
    with pytest.raises(ClientError) as raised:
        getattr(client, operation)(**kwargs)
    response = raised.value.response
    assert response["Error"]["Code"] == "NotImplemented"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert response["ResponseMetadata"]["RetryAttempts"] == 0
    assert time.monotonic() - started < 5


def test_terraform_override_retries_connection_failures() -> None:
    # Before: max_retries = 1, so one dropped connection failed a whole apply.
    block = override({"provider": {"aws": [{"region": "us-east-1", "alias": "x"}]}}, "http://127.0.0.1:1")
    assert block["provider"]["aws"][0]["max_retries"] == MAX_RETRIES >= 3
    assert block["provider"]["aws"][0]["alias"] == "x"


@pytest.mark.parametrize(
    "log",
    [
        'Error: waiting for CloudFormation StackSet Operation: operation error CloudFormation: '
        'DescribeStackSetOperation, https response error StatusCode: 0, request send failed, Post '
        '"http://127.0.0.1:4566/": read tcp 127.0.0.1:5->127.0.0.1:4566: use of closed network connection',
        "dial tcp 127.0.0.1:4566: connect: connection refused",
        "read: connection reset by peer",
    ],
)
def test_connection_failures_are_told_apart_from_api_errors(log: str) -> None:
    assert is_transport_failure(log)


def test_an_api_refusal_is_not_a_transport_failure() -> None:
    assert not is_transport_failure(
        "Error: creating Config Organization Conformance Pack: operation error Config Service: "
        "PutOrganizationConformancePack, https response error StatusCode: 400, api error ValidationException"
    )


def _names(levels: list[list[dict]]) -> list[list[str]]:
    return [sorted(e["name"] for e in level) for level in levels]


def test_stacks_apply_in_the_order_their_dependencies_declare() -> None:
    entries = [
        {"name": "r1", "kind": "org-region", "depends_on": ["global", "mgmt"]},
        {"name": "r2", "kind": "org-region", "depends_on": ["global", "mgmt"]},
        {"name": "mgmt", "kind": "org-management", "depends_on": ["global"]},
        {"name": "global", "kind": "org-global", "depends_on": []},
    ]
    assert _names(apply_levels(entries)) == [["global"], ["mgmt"], ["r1", "r2"]]


def test_without_declared_dependencies_global_then_management_then_regions() -> None:
    # Before: the management stack shared the first level with the global stack.
    entries = [
        {"name": "r1", "kind": "org-region"},
        {"name": "mgmt", "kind": "org-management"},
        {"name": "global", "kind": "org-global"},
    ]
    assert _names(apply_levels(entries)) == [["global"], ["mgmt"], ["r1"]]


def test_a_dependency_cycle_is_refused_with_the_stacks_named() -> None:
    entries = [{"name": "a", "depends_on": ["b"]}, {"name": "b", "depends_on": ["a"]}]
    with pytest.raises(SandboxError, match=r"\['a', 'b'\]"):
        apply_levels(entries)


def test_a_remote_state_backend_is_replaced_by_local_state_in_the_sandbox() -> None:
    # Before: a plan with `state: s3` applied to the sandbox tried to reach the real bucket.
    stack = {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "terraform": {"backend": {"s3": {"bucket": "corp-tf-state", "key": "orgguard/x.tfstate"}}},
    }
    assert override(stack, "http://127.0.0.1:1")["terraform"] == {"backend": {"local": {"path": "terraform.tfstate"}}}
    assert "terraform" not in override({"provider": {"aws": [{}]}}, "http://127.0.0.1:1")
