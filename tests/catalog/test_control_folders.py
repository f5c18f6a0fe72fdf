"""A control is a folder: found by scanning orgguard/controls, holding everything about it, named nowhere else."""

from __future__ import annotations

import ast
import dataclasses
import re
import sys
import textwrap
from pathlib import Path

import pytest

from orgguard.config.load import ConfigError, parse_governance
from orgguard.controls import CATALOG, RUNBOOKS, discover
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER, SG_REVOKE
from orgguard.synth.plan import build_plan

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ROOT / "orgguard"
CONTROLS = PRODUCT / "controls"
FOLDERS = sorted(p.name for p in CONTROLS.iterdir() if (p / "__init__.py").is_file())


def test_every_folder_is_one_control_and_nothing_else_is() -> None:
    assert sorted(c.id.replace("-", "_") for c in CATALOG.values()) == FOLDERS
    assert [c.order for c in CATALOG.values()] == sorted(c.order for c in CATALOG.values())


def _code_strings(path: Path) -> str:
    """The string literals a module's code uses (docstrings left out: prose may cite AWS's page of the same
    name, e.g. the managed rule restricted-ssh); a template's whole text."""
    text = path.read_text()
    if path.suffix != ".py":
        return text
    tree = ast.parse(text)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return "\n".join(
        n.value
        for n in ast.walk(tree)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and id(n) not in docstrings
    )


def test_a_controls_id_appears_in_the_product_only_in_its_own_folder() -> None:
    """Typed references instead of string keys: no `== "sg-revoke"` or `"restricted-ssh"` outside the folder."""
    texts = {
        p: _code_strings(p)
        for p in PRODUCT.rglob("*")
        if p.suffix in {".py", ".j2", ".yaml"} and "__pycache__" not in p.parts
    }
    leaks = []
    for control in CATALOG.values():
        home = CONTROLS / control.id.replace("-", "_")
        needle = re.compile(rf"(?<![\w-]){re.escape(control.id)}(?![\w-])")
        leaks += [
            f"{p.relative_to(ROOT)}: {control.id}"
            for p, t in texts.items()
            if home not in p.parents and needle.search(t)
        ]
    shared = PRODUCT / "runbooks" / "sg_revoke"
    for p, t in texts.items():
        if shared in p.parents:
            continue
        if re.search(rf"(?<![\w-]){SG_REVOKE.key}(?![\w-])", t):
            leaks.append(f"{p.relative_to(ROOT)}: {SG_REVOKE.key}")
        if PORTS_PARAMETER in t:
            leaks.append(f"{p.relative_to(ROOT)}: {PORTS_PARAMETER}")
    assert not leaks


def test_controls_hold_runbook_objects_and_share_the_sg_runbook() -> None:
    users = [c.id for c in CATALOG.values() if c.runbook is SG_REVOKE]
    assert users == ["restricted-ssh", "restricted-common-ports", "restricted-ports-all-protocols"]
    assert RUNBOOKS[SG_REVOKE.key] is SG_REVOKE
    for control in CATALOG.values():
        if control.runbook and control.runbook is not SG_REVOKE:  # its own runbook lives in its folder
            assert control.runbook.handler_path.parent == CONTROLS / control.id.replace("-", "_")


def _write_control(root: Path, package: str, folder: str, control_id: str, order: int) -> None:
    (root / package / folder).mkdir(parents=True, exist_ok=True)
    (root / package / "__init__.py").write_text("")
    (root / package / folder / "__init__.py").write_text(
        textwrap.dedent(f"""\
        from orgguard.controls.base import Control
        from orgguard.manifest import Mappings
        CONTROL = Control(id={control_id!r}, order={order}, title="t", severity="low", mappings=Mappings(),
                          resource_types=("AWS::EC2::VPC",), runbook=None, remediation_modes=("off",),
                          default_remediation="off")
        """)
    )


@pytest.mark.parametrize(
    ("folders", "message"),
    [
        ([("no_vpc_flow_logs", "vpc-flow-logs", 1)], "name the folder vpc_flow_logs"),
        ([("a_one", "a-one", 5), ("b_two", "b-two", 5)], "share order 5"),
    ],
)
def test_discovery_refuses_a_misnamed_folder_or_a_shared_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, folders: list[tuple[str, str, int]], message: str
) -> None:
    package = f"fake_controls_{len(folders)}_{folders[0][0]}"
    for folder, control_id, order in folders:
        _write_control(tmp_path, package, folder, control_id, order)
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match=message):
        discover([str(tmp_path / package)], package)
    for name in [m for m in sys.modules if m.startswith(package)]:
        monkeypatch.delitem(sys.modules, name)


def test_a_new_folder_is_found_without_registering_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write_control(tmp_path, "fake_controls_new", "vpc_flow_logs", "vpc-flow-logs", 1)
    monkeypatch.syspath_prepend(str(tmp_path))
    assert list(discover([str(tmp_path / "fake_controls_new")], "fake_controls_new")) == ["vpc-flow-logs"]


FAST_PATH_FILE = """\
version: 1
mode: organization
organization:
  management_account_id: "111111111111"
  organization_id: o-abcdefghij
  home_region: us-east-1
  regions: [us-east-1]
  target_ous: [ou-ab12-cdefgh34]
fast_path:
  enabled: true
"""


def test_the_fast_path_follows_the_declared_capability_not_the_runbook(monkeypatch: pytest.MonkeyPatch) -> None:
    """A control that uses the SG runbook but does not declare fast_path gets no fast path, and the file is
    refused; before, sharing the runbook key "sg-revoke" was enough."""
    plan = build_plan(parse_governance(FAST_PATH_FILE, "g.yaml"), Path("g.yaml"), FAST_PATH_FILE)
    assert plan.manifest.fast_path is not None
    for cid, control in list(CATALOG.items()):
        if control.fast_path:
            monkeypatch.setitem(CATALOG, cid, dataclasses.replace(control, fast_path=False))
    with pytest.raises(ConfigError, match=r"fast_path\.enabled: the fast path revokes without approval"):
        parse_governance(FAST_PATH_FILE, "g.yaml")
