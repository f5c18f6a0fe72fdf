"""Every class of invalid governance file: one line per problem naming the path and the fix, exit 2,
no traceback, and the previous output left exactly as it was."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.synth.conftest import EXAMPLE, run_cli, variant


def _tree_digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def previous_output(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("prev") / "cdktf.out"
    result = run_cli("synth", "--config", str(EXAMPLE), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out


def _set(path: str, value):
    def edit(data):
        node = data
        *parents, leaf = path.split(".")
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(leaf)] = value
        else:
            node[leaf] = value

    return edit


CASES = [
    (
        "unknown-key",
        _set("controls.restricted-ssh.remediaton", "manual"),
        "controls.restricted-ssh.remediaton: unknown key 'remediaton'",
    ),
    ("unknown-top-level-key", _set("regions", ["eu-west-1"]), "regions: unknown key 'regions'"),
    (
        "malformed-account",
        _set("organization.management_account_id", "11111111111"),
        "organization.management_account_id: '11111111111' is malformed; use the 12-digit account id",
    ),
    (
        "malformed-excluded-account",
        _set("organization.excluded_accounts.0.account_id", "abc"),
        "organization.excluded_accounts[0].account_id: 'abc' is malformed",
    ),
    (
        "malformed-ou",
        _set("organization.target_ous.1", "ou-XYZ"),
        "organization.target_ous[1]: 'ou-XYZ' is malformed; use an OU id like",
    ),
    (
        "malformed-region",
        _set("organization.regions.2", "Tokyo"),
        "organization.regions[2]: 'Tokyo' is malformed; use a region code like eu-west-1",
    ),
    (
        "port-out-of-range",
        _set("controls.restricted-common-ports.ports", [22, 3389, 70000]),
        "controls.restricted-common-ports.ports[2]: 70000 is not a TCP port (1-65535)",
    ),
    (
        "port-repeated",
        _set("controls.restricted-common-ports.ports", [22, 3389, 22]),
        "controls.restricted-common-ports.ports[2]: port 22 is listed twice; remove the repeat",
    ),
    (
        "remediation-the-control-lacks",
        _set("controls.ecs-taskset-public-ip.remediation", "automatic"),
        "controls.ecs-taskset-public-ip.remediation: ecs-taskset-public-ip has no automatic remediation; "
        "use one of: manual, off",
    ),
    ("rule-name-too-long", _set("name_prefix", "a" * 40), "name_prefix: makes the Config rule name"),
    (
        "home-region-outside-regions",
        _set("organization.home_region", "us-west-2"),
        "organization.home_region: us-west-2 is not in regions; add it to regions",
    ),
    (
        "bad-remediation-mode",
        _set("controls.restricted-ssh.remediation", "sometimes"),
        "controls.restricted-ssh.remediation: 'sometimes' is not allowed",
    ),
    (
        "prefix-ssm-reserves",
        _set("name_prefix", "aws-guard"),
        "name_prefix: 'aws-guard' starts with a prefix SSM reserves for its own documents",
    ),
    (
        "fast-path-without-automatic-remediation",
        lambda d: [d["controls"][c].update(remediation="manual") for c in ("restricted-ssh", "restricted-common-ports")],  # noqa: E501
        "fast_path.enabled: the fast path revokes without approval",
    ),
]


@pytest.mark.parametrize(("name", "edit", "expected"), CASES, ids=[c[0] for c in CASES])
def test_invalid_file_is_refused_with_the_path_and_fix_and_output_untouched(
    tmp_path, previous_output, name, edit, expected
):
    before = _tree_digest(previous_output)
    config = variant(tmp_path, f"{name}.yaml", edit)
    result = run_cli("synth", "--config", str(config), "--out", str(previous_output))
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert expected in result.stderr, result.stderr
    assert f"{config}: " in result.stderr.splitlines()[0]
    assert _tree_digest(previous_output) == before
    assert not list(previous_output.parent.glob(".cdktf.out.new-*")), "staging directory left behind"


def test_each_problem_gets_its_own_line(tmp_path):
    def edit(data):
        data["organization"]["management_account_id"] = "12"
        data["organization"]["regions"][0] = "US-EAST-1"
        data["controls"]["restricted-common-ports"]["ports"] = [0, 22, 22]

    result = run_cli("synth", "--config", str(variant(tmp_path, "many.yaml", edit)), "--out", str(tmp_path / "o"))
    lines = [line for line in result.stderr.splitlines() if ": " in line and "problem(s)" not in line]
    assert result.returncode == 2
    assert len(lines) == 4, result.stderr
    assert not (tmp_path / "o").exists()


def test_template_over_51200_bytes_is_refused(tmp_path, monkeypatch):
    from orgguard.config.load import ConfigError
    from orgguard.synth import limits
    from orgguard.synth.build import synthesize

    monkeypatch.setattr(limits, "TEMPLATE_BODY_MAX", 20_000)  # the documents StackSet is ~40 KB
    with pytest.raises(ConfigError) as exc:
        synthesize(EXAMPLE, tmp_path / "o")
    assert any(
        "StackSet template orgguard-documents" in p and "TemplateBody limit" in p for p in exc.value.problems
    ), exc.value.problems
    assert not (tmp_path / "o").exists()


def test_not_yaml_names_line_and_column(tmp_path):
    bad = tmp_path / "broken.yaml"
    bad.write_text("version: 1\nmode: [organization\n")
    result = run_cli("synth", "--config", str(bad), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "line 3, column 1: not valid YAML" in result.stderr or "not valid YAML" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_file_is_a_clear_error(tmp_path):
    result = run_cli("synth", "--config", str(tmp_path / "nope.yaml"), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert "cannot read the file" in result.stderr


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("impossible-date", None, "a value is not valid (day is out of range for month)"),
        ("not-utf8", b"version: 1\n\xff\xfe\n", "not UTF-8 text"),
        ("too-deep", ("version: 1\nmode: " + "[" * 3000 + "]" * 3000 + "\n").encode(), "nesting is too deep"),
    ],
)
def test_files_yaml_itself_chokes_on_are_refused_without_a_traceback(tmp_path, name, content, expected):
    path = tmp_path / f"{name}.yaml"
    if content is None:
        path.write_text(EXAMPLE.read_text().replace('expires: "2027-03-31"', "expires: 2027-02-30"))
    else:
        path.write_bytes(content)
    result = run_cli("synth", "--config", str(path), "--out", str(tmp_path / "o"))
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr
