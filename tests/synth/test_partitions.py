"""Regions and partitions (issue 8, build item 4): every ARN is written for the `aws` partition, so a
region of another partition, a region AWS does not know, or regions of two partitions are refused."""

from __future__ import annotations

import json
from pathlib import Path

import botocore
import pytest
import yaml

from orgguard import partition
from orgguard.config.load import ConfigError, parse_governance
from tests.synth.conftest import EXAMPLE

BASE = EXAMPLE.read_text()
REGIONS_LINE = "  regions: [us-east-1, eu-west-1, ap-northeast-1]"


def _botocore_partitions() -> list[dict]:
    return json.loads((Path(botocore.__file__).parent / "data" / "partitions.json").read_text())["partitions"]


def test_the_table_knows_every_partition_and_region_botocore_knows():
    ours = {p.id: p for p in partition.PARTITIONS}
    for p in _botocore_partitions():
        assert p["id"] in ours, f"botocore knows partition {p['id']}; add it to orgguard/partition.py"
        regions = {r for r in p["regions"] if not r.endswith("-global")}
        assert regions <= ours[p["id"]].regions, f"add {sorted(regions - ours[p['id']].regions)} to {p['id']}"
        for region in regions:
            assert partition.partition_of(region) == p["id"], region


@pytest.mark.parametrize(
    ("region", "expected"),
    [
        ("us-east-1", "aws"),
        ("mx-central-1", "aws"),
        ("us-gov-west-1", "aws-us-gov"),
        ("cn-northwest-1", "aws-cn"),
        ("us-isob-east-1", "aws-iso-b"),
        ("eusc-de-east-1", "aws-eusc"),
        ("eu-west-9", "aws"),  # a future region still resolves by pattern, as botocore does
        ("tokyo", None),
        ("us-east-１", None),  # noqa: RUF001 - a full-width digit matches \d, not [0-9]
    ],
)
def test_partition_of(region, expected):
    assert partition.partition_of(region) == expected


def test_arns_take_the_partition_of_their_region():
    assert partition.arn("us-gov-west-1", "iam", "123456789012", "role/r", arn_region="") == (
        "arn:aws-us-gov:iam::123456789012:role/r"
    )
    assert partition.arn("eu-west-1", "ssm", "123456789012", "document/d") == (
        "arn:aws:ssm:eu-west-1:123456789012:document/d"
    )


def _problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse_governance(text, "g.yaml")
    return exc.value.problems


def test_a_govcloud_region_is_refused_and_two_partitions_in_one_file_are_named():
    text = BASE.replace(REGIONS_LINE, "  regions: [us-east-1, eu-west-1, ap-northeast-1, us-gov-west-1]")
    assert _problems(text) == [
        "organization.regions: mixes partitions (aws: us-east-1, eu-west-1, ap-northeast-1; aws-us-gov: "
        "us-gov-west-1); one file deploys to one partition: write one file per partition",
        "organization.regions[3]: us-gov-west-1 is in the aws-us-gov partition, which orgguard does not support "
        "yet (every ARN it writes is arn:aws:...); use regions of the aws partition",
    ]


def test_a_china_only_file_is_refused_naming_each_region():
    text = BASE.replace(REGIONS_LINE, "  regions: [cn-north-1]").replace(
        "home_region: us-east-1", "home_region: cn-north-1"
    )
    problems = _problems(text)
    assert problems == [
        "organization.home_region: cn-north-1 is in the aws-cn partition, which orgguard does not support yet "
        "(every ARN it writes is arn:aws:...); use regions of the aws partition",
        "organization.regions[0]: cn-north-1 is in the aws-cn partition, which orgguard does not support yet "
        "(every ARN it writes is arn:aws:...); use regions of the aws partition",
    ]


def test_a_misspelt_region_is_refused():
    text = BASE.replace(REGIONS_LINE, "  regions: [us-east-1, eu-wset-1, ap-northeast-1]")
    assert _problems(text) == [
        "organization.regions[1]: eu-wset-1 is not a region AWS's endpoint data knows; check the spelling "
        "(e.g. eu-west-1)"
    ]


def test_every_aws_region_is_accepted():
    regions = sorted(partition.PARTITIONS[0].regions)
    data = yaml.safe_load(BASE)
    data["organization"]["regions"] = regions
    data["controls"]["ecs-readonly-root-filesystem"] = {"enabled": False}  # not offered everywhere
    gov = parse_governance(yaml.safe_dump(data), "g.yaml")
    assert gov.organization.regions == regions
