"""Which AWS partition a region belongs to: the one place the plan learns `aws`, `aws-us-gov`, `aws-cn`.

Source: botocore's `data/partitions.json` (the SDKs' endpoint data: each partition's `regionRegex` and
its known `regions`, without the `*-global` pseudo-regions), copied here so synthesis does not change
with the installed botocore; tests/synth/test_partitions.py fails when the installed botocore knows a
region or partition this table lacks. Patterns use ASCII classes (`[a-z0-9_]`, `[0-9]`) where botocore
writes `\\w` and `\\d`, which in Python (and in pydantic's regex engine) also match non-ASCII characters.

Every ARN the plan writes today starts `arn:aws:`, so only the `aws` partition is supported; a region
of another partition is refused at validation (`unsupported_reason`). Code that builds ARNs should take
the partition from `partition_of(region)` so that adding `aws-us-gov` / `aws-cn` later is one change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Partition:
    id: str
    region_regex: re.Pattern[str]
    regions: frozenset[str]
    dns_suffix: str


_AWS_REGIONS = """
    af-south-1 ap-east-1 ap-east-2 ap-northeast-1 ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2
    ap-southeast-1 ap-southeast-2 ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7
    ca-central-1 ca-west-1 eu-central-1 eu-central-2 eu-north-1 eu-south-1 eu-south-2 eu-west-1 eu-west-2
    eu-west-3 il-central-1 me-central-1 me-south-1 me-west-1 mx-central-1 sa-east-1 sa-west-1 us-east-1
    us-east-2 us-west-1 us-west-2
"""


def _p(pid: str, regex: str, regions: str, dns_suffix: str) -> Partition:
    return Partition(pid, re.compile(regex), frozenset(regions.split()), dns_suffix)


PARTITIONS: tuple[Partition, ...] = (
    _p("aws", r"^(us|eu|ap|sa|ca|me|af|il|mx)-[a-z0-9_]+-[0-9]+$", _AWS_REGIONS, "amazonaws.com"),
    _p("aws-cn", r"^cn-[a-z0-9_]+-[0-9]+$", "cn-north-1 cn-northwest-1", "amazonaws.com.cn"),
    _p("aws-eusc", r"^eusc-(de)-[a-z0-9_]+-[0-9]+$", "eusc-de-east-1", "amazonaws.eu"),
    _p("aws-iso", r"^us-iso-[a-z0-9_]+-[0-9]+$", "us-iso-east-1 us-iso-west-1", "c2s.ic.gov"),
    _p("aws-iso-b", r"^us-isob-[a-z0-9_]+-[0-9]+$", "us-isob-east-1 us-isob-west-1", "sc2s.sgov.gov"),
    _p("aws-iso-e", r"^eu-isoe-[a-z0-9_]+-[0-9]+$", "eu-isoe-west-1", "cloud.adc-e.uk"),
    _p("aws-iso-f", r"^us-isof-[a-z0-9_]+-[0-9]+$", "us-isof-east-1 us-isof-south-1", "csp.hci.ic.gov"),
    _p("aws-us-gov", r"^us-gov-[a-z0-9_]+-[0-9]+$", "us-gov-east-1 us-gov-west-1", "amazonaws.com"),
)

SUPPORTED = ("aws",)
_BY_ID = {p.id: p for p in PARTITIONS}


def partition_of(region: str) -> str | None:
    """The partition id of `region`, resolved as botocore does: a listed region first, then the patterns."""
    for p in PARTITIONS:
        if region in p.regions:
            return p.id
    for p in PARTITIONS:
        if p.region_regex.match(region):
            return p.id
    return None


def is_known(region: str) -> bool:
    """True when the endpoint data lists the region (a typo like eu-wset-1 matches a pattern but is not listed)."""
    return any(region in p.regions for p in PARTITIONS)


def unsupported_reason(region: str) -> str | None:
    """Why the plan cannot serve `region` (one clause, no trailing period), or None when it can."""
    partition = partition_of(region)
    if partition is None or not is_known(region):
        return f"{region} is not a region AWS's endpoint data knows; check the spelling (e.g. eu-west-1)"
    if partition not in SUPPORTED:
        return (
            f"{region} is in the {partition} partition, which orgguard does not support yet "
            f"(every ARN it writes is arn:aws:...); use regions of the aws partition"
        )
    return None


def arn(region: str, service: str, account: str, resource: str, *, arn_region: str | None = None) -> str:
    """An ARN in the partition of `region`; `arn_region` is what goes in the region field ('' for global)."""
    partition = partition_of(region)
    if partition is None:
        raise ValueError(f"no partition for region {region!r}")
    return f"arn:{partition}:{service}:{region if arn_region is None else arn_region}:{account}:{resource}"


def dns_suffix(partition: str) -> str:
    return _BY_ID[partition].dns_suffix
