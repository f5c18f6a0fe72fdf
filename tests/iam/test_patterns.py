"""IAM wildcard and ARN matching, checked against independent oracles (fnmatch, brute force)."""

from __future__ import annotations

import fnmatch
import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from orgguard.iam.patterns import arn_match, pattern_within, wildcard_match

# A small alphabet with the characters that matter: wildcards, ARN separators, a case pair.
ALPHABET = "ab:/*?A"
VALUES = "ab:/A"


def oracle(pattern: str, value: str) -> bool:
    """fnmatch knows * and ? but also [...] classes; this alphabet has no brackets, so it agrees with IAM."""
    return fnmatch.fnmatchcase(value, pattern)


def arn_oracle(pattern: str, value: str) -> bool:
    """Component by component with fnmatch, written independently of the product's splitting."""
    if pattern == "*":
        return True
    vals = value.split(":", 5)
    pats = pattern.split(":", 5)
    if len(vals) != 6:
        return False
    if len(pats) == 6:
        return all(fnmatch.fnmatchcase(v, p) for p, v in zip(pats, vals, strict=True))
    if not pats[-1].endswith("*"):
        return False
    fixed = len(pats) - 1
    return all(fnmatch.fnmatchcase(vals[i], pats[i]) for i in range(fixed)) and fnmatch.fnmatchcase(
        ":".join(vals[fixed:]), pats[-1]
    )


@settings(max_examples=400, deadline=None)
@given(st.text(ALPHABET, max_size=8), st.text(VALUES, max_size=8))
def test_wildcard_match_agrees_with_fnmatch(pattern: str, value: str) -> None:
    assert wildcard_match(pattern, value) == oracle(pattern, value)
    assert wildcard_match(pattern, value, case_sensitive=False) == oracle(pattern.lower(), value.lower())


def test_wildcards_span_separators_and_question_mark_is_one_character() -> None:
    assert wildcard_match("ec2:Describe*", "ec2:DescribeSecurityGroups")
    assert wildcard_match("arn:aws:iam::*:role/stacksets-exec-*", "arn:aws:iam::1:role/stacksets-exec-x/y")
    assert wildcard_match("a?c", "abc") and not wildcard_match("a?c", "ac")
    assert not wildcard_match("iam:CreateRole", "iam:createrole")
    assert wildcard_match("iam:CreateRole", "iam:createrole", case_sensitive=False)


def test_long_inputs_do_not_blow_up() -> None:
    # A classic exponential case for naive backtracking.
    assert not wildcard_match("*a*a*a*a*a*a*a*a*b", "a" * 5000)


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.text("ab*?", max_size=3), min_size=1, max_size=7),
    st.lists(st.text("ab/", max_size=3), min_size=6, max_size=8),
)
def test_arn_match_agrees_with_a_per_component_oracle(pattern_parts: list[str], value_parts: list[str]) -> None:
    pattern, value = ":".join(pattern_parts), ":".join(value_parts)
    assert arn_match(pattern, value) == arn_oracle(pattern, value)


def test_arn_components_are_matched_separately() -> None:
    role = "arn:aws:iam::111122223333:role/AWSControlTowerExecution"
    assert arn_match("arn:aws:iam::*:role/AWSControlTowerExecution", role)
    assert arn_match("arn:*:iam::*:role/AWS*", role)
    # A star in the region component cannot eat the colon before the account.
    assert not arn_match("arn:aws:iam:*:role/x", role)
    assert not arn_match("arn:aws:iam:*:*:role/x", "arn:aws:iam::1:2:role/x")
    assert not arn_match("arn:aws:iam::*:role/awscontroltowerexecution", role)  # case-sensitive
    assert arn_match("*", "*") and not arn_match("arn:aws:ssm:*:*:document/x", "*")
    # A short pattern whose last part ends in * runs over the remaining colons.
    assert arn_match("arn:aws:ssm:*", "arn:aws:ssm:eu-west-1:1:automation-definition/doc:1")


def _matches(pattern: str, alphabet: str, length: int) -> set[str]:
    words = ("".join(p) for n in range(length + 1) for p in itertools.product(alphabet, repeat=n))
    return {w for w in words if oracle(pattern, w)}


@settings(max_examples=300, deadline=None)
@given(st.text("ab*?", max_size=4), st.text("ab*?", max_size=4))
def test_pattern_within_is_sound_against_brute_force(inner: str, outer: str) -> None:
    """Whenever it says inner is within outer, every short string inner matches, outer matches too."""
    if pattern_within(inner, outer):
        assert _matches(inner, "ab", 5) <= _matches(outer, "ab", 5)
