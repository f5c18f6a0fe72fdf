"""A fresh sandbox with the synthesized organization plan deployed, per test (about five seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from orgguard.manifest import Manifest
from orgguard.sandbox import Sandbox

from .org_deploy import deploy_org, restore_env, synth_for, use_sandbox_env


@dataclass
class Deployed:
    sb: Sandbox
    manifest: Manifest
    out: Path


def _deployed(tmp_path: Path, **kwargs: int) -> Iterator[Deployed]:
    with Sandbox(tmp_path / "sandbox", **kwargs) as sb:
        previous = use_sandbox_env(sb)
        try:
            manifest, out = synth_for(sb, tmp_path)
            deploy_org(sb, manifest, out)
            yield Deployed(sb, manifest, out)
        finally:
            restore_env(previous)


@pytest.fixture
def deployed(tmp_path: Path) -> Iterator[Deployed]:
    yield from _deployed(tmp_path)


@pytest.fixture
def deployed_throttled(tmp_path: Path) -> Iterator[Deployed]:
    yield from _deployed(tmp_path, throttle_every=7)
