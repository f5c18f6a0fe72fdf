"""The governance file's `state:` section: one remote state per stack, checked by real terraform.

The S3 backend block synth writes is initialised by terraform 1.11 against moto's S3 (its own
server on 127.0.0.1); the lock test shows S3-native locking (`use_lockfile`) is in force."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
import yaml

from orgguard.synth.build import synthesize
from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE, ROOT, run_cli, stack_json, variant

BUCKET = "orgguard-state-test"
KMS = "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROLE = "arn:aws:iam::111111111111:role/orgguard-state"


def _with_state(state: dict):
    def edit(data: dict) -> None:
        data["state"] = state

    return edit


def _account_variant(tmp: Path, name: str, state: dict) -> Path:
    data = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    data["state"] = state
    path = tmp / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


S3 = {"backend": "s3", "bucket": BUCKET, "region": "eu-west-1", "key_prefix": "landing-zone/orgguard"}


def test_default_is_local_state_in_each_stack_directory(org_out: Path, org_manifest) -> None:
    for entry in org_manifest.stacks:
        assert stack_json(org_out, entry.name)["terraform"]["backend"] == {"local": {"path": "terraform.tfstate"}}
        assert entry.backend.type == "local" and entry.backend.path == "terraform.tfstate"


def test_s3_gives_every_organization_stack_its_own_key(tmp_path: Path) -> None:
    state = {**S3, "kms_key_id": KMS, "role_arn": ROLE, "dynamodb_table": "tf-locks"}
    out = tmp_path / "out"
    manifest = synthesize(variant(tmp_path, "s3.yaml", _with_state(state)), out)
    keys = []
    for entry in manifest.stacks:
        backend = stack_json(out, entry.name)["terraform"]["backend"]
        assert list(backend) == ["s3"]
        s3 = backend["s3"]
        assert s3 == {
            "bucket": BUCKET,
            "key": f"landing-zone/orgguard/{entry.name}.tfstate",
            "region": "eu-west-1",
            "encrypt": True,
            "use_lockfile": True,
            "kms_key_id": KMS,
            "dynamodb_table": "tf-locks",
            "assume_role": {"role_arn": ROLE},
        }
        assert entry.backend.key == s3["key"] and entry.backend.type == "s3"
        keys.append(s3["key"])
    assert len(keys) == len(set(keys)) == len(manifest.stacks) >= 3


def test_s3_in_account_mode_gives_one_key_per_account(tmp_path: Path) -> None:
    out = tmp_path / "out"
    manifest = synthesize(_account_variant(tmp_path, "acct.yaml", S3), out)
    keys = {
        entry.account_id: stack_json(out, entry.name)["terraform"]["backend"]["s3"]["key"] for entry in manifest.stacks
    }
    assert set(keys) == set(manifest.accounts) and len(set(keys.values())) == len(keys) >= 2
    for account, key in keys.items():
        assert key == f"landing-zone/orgguard/orgguard-account-{account}.tfstate"


def test_hcl_output_carries_the_same_backend(tmp_path: Path) -> None:
    out = tmp_path / "out"
    synthesize(variant(tmp_path, "s3.yaml", _with_state({**S3, "role_arn": ROLE})), out, hcl=True)
    hcl = (out / "hcl" / "orgguard-org-global" / "main.tf").read_text()
    assert 'backend "s3" {' in hcl
    assert 'key = "landing-zone/orgguard/orgguard-org-global.tfstate"' in hcl
    assert "use_lockfile = true" in hcl and f'role_arn = "{ROLE}"' in hcl


BAD = [
    ("s3-without-bucket", {"backend": "s3", "region": "eu-west-1"}, "state.bucket: backend: s3 needs the state bucket"),
    ("s3-without-region", {"backend": "s3", "bucket": BUCKET}, "state.region: backend: s3 needs the bucket's region"),
    ("uppercase-bucket", {**S3, "bucket": "My-State"}, "state.bucket: 'My-State' is not an S3 bucket name"),
    ("ip-bucket", {**S3, "bucket": "192.168.5.4"}, "state.bucket: '192.168.5.4' is formatted as an IP address"),
    ("adjacent-dots", {**S3, "bucket": "tf..state"}, "state.bucket: 'tf..state' has two adjacent dots"),
    ("reserved-prefix", {**S3, "bucket": "xn--state"}, "state.bucket: 'xn--state' starts with 'xn--'"),
    ("access-point-alias", {**S3, "bucket": "state-s3alias"}, "state.bucket: 'state-s3alias' ends with '-s3alias'"),
    ("bad-region", {**S3, "region": "EU-WEST-1"}, "state.region: 'EU-WEST-1' is not a region code"),
    ("key-prefix-slash", {**S3, "key_prefix": "/orgguard/"}, "state.key_prefix: '/orgguard/' starts or ends with '/'"),
    ("key-prefix-double-slash", {**S3, "key_prefix": "a//b"}, "state.key_prefix: 'a//b' contains '//'"),
    ("key-prefix-dotdot", {**S3, "key_prefix": "a/../b"}, "state.key_prefix: 'a/../b' has a '..' folder"),
    ("key-prefix-space", {**S3, "key_prefix": "my state"}, "state.key_prefix: 'my state' uses characters outside"),
    ("no-locking", {**S3, "use_lockfile": False}, "state.use_lockfile: false with no dynamodb_table"),
    ("bad-role", {**S3, "role_arn": "orgguard-state"}, "state.role_arn: 'orgguard-state' is not an IAM role ARN"),
    ("bad-kms", {**S3, "kms_key_id": "alias/state"}, "state.kms_key_id: 'alias/state' is not a KMS key ARN"),
    (
        "kms-other-region",
        {**S3, "kms_key_id": KMS.replace("eu-west-1", "us-east-1")},
        "state.kms_key_id: the key is in us-east-1, the bucket in eu-west-1",
    ),
    ("s3-field-on-local", {"bucket": BUCKET}, "state.bucket: only used with backend: s3"),
    ("unknown-backend", {"backend": "gcs"}, "state.backend: 'gcs' is not allowed"),
    ("typo", {**S3, "buckett": BUCKET}, "state.buckett: unknown key 'buckett'"),
]


def _problems(tmp: Path, name: str, state: dict) -> list[str]:
    from orgguard.config.load import ConfigError, load_governance

    with pytest.raises(ConfigError) as exc:
        load_governance(variant(tmp, f"{name}.yaml", _with_state(state)))
    return exc.value.problems


@pytest.mark.parametrize(("name", "state", "expected"), BAD, ids=[c[0] for c in BAD])
def test_bad_state_is_refused_in_one_line_naming_the_field(tmp_path, name, state, expected) -> None:
    problems = _problems(tmp_path, name, state)
    assert len(problems) == 1 and problems[0].startswith(expected), problems


def _digest(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case", ["s3-without-bucket", "kms-other-region"])
def test_the_cli_refuses_bad_state_with_exit_2_and_leaves_the_output(tmp_path, case) -> None:
    out = tmp_path / "cdktf.out"
    synthesize(EXAMPLE, out)
    before = _digest(out)
    _, state, expected = next(c for c in BAD if c[0] == case)
    config = variant(tmp_path, f"{case}.yaml", _with_state(state))
    result = run_cli("synth", "--config", str(config), "--out", str(out))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    problems = [line for line in result.stderr.splitlines() if "problem(s)" not in line]
    assert problems == [f"{config}: {problems[0].split(': ', 1)[1]}"] and expected in problems[0], result.stderr
    assert _digest(out) == before


def test_every_state_problem_gets_its_own_line(tmp_path) -> None:
    state = {"backend": "s3", "bucket": "Bad_Bucket", "key_prefix": "/x", "role_arn": "nope"}
    fields = [p.split(": ", 1)[0] for p in _problems(tmp_path, "many", state)]
    assert fields == ["state.bucket", "state.region", "state.key_prefix", "state.role_arn"]


# --- real terraform against an S3 endpoint on 127.0.0.1 ----------------------------------------------------


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _terraform(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"),
        "TF_IN_AUTOMATION": "1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }
    return subprocess.run(["terraform", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_initialises_the_synthesized_s3_backend_and_honours_its_lock(tmp_path, s3_endpoint) -> None:
    aws = {
        "endpoint_url": s3_endpoint,
        "region_name": "eu-west-1",
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    s3 = boto3.client("s3", **aws)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    kms = boto3.client("kms", **aws).create_key()["KeyMetadata"]["Arn"]
    state = {**S3, "kms_key_id": kms, "role_arn": ROLE}
    out = tmp_path / "out"
    synthesize(variant(tmp_path, "s3.yaml", _with_state(state)), out)
    stack = "orgguard-org-global"
    # The stack's own terraform block (backend and provider pin) beside one output: no AWS API is called
    # but the backend's (S3, STS for assume_role), so this runs against the endpoint alone.
    work = tmp_path / "work"
    work.mkdir()
    block = stack_json(out, stack)["terraform"]
    (work / "main.tf.json").write_text(
        json.dumps({"terraform": {"backend": block["backend"]}, "output": {"serial": {"value": "1"}}})
    )
    # Only where the endpoint is: a partial configuration that terraform merges into the synthesized block.
    (work / "endpoint.s3.tfbackend").write_text(
        f'endpoints = {{ s3 = "{s3_endpoint}", sts = "{s3_endpoint}" }}\nuse_path_style = true\n'
        "skip_credentials_validation = true\nskip_requesting_account_id = true\nskip_metadata_api_check = true\n"
    )
    init = _terraform(["init", "-input=false", "-no-color", "-backend-config=endpoint.s3.tfbackend"], work)
    assert init.returncode == 0, init.stderr
    apply = _terraform(["apply", "-auto-approve", "-input=false", "-no-color"], work)
    assert apply.returncode == 0, apply.stderr
    key = f"landing-zone/orgguard/{stack}.tfstate"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [key]  # lock released
    assert s3.head_object(Bucket=BUCKET, Key=key)["SSEKMSKeyId"] == kms
    # Someone else holds the lock: terraform refuses to write the state.
    s3.put_object(Bucket=BUCKET, Key=f"{key}.tflock", Body=b'{"ID": "other-pipeline"}')
    (work / "main.tf.json").write_text(
        json.dumps({"terraform": {"backend": block["backend"]}, "output": {"serial": {"value": "2"}}})
    )
    locked = _terraform(["apply", "-auto-approve", "-input=false", "-no-color", "-lock-timeout=0s"], work)
    assert locked.returncode != 0
    assert "Error acquiring the state lock" in locked.stderr
