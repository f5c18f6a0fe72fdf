"""The sandbox under clients that retry: missing operations fail at once, connection failures are retried,
and stacks apply in dependency order."""

from __future__ import annotations

import time

import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from orgguard.sandbox import Sandbox, SandboxError
from orgguard.sandbox.middleware import ReplayCache
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


def _same_invocation(client, operation: str, invocation: dict[str, str]) -> None:
    def pin(request, **_) -> None:
        request.headers["amz-sdk-invocation-id"] = invocation["id"]

    client.meta.events.register(f"before-send.{client.meta.service_model.service_name}.{operation}", pin)


def test_a_retried_create_is_answered_with_its_first_attempts_response_and_a_new_call_is_not(
    sandbox: Sandbox,
) -> None:
    """A create whose answer the client lost is retried by the SDK (the provider's max_retries, boto3's retries),
    every attempt with the same amz-sdk-invocation-id. Before: the retry reached moto and got
    DuplicatePolicyException / EntityAlreadyExists, failing an apply (fresh-clone suite run, SCP CreatePolicy).
    A separate call, even an identical one, still gets AWS's answer."""
    orgs = sandbox.session().client("organizations")
    invocation = {"id": "11111111-2222-4333-8444-555555555555"}
    _same_invocation(orgs, "CreatePolicy", invocation)
    request = {"Name": "retried", "Description": "t", "Type": "TAG_POLICY", "Content": '{"tags":{}}'}
    first = orgs.create_policy(**request)["Policy"]["PolicySummary"]
    again = orgs.create_policy(**request)["Policy"]["PolicySummary"]  # the same call's second attempt
    assert again["Id"] == first["Id"]
    assert [p["Id"] for p in orgs.list_policies(Filter="TAG_POLICY")["Policies"] if p["Name"] == "retried"] == [
        first["Id"]
    ]
    invocation["id"] = "66666666-7777-4888-9999-000000000000"  # a new call, identical request: AWS's answer
    with pytest.raises(ClientError) as duplicate:
        orgs.create_policy(**request)
    assert duplicate.value.response["Error"]["Code"] == "DuplicatePolicyException"
    orgs.delete_policy(PolicyId=first["Id"])

    iam = sandbox.session().client("iam")  # any service: IAM's query protocol, a global create
    pinned = {"id": "77777777-2222-4333-8444-555555555555"}
    _same_invocation(iam, "CreateRole", pinned)
    trust = '{"Version":"2012-10-17","Statement":[]}'
    made = iam.create_role(RoleName="retried-role", AssumeRolePolicyDocument=trust)["Role"]
    assert iam.create_role(RoleName="retried-role", AssumeRolePolicyDocument=trust)["Role"]["Arn"] == made["Arn"]
    pinned["id"] = "88888888-2222-4333-8444-555555555555"
    with pytest.raises(ClientError) as exists:
        iam.create_role(RoleName="retried-role", AssumeRolePolicyDocument=trust)
    assert exists.value.response["Error"]["Code"] == "EntityAlreadyExists"
    iam.delete_role(RoleName="retried-role")
    log = (sandbox.workdir / "sandbox.log").read_text()
    assert "CreatePolicy retried (amz-sdk-invocation-id 11111111-2222-4333-8444-555555555555)" in log
    assert "CreateRole retried (amz-sdk-invocation-id 77777777-2222-4333-8444-555555555555)" in log


def test_the_replay_cache_is_bounded_in_entries_and_bytes() -> None:
    cache = ReplayCache(max_entries=3, max_bytes=10)
    for i in range(5):
        cache.put(str(i), ("200 OK", [], b"ab"))
    assert [cache.get(str(i)) is not None for i in range(5)] == [False, False, True, True, True]
    cache.put("big", ("200 OK", [], b"x" * 11))  # larger than the whole budget: never kept
    assert cache.get("big") is None
    cache.put("nine", ("200 OK", [], b"x" * 9))  # fits only by dropping the older answers
    assert cache.get("nine") is not None and cache.get("4") is None


def test_a_retry_arriving_while_its_first_attempt_runs_waits_and_gets_that_answer(tmp_path) -> None:
    """A client that gave up waiting (read timeout under load) retries while the sandbox still handles the first
    attempt. Before: the retry reached moto too and got DuplicatePolicyException (a second review's race script)."""
    import threading

    with Sandbox(tmp_path / "sb", latency_ms=1500) as sb:  # the first attempt is still in flight 0.5 s later
        answers: dict[str, str] = {}

        def attempt(tag: str) -> None:
            orgs = sb.session().client("organizations")
            _same_invocation(orgs, "CreatePolicy", {"id": "aaaa1111-2222-4333-8444-555555555555"})
            try:
                answers[tag] = orgs.create_policy(
                    Name="race", Description="t", Type="TAG_POLICY", Content='{"tags":{}}'
                )["Policy"]["PolicySummary"]["Id"]
            except ClientError as exc:
                answers[tag] = exc.response["Error"]["Code"]

        first = threading.Thread(target=attempt, args=("first",))
        first.start()
        time.sleep(0.5)
        retry = threading.Thread(target=attempt, args=("retry",))
        retry.start()
        first.join(30)
        retry.join(30)
        assert answers["first"].startswith("p-") and answers["retry"] == answers["first"], answers


def test_a_retry_of_a_failed_attempt_reaches_moto_again() -> None:
    cache = ReplayCache(wait_s=5)
    assert cache.claim("x") == (None, True)
    cache.finish("x", None)  # the first attempt failed: nothing recorded, so its retry runs for itself
    assert cache.claim("x") == (None, True)


def test_a_duplicate_after_a_connection_failure_rerun_says_what_happened(monkeypatch, tmp_path) -> None:
    """Before: the re-run's DuplicatePolicyException read like a product bug, with no word of the lost answer."""
    from orgguard.sandbox import terraform

    calls = iter([
        terraform._TransportError("terraform apply of s failed: use of closed network connection"),
        SandboxError("terraform apply of s failed (exit 1):\nDuplicatePolicyException: A policy with the same name"),
    ])

    def fake_run(args, cwd, env, stack) -> None:
        raise next(calls)

    monkeypatch.setattr(terraform, "_run", fake_run)
    with pytest.raises(SandboxError) as raised:
        terraform._run_retrying(["terraform", "apply"], tmp_path, {}, "s")
    assert "re-run 2 after a connection failure" in str(raised.value)
    assert "terraform-apply-attempt1.log" in str(raised.value)
