"""Synthesis cost that must not creep back: jsii round trips per account stack, none per resource.

Every call into cdktf is a round trip to its node process (about 0.3-0.5 ms); the one-stack-per-account
layout made 340 of them per account (64 resources), so 500 accounts took 95-103 s. Counted here by
wrapping jsii's request channel while one synth runs in this process.
"""

from __future__ import annotations

import collections
from pathlib import Path
from unittest import mock

import cdktn
import pytest
import yaml
from jsii._kernel.providers import process

from orgguard.synth.build import synthesize
from tests.synth import legacy_account_layout
from tests.synth.conftest import ACCOUNT_EXAMPLE, EXAMPLE


def _accounts_file(tmp: Path, n: int) -> Path:
    data = yaml.safe_load(ACCOUNT_EXAMPLE.read_text())
    data["accounts"] = [f"{500000000000 + 7 * i:012d}" for i in range(n)]
    data["exemptions"]["known"] = [{**data["exemptions"]["known"][0], "account_id": data["accounts"][0]}]
    path = tmp / f"accounts-{n}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def _counted(run) -> tuple[int, collections.Counter]:
    """Round trips to node while `run()` executes, and cdktf calls that have a pure-Python equivalent."""
    sent = collections.Counter()
    avoidable = collections.Counter()
    send, is_unresolved = process._NodeProcess.send, cdktn.Token.is_unresolved
    add_override = cdktn.TerraformElement.add_override

    def counting_send(self, request, response_type):
        sent[type(request).__name__] += 1
        return send(self, request, response_type)

    def counting_is_unresolved(value):
        avoidable["Token.is_unresolved"] += 1
        return is_unresolved(value)

    def counting_add_override(self, path, value):
        if path == "provider":
            avoidable["provider alias by override"] += 1
        return add_override(self, path, value)

    with mock.patch.object(process._NodeProcess, "send", counting_send), \
            mock.patch.object(cdktn.Token, "is_unresolved", staticmethod(counting_is_unresolved)), \
            mock.patch.object(cdktn.TerraformElement, "add_override", counting_add_override):
        run()
    return sum(sent.values()), avoidable


@pytest.mark.parametrize("layout", ["modules", "previous"])
def test_account_stacks_cost_a_fixed_few_round_trips_however_many_resources(tmp_path, layout):
    config = _accounts_file(tmp_path, 20)
    if layout == "modules":
        trips, avoidable = _counted(lambda: synthesize(config, tmp_path / "out"))
        assert trips / 20 < 25, trips  # stack, backend, 3 providers and their callbacks, 2 overrides, names
        assert not avoidable, avoidable
    else:  # what the module layout replaced: every resource, every region, in every account's stack
        trips, _ = _counted(lambda: legacy_account_layout.synthesize_legacy(config, tmp_path / "old"))
        assert trips / 20 > 200, trips


def test_organization_mode_makes_no_avoidable_round_trip(tmp_path):
    _, avoidable = _counted(lambda: synthesize(EXAMPLE, tmp_path / "out"))
    assert not avoidable, avoidable
