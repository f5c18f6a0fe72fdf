"""Rendered documents embed the tested handler byte for byte; every policy is least-privilege and lints clean."""

from __future__ import annotations

import ast
import json
from functools import cache
from pathlib import Path
from typing import Any

import parliament
import pytest
from parliament import analyze_policy_string

from orgguard.manifest import ACCOUNT_PLACEHOLDER, for_account
from orgguard.runbooks import ACCOUNT, RUNBOOKS, Runbook
from orgguard.runbooks import fast_path as fp

KEYS = sorted(RUNBOOKS)
MEMBER = "123456789012"
ALL_DOCUMENTS_BUDGET = 51_200 - 8_000  # one StackSet template holds them all; leave room for the rest


def _lint(policy: dict[str, Any]) -> list[str]:
    analyzed = analyze_policy_string(json.dumps(for_account(policy, MEMBER)))
    return [f"{f.issue}: {f.detail}" for f in analyzed.findings]


def _lint_trust(policy: dict[str, Any]) -> list[str]:
    """Parliament lints permission policies; a role trust policy has no Resource by design.

    Narrow suppression: drop only the 'neither Resource nor NotResource' MALFORMED finding, and only after
    checking every statement really is an sts:AssumeRole grant to a service principal.
    """
    for statement in policy["Statement"]:
        assert statement["Action"] == "sts:AssumeRole" and set(statement["Principal"]) == {"Service"}
    benign = "MALFORMED: Statement contains neither Resource nor NotResource"
    return [f for f in _lint(policy) if f != benign]


@pytest.mark.parametrize("key", KEYS)
def test_document_is_schema_03_with_one_python311_script_step_embedding_the_handler_byte_for_byte(key: str) -> None:
    runbook = RUNBOOKS[key]
    doc = json.loads(runbook.render_document())

    assert doc["schemaVersion"] == "0.3"
    assert doc["assumeRole"] == "{{ AutomationAssumeRole }}"
    (step,) = doc["mainSteps"]
    assert step["action"] == "aws:executeScript"
    assert step["inputs"]["Runtime"] == "python3.11" and step["inputs"]["Handler"] == "handler"
    assert step["inputs"]["Script"].encode() == runbook.handler_path.read_bytes()
    assert runbook.resource_parameter in doc["parameters"] and "AutomationAssumeRole" in doc["parameters"]
    embedded = {"AccountId", "ApprovedExemptions"} if runbook.embeds_exemptions else set()
    assert set(step["inputs"]["InputPayload"]) == set(doc["parameters"]) - {"AutomationAssumeRole"} | embedded
    assert all(o.startswith(step["name"] + ".") for o in doc["outputs"])


@pytest.mark.parametrize("key", KEYS)
def test_rendering_is_deterministic_and_names_fit_their_limits(key: str) -> None:
    runbook = RUNBOOKS[key]
    assert runbook.render_document() == runbook.render_document()
    assert len(runbook.document_suffix) <= 40 and len(runbook.role_suffix) <= 30
    assert len(runbook.render_document().encode()) < 30_000


def test_all_documents_together_fit_one_stackset_template_with_room_to_spare() -> None:
    total = sum(len(r.render_document().encode()) for r in RUNBOOKS.values())
    assert total < ALL_DOCUMENTS_BUDGET, total


def test_switches_are_strings_because_config_passes_static_values_as_strings() -> None:
    for runbook in RUNBOOKS.values():
        params = json.loads(runbook.render_document())["parameters"]
        for name in ("DryRun", "RollService"):
            if name in params:
                assert params[name]["type"] == "String" and params[name]["allowedValues"] == ["true", "false"]
    sg = json.loads(RUNBOOKS["sg-revoke"].render_document())["parameters"]
    assert sg["RestrictedPorts"]["type"] == "StringList" and sg["ExemptionTagKey"]["default"] == "orgguard:exemption"


@pytest.mark.parametrize("key", KEYS)
def test_permission_policy_has_no_parliament_findings(key: str) -> None:
    assert _lint(RUNBOOKS[key].permission_policy()) == []


@pytest.mark.parametrize("key", KEYS)
def test_trust_policy_admits_only_ssm_automation_of_the_same_account(key: str) -> None:
    trust = RUNBOOKS[key].trust_policy()
    (statement,) = trust["Statement"]
    assert statement["Principal"] == {"Service": "ssm.amazonaws.com"}
    assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert statement["Condition"]["ArnLike"] == {"aws:SourceArn": f"arn:aws:ssm:*:{ACCOUNT}:automation-execution/*"}
    assert _lint_trust(trust) == []


def _handler_operations(runbook: Runbook) -> set[str]:
    """Every operation name the handler source passes to its counting `call` wrapper."""
    tree = ast.parse(runbook.handler_path.read_text())
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "call"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


@pytest.mark.parametrize("key", KEYS)
def test_policy_grants_exactly_the_calls_in_the_handler_source(key: str) -> None:
    runbook = RUNBOOKS[key]
    service = "ec2" if runbook.resource_type.startswith("AWS::EC2") else "ecs"
    assert {f"{service}:{op}" for op in _handler_operations(runbook)} == set(runbook.called_actions())
    source = runbook.handler_path.read_text()
    assert "boto3.client(" in source and source.count("boto3.client(") == 1, "one client, one service"
    assert "orgguard" not in {n.split(".")[0] for n in _imports(source)}


def _imports(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("key", KEYS)
def test_handlers_import_only_the_standard_library_and_boto3(key: str) -> None:
    import sys

    source = RUNBOOKS[key].handler_path.read_text()
    for name in _imports(source):
        top = name.split(".")[0]
        assert top in sys.stdlib_module_names or top in ("boto3", "botocore"), name


@cache
def _resource_level_support() -> dict[str, bool]:
    """action -> whether IAM supports any resource type for it (parliament's bundled IAM definition)."""
    data = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    return {
        f"{svc['prefix']}:{p['privilege']}".lower(): any(r["resource_type"] for r in p["resource_types"])
        for svc in data
        for p in svc["privileges"]
    }


def _all_policies() -> list[tuple[str, dict[str, Any]]]:
    policies = [(k, r.permission_policy()) for k, r in RUNBOOKS.items()]
    policies.append(
        ("fast-path", fp.events_role_permission_policy("orgguard-RevokePublicSgIngress", "orgguard-sg-revoke"))
    )
    return policies


# Read-only grants that must reach resources of other owners, with why. Prefix lists: a rule may name a
# list shared through RAM by another account or an AWS-managed one (ARN account "aws"); scoping to this
# account would make the read fail, and the runbook would then revoke the rule (fail closed).
CROSS_OWNER_READS = {("ec2:GetManagedPrefixListEntries", "arn:aws:ec2:*:*:prefix-list/*")}


@pytest.mark.parametrize(("name", "policy"), _all_policies(), ids=[n for n, _ in _all_policies()])
def test_wildcard_resources_only_where_iam_offers_no_resource_level_permission(
    name: str, policy: dict[str, Any]
) -> None:
    support = _resource_level_support()
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        if "*" in resources:
            assert not any(support[a.lower()] for a in actions), f"{name}: scope {actions} to their resources"
        elif {(a, r) for a in actions for r in resources} <= CROSS_OWNER_READS:
            assert all(support[a.lower()] for a in actions) and all(r.endswith(":prefix-list/*") for r in resources)
        else:
            assert all(f":{ACCOUNT_PLACEHOLDER}:" in r for r in resources), f"{name}: {resources} not account-scoped"


def test_the_prefix_list_grant_is_read_only_and_names_the_prefix_list_resource_type() -> None:
    """Service Authorization Reference: GetManagedPrefixListEntries is a Read action on resource type
    prefix-list (arn:${Partition}:ec2:${Region}:${Account}:prefix-list/${PrefixListId})."""
    data = json.loads((Path(parliament.__file__).parent / "iam_definition.json").read_text())
    ec2 = next(svc for svc in data if svc["prefix"] == "ec2")
    (privilege,) = [p for p in ec2["privileges"] if p["privilege"] == "GetManagedPrefixListEntries"]
    assert privilege["access_level"] == "Read"
    assert {r["resource_type"] for r in privilege["resource_types"]} >= {"prefix-list*"}
    (resource,) = [r for r in ec2["resources"] if r["resource"] == "prefix-list"]
    assert resource["arn"] == "arn:${Partition}:ec2:${Region}:${Account}:prefix-list/${PrefixListId}"
    (grant,) = [g for g in RUNBOOKS["sg-revoke"].grants if "ec2:GetManagedPrefixListEntries" in g.actions]
    assert grant.actions == ("ec2:GetManagedPrefixListEntries",) and grant.resources == (
        "arn:aws:ec2:*:*:prefix-list/*",
    )


APPROVED = [
    {"account_id": "111122223333", "security_group_id": "sg-0123456789abcdef0", "expires": "2030-01-31",
     "owner": "net@example.com", "ticket": "CHG-1"},
]  # fmt: skip


def test_the_sg_document_carries_the_approved_list_and_the_execution_account_not_as_parameters() -> None:
    """Embedded in InputPayload: hashed with the document, and no StartAutomationExecution can override it."""
    doc = json.loads(RUNBOOKS["sg-revoke"].render_document(APPROVED))
    payload = doc["mainSteps"][0]["inputs"]["InputPayload"]
    assert payload["ApprovedExemptions"] == APPROVED
    assert payload["AccountId"] == "{{ global:ACCOUNT_ID }}"  # SSM system variable: the execution's account
    assert not {"ApprovedExemptions", "AccountId"} & set(doc["parameters"])
    empty = RUNBOOKS["sg-revoke"].render_document()
    assert json.loads(empty)["mainSteps"][0]["inputs"]["InputPayload"]["ApprovedExemptions"] == []
    assert empty != RUNBOOKS["sg-revoke"].render_document(APPROVED), "the list must change the document bytes"
    with pytest.raises(ValueError, match="does not take exemptions"):
        RUNBOOKS["ecs-service-public-ip"].render_document(APPROVED)


def test_fast_path_role_policies_lint_clean_and_stay_narrow() -> None:
    policy = fp.events_role_permission_policy("orgguard-RevokePublicSgIngress", "orgguard-sg-revoke")
    assert _lint(policy) == []
    start, pass_role = policy["Statement"]
    assert start["Resource"].endswith(":automation-definition/orgguard-RevokePublicSgIngress:*")
    assert pass_role["Resource"] == f"arn:aws:iam::{ACCOUNT}:role/orgguard-sg-revoke"
    assert pass_role["Condition"] == {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}
    trust = fp.events_role_trust_policy()
    assert trust["Statement"][0]["Principal"] == {"Service": "events.amazonaws.com"}
    assert _lint_trust(trust) == []
