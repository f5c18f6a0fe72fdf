"""The sandbox rewrites the governance file's organization section; it must read the file as synth does,
or an unquoted `remediation: off` turns into `false` and a duplicate key is resolved before synth sees it."""

from __future__ import annotations

from pathlib import Path

import pytest

from orgguard.config.load import parse_governance
from orgguard.sandbox import Sandbox
from orgguard.sandbox.sandbox import SandboxError

EXAMPLE = Path(__file__).resolve().parents[2] / "governance.yaml"
SSH = "  restricted-ssh:\n    enabled: true\n    remediation: automatic\n"


def test_unquoted_off_survives_the_sandbox_rewrite(sandbox: Sandbox, tmp_path: Path) -> None:
    base = tmp_path / "off.yaml"
    text = EXAMPLE.read_text()
    assert text.count(SSH) == 1
    base.write_text(text.replace(SSH, "  restricted-ssh:\n    enabled: true\n    remediation: off\n"))
    gov = parse_governance(sandbox.governance_yaml(base))
    assert gov.remediation_mode("restricted-ssh") == "off"


def test_a_duplicate_key_is_refused_by_the_sandbox_too(sandbox: Sandbox, tmp_path: Path) -> None:
    base = tmp_path / "dup.yaml"
    base.write_text(EXAMPLE.read_text().replace("controls:\n", "controls:\n  restricted-ssh:\n    enabled: false\n", 1))
    with pytest.raises(SandboxError, match=r"controls\.restricted-ssh: set twice"):
        sandbox.governance_yaml(base)
