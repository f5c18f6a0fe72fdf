"""Patience and a pinned provider: every stack pins hashicorp/aws to a constraint that admits 5.100.0,
the organization pack waits at least 30 minutes, and StackSets and their instances wait longer than the
provider's defaults. Which timeouts each resource accepts is the provider schema's (test_terraform_validate
checks the output against it); before, none of this was emitted."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from orgguard.constructs.base import Timeouts
from orgguard.constructs.provider import AWS_PROVIDER_VERSION
from tests.synth.conftest import ROOT, stack_json


def _minutes(duration: str) -> int:
    parts = dict((unit, int(n)) for n, unit in re.findall(r"([0-9]+)([hms])", duration))
    return parts.get("h", 0) * 60 + parts.get("m", 0) + parts.get("s", 0) // 60


def test_every_stack_pins_the_aws_provider(org_out: Path, account_out: Path) -> None:
    for out in (org_out, account_out):
        for stack in sorted((out / "stacks").iterdir()):
            pin = stack_json(out, stack.name)["terraform"]["required_providers"]["aws"]
            assert pin == {"source": "hashicorp/aws", "version": AWS_PROVIDER_VERSION}, stack.name


@pytest.mark.skipif(shutil.which("terraform") is None, reason="terraform is not installed")
def test_terraform_resolves_the_pin_to_the_offline_5_100_0(org_out: Path, tmp_path: Path) -> None:
    """The mirror holds only 5.100.0: init succeeds only if the constraint admits it, and locks it."""
    block = stack_json(org_out, "orgguard-org-global")["terraform"]
    pin = {"terraform": {"required_providers": block["required_providers"]}}
    (tmp_path / "main.tf.json").write_text(json.dumps(pin))
    env = {**os.environ, "TF_CLI_CONFIG_FILE": str(ROOT / "terraform.rc"), "TF_IN_AUTOMATION": "1"}
    init = subprocess.run(
        ["terraform", "init", "-backend=false", "-input=false", "-no-color"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert init.returncode == 0, init.stderr
    lock = (tmp_path / ".terraform.lock.hcl").read_text()
    assert 'version     = "5.100.0"' in lock and f'constraints = "{AWS_PROVIDER_VERSION}"' in lock, lock


def test_the_pin_is_in_the_hcl_too(tmp_path: Path) -> None:
    from orgguard.synth.build import synthesize
    from tests.synth.conftest import EXAMPLE

    synthesize(EXAMPLE, tmp_path / "out", hcl=True)
    hcl = (tmp_path / "out" / "hcl" / "orgguard-org-us-east-1" / "main.tf").read_text()
    assert f'version = "{AWS_PROVIDER_VERSION}"' in hcl
    assert re.search(r'timeouts \{\s*create = "60m"\s*update = "60m"\s*delete = "60m"\s*\}', hcl)


def test_the_organization_pack_waits_at_least_30_minutes(org_out: Path, org_manifest) -> None:
    for pack in org_manifest.conformance_packs:
        resource = stack_json(org_out, f"orgguard-org-{pack.region}")["resource"]
        (body,) = resource["aws_config_organization_conformance_pack"].values()
        timeouts = body["timeouts"]
        assert set(timeouts) == {"create", "update", "delete"}
        assert _minutes(timeouts["create"]) >= 30 and _minutes(timeouts["update"]) >= 30
        assert _minutes(timeouts["delete"]) >= 20  # the provider's own default for delete


def test_stack_sets_and_their_instances_wait_longer_than_the_provider_default(org_out: Path) -> None:
    resource = stack_json(org_out, "orgguard-org-global")["resource"]
    instances = resource["aws_cloudformation_stack_set_instance"].values()
    assert instances and all(
        set(i["timeouts"]) == {"create", "update", "delete"} and min(map(_minutes, i["timeouts"].values())) > 30
        for i in instances
    )
    stack_sets = resource["aws_cloudformation_stack_set"].values()
    assert stack_sets and all(s["timeouts"] == {"update": "60m"} for s in stack_sets)  # update is all it has


@pytest.mark.parametrize("bad", ["60", "sixty", "1d", "", "m"])
def test_a_malformed_duration_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a duration"):
        Timeouts(create=bad)


def test_well_formed_durations_are_accepted() -> None:
    assert json.dumps(Timeouts(create="1h30m", delete="45s").__dict__)
