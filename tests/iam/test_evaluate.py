"""The policy evaluator: each rule of IAM's logic it implements, then random statements against a reference."""

from __future__ import annotations

import fnmatch
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orgguard.iam.evaluate import Decision, Request, UnsupportedPolicy, decide, scp_decision, statement_applies

from .test_patterns import arn_oracle

ROLE = "arn:aws:iam::111122223333:role/Dev"
DOC = "arn:aws:ssm:eu-west-1:111122223333:document/orgguard-sg-revoke"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def deny(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Deny", "Action": action, "Resource": resource, **extra}


def allow(action: Any = "*", resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def req(action: str, resource: str = "*", **context: Any) -> Request:
    return Request(action, resource, {k.replace("__", ":"): v for k, v in context.items()})


def test_explicit_deny_wins_over_any_allow_and_nothing_is_implicit_deny() -> None:
    r = req("ssm:UpdateDocument", DOC)
    assert decide([policy(allow())], r) is Decision.ALLOW
    assert decide([policy(allow()), policy(deny("ssm:UpdateDocument", DOC))], r) is Decision.EXPLICIT_DENY
    assert decide([policy(deny("ssm:DeleteDocument", DOC))], r) is Decision.IMPLICIT_DENY
    assert scp_decision([], r) is Decision.ALLOW  # FullAWSAccess alone allows
    assert scp_decision([policy(deny("ssm:*"))], r) is Decision.EXPLICIT_DENY


def test_actions_ignore_case_and_take_wildcards_notaction_inverts() -> None:
    r = req("SSM:updatedocument", DOC)
    assert statement_applies(deny("ssm:UpdateDocument", DOC), r)
    assert statement_applies(deny("ssm:Update*", DOC), r)
    assert statement_applies(deny("ssm:?pdateDocument", DOC), r)
    assert not statement_applies(deny("ssm:Delete*", DOC), r)
    assert not statement_applies({"Effect": "Deny", "NotAction": "ssm:*", "Resource": "*"}, r)
    assert statement_applies({"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}, r)


def test_resources_are_arns_case_sensitive_and_actions_without_resources_are_requested_on_star() -> None:
    assert statement_applies(deny("*", "arn:aws:ssm:*:*:document/orgguard-*"), req("ssm:UpdateDocument", DOC))
    assert not statement_applies(deny("*", "arn:aws:ssm:*:*:document/OrgGuard-*"), req("ssm:UpdateDocument", DOC))
    assert not statement_applies(deny("*", "arn:aws:ssm:*:*:document/app-*"), req("ssm:UpdateDocument", DOC))
    assert statement_applies({"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::*"}, req("x:Y", DOC))
    # PutRemediationExceptions has no resource type: the request is on "*", which an ARN pattern never matches.
    scoped = deny("config:PutRemediationExceptions", "arn:aws:config:*:*:remediation-configuration/*")
    assert not statement_applies(scoped, req("config:PutRemediationExceptions"))
    assert statement_applies(deny("config:PutRemediationExceptions", "*"), req("config:PutRemediationExceptions"))


EXEMPT = {"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::*:role/CT"]}}


def test_arn_not_like_exempts_only_matching_principals_and_is_true_when_the_key_is_missing() -> None:
    st_ = deny("*", "*", Condition=EXEMPT)
    assert statement_applies(st_, req("a:B", aws__PrincipalArn=ROLE))
    assert not statement_applies(st_, req("a:B", aws__PrincipalArn="arn:aws:iam::1:role/stacksets-exec-9f"))
    assert not statement_applies(st_, req("a:B", aws__PrincipalArn="arn:aws:iam::1:role/CT"))
    assert statement_applies(st_, req("a:B", aws__PrincipalArn="arn:aws:iam::1:role/CT2"))
    assert statement_applies(st_, req("a:B", aws__PrincipalArn="arn:aws:iam::1:role/ct"))
    assert statement_applies(st_, req("a:B", AWS__PRINCIPALARN=ROLE))  # keys ignore case
    assert statement_applies(st_, req("a:B"))  # negated operator, key absent: true


def test_positive_operators_are_false_without_the_key_unless_if_exists() -> None:
    like = deny(Condition={"StringLike": {"aws:PrincipalTag/team": "sec*"}})
    assert not statement_applies(like, req("a:B"))
    assert statement_applies(like, req("a:B", **{"aws__PrincipalTag/team": "security"}))
    if_exists = deny(Condition={"StringLikeIfExists": {"aws:PrincipalTag/team": "sec*"}})
    assert statement_applies(if_exists, req("a:B"))
    assert not statement_applies(if_exists, req("a:B", **{"aws__PrincipalTag/team": "dev"}))


def test_values_or_keys_and_operators_and() -> None:
    cond = {
        "StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-west-2"], "aws:PrincipalAccount": "1"},
        "ArnLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/*"},
    }
    st_ = deny(Condition=cond)
    good = {
        "aws__RequestedRegion": "eu-west-2",
        "aws__PrincipalAccount": "1",
        "aws__PrincipalArn": "arn:aws:iam::1:role/x",
    }
    assert statement_applies(st_, req("a:B", **good))
    assert not statement_applies(st_, req("a:B", **{**good, "aws__RequestedRegion": "us-east-1"}))
    assert not statement_applies(st_, req("a:B", **{**good, "aws__PrincipalAccount": "2"}))
    assert not statement_applies(st_, req("a:B", **{**good, "aws__PrincipalArn": "arn:aws:iam::1:user/x"}))


def test_string_variants_bool_and_null() -> None:
    assert statement_applies(deny(Condition={"StringEqualsIgnoreCase": {"k": "ABC"}}), req("a:B", k="abc"))
    assert not statement_applies(deny(Condition={"StringEquals": {"k": "ABC"}}), req("a:B", k="abc"))
    assert statement_applies(deny(Condition={"StringNotEquals": {"k": ["x", "y"]}}), req("a:B", k="z"))
    assert not statement_applies(deny(Condition={"StringNotEquals": {"k": ["x", "y"]}}), req("a:B", k="y"))
    assert statement_applies(
        deny(Condition={"Bool": {"aws:SecureTransport": False}}), req("a:B", aws__SecureTransport="false")
    )
    assert statement_applies(deny(Condition={"Null": {"aws:TokenIssueTime": "true"}}), req("a:B"))
    assert not statement_applies(
        deny(Condition={"Null": {"aws:TokenIssueTime": "true"}}), req("a:B", aws__TokenIssueTime="t")
    )
    assert statement_applies(
        deny(Condition={"ArnEquals": {"k": "arn:aws:iam::*:role/x"}}), req("a:B", k="arn:aws:iam::1:role/x")
    )


def test_set_qualifiers_on_multivalued_keys() -> None:
    tags = {"aws__TagKeys": ["owner", "cost"]}
    any_owner = deny(Condition={"ForAnyValue:StringEquals": {"aws:TagKeys": "owner"}})
    all_known = deny(Condition={"ForAllValues:StringEquals": {"aws:TagKeys": ["owner", "cost", "env"]}})
    assert statement_applies(any_owner, req("a:B", **tags))
    assert not statement_applies(any_owner, req("a:B"))  # ForAnyValue: no values, no match
    assert statement_applies(all_known, req("a:B", **tags))
    assert not statement_applies(all_known, req("a:B", aws__TagKeys=["owner", "x"]))
    assert statement_applies(all_known, req("a:B"))  # ForAllValues: vacuously true
    with pytest.raises(UnsupportedPolicy, match="ForAnyValue"):
        statement_applies(deny(Condition={"StringEquals": {"aws:TagKeys": "owner"}}), req("a:B", **tags))


@pytest.mark.parametrize(
    "statement",
    [
        deny(Condition={"NumericLessThan": {"k": "1"}}),
        deny(Condition={"ForSomeValues:StringEquals": {"k": "1"}}),
        deny("*", "arn:aws:s3:::${aws:username}/*"),
        {"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"},
        {"Effect": "Deny", "Action": "*"},
        {"Effect": "deny", "Action": "*", "Resource": "*"},
    ],
)
def test_what_it_does_not_implement_is_refused_not_guessed(statement: dict[str, Any]) -> None:
    with pytest.raises(UnsupportedPolicy):
        decide([policy(statement)], req("a:B", k="0"))


# -- random statements against a reference written independently, with fnmatch ---------------------

ACTIONS = ["config:PutRemediationExceptions", "iam:CreateRole", "ssm:UpdateDocument", "events:PutRule"]
ACTION_PATTERNS = [*ACTIONS, "config:*", "iam:*Role", "*", "SSM:update*", "events:Put?ule"]
RESOURCES = ["*", DOC, "arn:aws:iam::1:role/orgguard-x", "arn:aws:iam::1:role/app", "arn:aws:events:eu-west-1:1:rule/r"]
RESOURCE_PATTERNS = [
    "*",
    "arn:aws:ssm:*:*:document/orgguard-*",
    "arn:aws:iam::*:role/orgguard-*",
    "arn:aws:*",
    "arn:aws:events:*:*:rule/*",
]
PRINCIPALS = [
    "arn:aws:iam::1:role/Dev",
    "arn:aws:iam::1:role/stacksets-exec-1",
    "arn:aws:iam::1:role/CT",
    "arn:aws:iam::1:root",
]
PRINCIPAL_PATTERNS = [
    "arn:aws:iam::*:role/stacksets-exec-*",
    "arn:aws:iam::*:role/CT",
    "arn:*:iam::1:role/*",
    "arn:aws:iam::*:root",
]
OPERATORS = ["ArnNotLike", "ArnLike", "StringLike", "StringNotLike", "StringEquals"]


def reference(statement: dict[str, Any], action: str, resource: str, principal: str | None) -> bool:
    def listed(v: Any) -> list[str]:
        return v if isinstance(v, list) else [v]

    key = "Action" if "Action" in statement else "NotAction"
    hit = any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in listed(statement[key]))
    if hit != (key == "Action"):
        return False
    key = "Resource" if "Resource" in statement else "NotResource"
    hit = any(arn_oracle(r, resource) for r in listed(statement[key]))
    if hit != (key == "Resource"):
        return False
    for op, block in statement.get("Condition", {}).items():
        patterns = listed(block["aws:PrincipalArn"])
        negated = "Not" in op
        if principal is None:
            ok = negated
        elif op.startswith("Arn"):
            ok = any(arn_oracle(p, principal) for p in patterns) != negated
        elif op == "StringEquals":
            ok = principal in patterns
        else:
            ok = any(fnmatch.fnmatchcase(principal, p) for p in patterns) != negated
        if not ok:
            return False
    return True


@st.composite
def statements(draw: st.DrawFn) -> dict[str, Any]:
    out: dict[str, Any] = {"Effect": draw(st.sampled_from(["Allow", "Deny"]))}
    actions = draw(st.lists(st.sampled_from(ACTION_PATTERNS), min_size=1, max_size=3))
    out[draw(st.sampled_from(["Action", "NotAction"]))] = actions if len(actions) > 1 else actions[0]
    resources = draw(st.lists(st.sampled_from(RESOURCE_PATTERNS), min_size=1, max_size=3))
    out[draw(st.sampled_from(["Resource", "NotResource"]))] = resources
    if draw(st.booleans()):
        ops = draw(st.lists(st.sampled_from(OPERATORS), min_size=1, max_size=2, unique=True))
        out["Condition"] = {
            op: {"aws:PrincipalArn": draw(st.lists(st.sampled_from(PRINCIPAL_PATTERNS), min_size=1, max_size=3))}
            for op in ops
        }
    return out


@settings(max_examples=500, deadline=None)
@given(
    statements(),
    st.sampled_from(ACTIONS),
    st.sampled_from(RESOURCES),
    st.one_of(st.none(), st.sampled_from(PRINCIPALS)),
)
def test_random_statements_agree_with_the_reference(
    statement: dict[str, Any], action: str, resource: str, principal: str | None
) -> None:
    context = {} if principal is None else {"aws:PrincipalArn": principal}
    assert statement_applies(statement, Request(action, resource, context)) == reference(
        statement, action, resource, principal
    )


# -- policy variables in condition values -----------------------------------------------------------

SAME_ACCOUNT = {"StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}}


def test_a_variable_in_a_condition_value_takes_the_requests_value() -> None:
    role = "arn:aws:iam::222222222222:role/AWSAFTExecution"
    st_ = deny("sts:AssumeRole", "*", Condition=SAME_ACCOUNT)
    same = req("sts:AssumeRole", role, aws__ResourceAccount="222222222222", aws__PrincipalAccount="222222222222")
    other = req("sts:AssumeRole", role, aws__ResourceAccount="222222222222", aws__PrincipalAccount="333333333333")
    assert statement_applies(st_, same) and not statement_applies(st_, other)
    # Before variables were evaluated, this statement was refused outright.
    negated = deny("sts:AssumeRole", "*", Condition={"StringNotEquals": SAME_ACCOUNT["StringEquals"]})
    assert statement_applies(negated, other) and not statement_applies(negated, same)


def test_variable_defaults_literals_and_missing_keys() -> None:
    st_ = deny(Condition={"StringLike": {"aws:PrincipalTag/team": "${aws:PrincipalTag/owner, 'none'}-*"}})
    assert statement_applies(st_, Request("a:B", "*", {"aws:PrincipalTag/team": "none-x"}))
    tagged = {"aws:PrincipalTag/team": "ops-x", "aws:PrincipalTag/owner": "ops"}
    assert statement_applies(st_, Request("a:B", "*", tagged))
    assert not statement_applies(st_, Request("a:B", "*", {**tagged, "aws:PrincipalTag/owner": "dev"}))
    # ${*} is a literal *, not a wildcard
    literal = deny(Condition={"StringEquals": {"k": "a${*}"}})
    assert statement_applies(literal, req("a:B", k="a*")) and not statement_applies(literal, req("a:B", k="ab"))
    with pytest.raises(UnsupportedPolicy, match="literal"):
        statement_applies(deny(Condition={"StringLike": {"k": "a${*}"}}), req("a:B", k="a*"))
    with pytest.raises(UnsupportedPolicy, match="no value in the request"):
        statement_applies(deny(Condition=SAME_ACCOUNT), req("a:B", aws__ResourceAccount="1"))
    with pytest.raises(UnsupportedPolicy, match="malformed"):
        statement_applies(deny(Condition={"StringEquals": {"k": "${aws:PrincipalAccount"}}), req("a:B", k="1"))


ACCOUNTS = [None, "111111111111", "222222222222"]
VAR_OPERATORS = ["StringEquals", "StringNotEquals", "StringEqualsIfExists", "StringNotEqualsIfExists", "StringLike"]


def variable_reference(op: str, principal_account: str | None, resource_account: str | None) -> bool:
    """Written from the IAM docs: substitute, then compare; a missing key is false, or true when negated or
    IfExists."""
    negated = "Not" in op
    if resource_account is None:
        return negated or op.endswith("IfExists")
    equal = resource_account == principal_account
    return equal != negated


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(VAR_OPERATORS), st.sampled_from(ACCOUNTS[1:]), st.sampled_from(ACCOUNTS))
def test_random_variable_conditions_agree_with_the_reference(
    op: str, principal_account: str, resource_account: str | None
) -> None:
    statement = deny(Condition={op: {"aws:ResourceAccount": "${aws:PrincipalAccount}"}})
    context = {"aws:PrincipalAccount": principal_account}
    if resource_account is not None:
        context["aws:ResourceAccount"] = resource_account
    assert statement_applies(statement, Request("sts:AssumeRole", "*", context)) == variable_reference(
        op, principal_account, resource_account
    )
