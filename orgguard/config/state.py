"""The governance file's `state:` section: where terraform keeps each stack's state.

`local` (the default) keeps `terraform.tfstate` in each stack directory, which synth never touches
(docs/operators.md, "State"). `s3` gives every stack its own object `<key_prefix>/<stack name>.tfstate`
in one bucket, with S3-native locking (`use_lockfile`, terraform >= 1.10).

Sources for the rules checked here:
- bucket names: https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
- object keys ("safe characters"): https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html
- backend arguments: https://developer.hashicorp.com/terraform/language/backend/s3 (bucket, key, region,
  use_lockfile, dynamodb_table, kms_key_id, encrypt, and the `assume_role` object that replaced the
  top-level role_arn); exercised with terraform 1.11.4 in tests/synth/test_backend.py.
- an SSE-KMS key must be in the bucket's region:
  https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
"""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# ASCII classes only: pydantic's and Python's \d also match non-ASCII digits.
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]{1,2}$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_KEY_SEGMENT = re.compile(r"^[A-Za-z0-9!_.*'()-]+$")
KEY_PREFIX_MAX = 512  # S3 keys are <= 1,024 bytes; leaves room for "/<stack name>.tfstate" and workspaces
_DYNAMODB_TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
_PARTITION = r"aws(-cn|-us-gov)?"
_ROLE_ARN = re.compile(rf"^arn:{_PARTITION}:iam::[0-9]{{12}}:role/[A-Za-z0-9+=,.@_/-]{{1,512}}$")
_KMS_ARN = re.compile(
    rf"^arn:(?P<partition>{_PARTITION}):kms:(?P<region>[a-z0-9-]+):[0-9]{{12}}:"
    r"(key/(mrk-[0-9a-f]{32}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})|alias/[A-Za-z0-9/_-]{1,250})$"
)
_S3_ONLY = ("bucket", "region", "key_prefix", "use_lockfile", "dynamodb_table", "kms_key_id", "role_arn")


def region_partition(region: str) -> str:
    """The ARN partition of a region (China and GovCloud have their own), as ARNs in them must name it."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def bucket_problem(name: str) -> str | None:
    """Why `name` is not a valid S3 general purpose bucket name, or None."""
    if not _BUCKET.match(name):
        return (
            f"{name!r} is not an S3 bucket name: 3-63 lowercase letters, digits, dots and hyphens, "
            "starting and ending with a letter or digit"
        )
    if ".." in name:
        return f"{name!r} has two adjacent dots, which S3 bucket names may not; use the bucket's exact name"
    try:
        ipaddress.IPv4Address(name)
        return f"{name!r} is formatted as an IP address, which S3 bucket names may not be"
    except ValueError:
        pass
    for prefix in _BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"{name!r} starts with {prefix!r}, which S3 reserves; use the bucket's exact name"
    for suffix in _BUCKET_SUFFIXES:
        if name.endswith(suffix):
            return (
                f"{name!r} ends with {suffix!r}, which S3 reserves for access point aliases and other "
                "non-bucket names; name the bucket itself"
            )
    return None


def key_prefix_problem(prefix: str) -> str | None:
    """Why `prefix` cannot start every state key, or None (S3's safe characters, `/`-separated)."""
    if len(prefix) > KEY_PREFIX_MAX:
        return f"is {len(prefix)} characters; keep it under {KEY_PREFIX_MAX}"
    if prefix.startswith("/") or prefix.endswith("/"):
        return f"{prefix!r} starts or ends with '/'; write it without (terraform refuses such keys), e.g. orgguard"
    for segment in prefix.split("/"):
        if not segment:
            return f"{prefix!r} contains '//'; separate folders with one '/'"
        if segment in (".", ".."):
            return f"{prefix!r} has a {segment!r} folder, which S3 stores literally; remove it"
        if not _KEY_SEGMENT.match(segment):
            return (
                f"{prefix!r} uses characters outside S3's safe set; use letters, digits, "
                "! - _ . * ' ( ) and '/' between folders"
            )
    return None


class State(BaseModel):
    """Where terraform keeps each stack's state; the same backend for every stack, one key per stack."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["local", "s3"] = Field(
        "local",
        description="local: terraform.tfstate in each stack directory (synth never touches it); "
        "s3: one object per stack in `bucket`",
    )
    bucket: str | None = Field(None, description="s3: the state bucket (it must exist, versioning recommended)")
    region: str | None = Field(None, description="s3: the bucket's region")
    key_prefix: str = Field(
        "orgguard",
        description="s3: each stack's state is <key_prefix>/<stack name>.tfstate (one per account in account mode)",
    )
    use_lockfile: bool = Field(
        True, description="s3: S3-native state locking (a <key>.tflock object; terraform >= 1.10)"
    )
    dynamodb_table: str | None = Field(
        None,
        description="s3: DynamoDB table for locking, the older mechanism terraform deprecates; "
        "set it beside use_lockfile while migrating",
    )
    kms_key_id: str | None = Field(
        None, description="s3: ARN of the KMS key that encrypts the state (in the bucket's region)"
    )
    role_arn: str | None = Field(
        None, description="s3: IAM role terraform assumes to read and write the state (the backend's assume_role)"
    )

    @model_validator(mode="after")
    def _consistent(self) -> State:
        problems: list[str] = []
        if self.backend == "local":
            for name in _S3_ONLY:
                if name in self.model_fields_set:
                    problems.append(f"@.{name}: only used with backend: s3; add backend: s3, or remove {name}")
            if problems:
                raise ValueError("\n".join(problems))
            return self
        if self.bucket is None:
            problems.append("@.bucket: backend: s3 needs the state bucket; add bucket: <bucket name>")
        elif problem := bucket_problem(self.bucket):
            problems.append(f"@.bucket: {problem}")
        if self.region is None:
            problems.append("@.region: backend: s3 needs the bucket's region; add region: <region, e.g. eu-west-1>")
        elif not _REGION.match(self.region):
            problems.append(f"@.region: {self.region!r} is not a region code; use one like eu-west-1")
        if problem := key_prefix_problem(self.key_prefix):
            problems.append(f"@.key_prefix: {problem}")
        if self.dynamodb_table is not None and not _DYNAMODB_TABLE.match(self.dynamodb_table):
            problems.append(
                f"@.dynamodb_table: {self.dynamodb_table!r} is not a DynamoDB table name (3-255 letters, digits, _ . -)"
            )
        if not self.use_lockfile and self.dynamodb_table is None:
            problems.append(
                "@.use_lockfile: false with no dynamodb_table leaves the state unlocked, so two applies at once "
                "can corrupt it; keep use_lockfile: true (or name a dynamodb_table)"
            )
        partition = region_partition(self.region) if self.region and _REGION.match(self.region) else None
        if self.role_arn is not None:
            if not _ROLE_ARN.match(self.role_arn):
                problems.append(
                    f"@.role_arn: {self.role_arn!r} is not an IAM role ARN; use arn:aws:iam::<account id>:role/<name>"
                )
            elif partition and self.role_arn.split(":")[1] != partition:
                problems.append(
                    f"@.role_arn: is in partition {self.role_arn.split(':')[1]}, but {self.region} is in "
                    f"{partition}; use the role's ARN in {partition}"
                )
        if self.kms_key_id is not None:
            match = _KMS_ARN.match(self.kms_key_id)
            if not match:
                problems.append(
                    f"@.kms_key_id: {self.kms_key_id!r} is not a KMS key ARN; use "
                    "arn:aws:kms:<region>:<account id>:key/<key id> (or an alias ARN)"
                )
            elif self.region and match["region"] != self.region:
                problems.append(
                    f"@.kms_key_id: the key is in {match['region']}, the bucket in {self.region}; S3 encrypts "
                    "only with a KMS key of the bucket's region"
                )
            elif partition and match["partition"] != partition:
                problems.append(
                    f"@.kms_key_id: is in partition {match['partition']}, but {self.region} is in {partition}"
                )
        if problems:
            raise ValueError("\n".join(problems))
        return self
