"""The reference EventBridge matcher: AWS's documented examples, and agreement with moto where moto applies."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto.events.models import EventPattern

from .eventbridge import matches

# "Arrays in Amazon EventBridge event patterns": the pattern's first item matches the event's second item.
RESOURCES_PATTERN = {
    "resources": [
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f",
        "arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f",
    ]
}
RESOURCES_EVENT = {
    "resources": [
        "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:"
        "autoScalingGroupName/ASGTerminate",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f",
    ]
}


def test_documented_array_intersection_example() -> None:
    assert matches(RESOURCES_PATTERN, RESOURCES_EVENT)
    assert not matches(RESOURCES_PATTERN, {"resources": RESOURCES_EVENT["resources"][:1]})


def test_fields_inside_arrays_of_objects_are_reached_in_every_element() -> None:
    event = {"a": {"items": [{"b": {"items": [{"c": "10.0.0.0/8"}]}}, {"b": {"items": [{"c": "0.0.0.0/0"}]}}]}}
    assert matches({"a": {"items": {"b": {"items": {"c": ["0.0.0.0/0"]}}}}}, event)
    assert matches({"a": {"items": {"b": {"items": {"c": [{"suffix": "/0"}]}}}}}, event)
    assert not matches({"a": {"items": {"b": {"items": {"c": ["::/0"]}}}}}, event)
    assert matches({"a": {"items": {"b": {"items": {"c": [{"exists": True}]}}}}}, event)
    assert not matches({"a": {"items": {"b": {"items": {"d": [{"exists": True}]}}}}}, event)
    assert matches({"a": {"items": {"b": {"items": {"d": [{"exists": False}]}}}}}, event)


def test_or_joins_alternatives_and_every_other_field_must_still_match() -> None:
    pattern = {"x": ["1"], "$or": [{"y": ["a"]}, {"z": [{"prefix": "b"}]}]}
    assert matches(pattern, {"x": "1", "y": "a"}) and matches(pattern, {"x": "1", "z": "bcd"})
    assert not matches(pattern, {"x": "2", "y": "a"}) and not matches(pattern, {"x": "1", "z": "cb"})


def test_exists_is_about_leaves_and_empty_objects_hold_none() -> None:
    """CloudTrail writes an empty list as {} (e.g. "prefixListIds": {}): no leaf, so exists is false."""
    assert not matches({"p": {"items": {"id": [{"exists": True}]}}}, {"p": {}})
    assert not matches({"p": [{"exists": True}]}, {"p": {"id": "x"}})


def test_unsupported_filters_are_refused_rather_than_guessed() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        matches({"n": [{"numeric": [">", 1]}]}, {"n": 2})
    with pytest.raises(ValueError, match="object or a non-empty array"):
        matches({"n": []}, {"n": 2})


def _moto(pattern: dict[str, Any], event: dict[str, Any]) -> bool:
    raw = json.dumps(pattern)
    return EventPattern(raw, json.loads(raw)).matches_event(event)


leaf = st.sampled_from(["a", "ab", "b/0", "0.0.0.0/0", "::/0", "10.0.0.0/8"])
flt = st.one_of(
    leaf,
    st.builds(lambda v: {"prefix": v}, st.sampled_from(["a", "b", "0.", ":"])),
    st.builds(lambda v: {"suffix": v}, st.sampled_from(["/0", "b", "8"])),
    st.builds(lambda v: {"exists": v}, st.booleans()),
)
keys = st.sampled_from(["k1", "k2", "k3"])
flat_event = st.dictionaries(keys, st.one_of(leaf, st.lists(leaf, min_size=1, max_size=3)), max_size=3)
flat_pattern = st.dictionaries(keys, st.lists(flt, min_size=1, max_size=3), min_size=1, max_size=3)


@settings(max_examples=400, deadline=None)
@given(event=flat_event, pattern=flat_pattern, alternatives=st.lists(flat_pattern, max_size=3))
def test_agrees_with_moto_on_events_without_arrays_of_objects(
    event: dict[str, Any], pattern: dict[str, Any], alternatives: list[dict[str, Any]]
) -> None:
    """moto implements EventBridge's leaf filters and $or; it only lacks arrays of objects."""
    full = {"detail": dict(pattern, **({"$or": alternatives} if alternatives else {}))}
    assert matches(full, {"detail": event}) == _moto(full, {"detail": event})


def test_wildcard_follows_the_documented_semantics() -> None:
    """EventBridge user guide, "Wildcard matching": `*` is any run of characters, case-sensitive, whole string;
    `\\*` and `\\\\` are literal; other escapes and `**` are refused."""
    assert matches({"f": [{"wildcard": "dir/*.png"}]}, {"f": "dir/a/b.png"})
    assert matches({"f": [{"wildcard": "a*"}]}, {"f": "a"})
    assert not matches({"f": [{"wildcard": "dir/*.png"}]}, {"f": "Dir/a.png"})
    assert not matches({"f": [{"wildcard": "dir/*.png"}]}, {"f": "dir/a.png.bak"})
    assert matches({"f": [{"wildcard": "a\\*b"}]}, {"f": "a*b"}) and not matches({"f": [{"wildcard": "a\\*b"}]},
                                                                             {"f": "axb"})
    assert matches({"f": [{"wildcard": "a\\\\*"}]}, {"f": "a\\bc"})
    for bad in ("a**b", "a\\b"):
        with pytest.raises(ValueError, match="wildcard"):
            matches({"f": [{"wildcard": bad}]}, {"f": "ab"})


wild_value = st.text(alphabet="ab:/*\\A", max_size=8)
wild_pattern = st.lists(st.sampled_from(["a", "b", ":", "/", "A", "*", "\\*", "\\\\"]), max_size=6).map("".join).filter(
    lambda p: "**" not in p.replace("\\*", "").replace("\\\\", ""))


@settings(max_examples=400, deadline=None)
@given(value=wild_value, pattern=wild_pattern)
def test_wildcard_agrees_with_moto(value: str, pattern: str) -> None:
    try:
        ours = matches({"f": [{"wildcard": pattern}]}, {"f": value})
    except ValueError:  # consecutive wildcards after unescaping: EventBridge refuses the pattern
        return
    assert ours == _moto({"f": [{"wildcard": pattern}]}, {"f": value})
