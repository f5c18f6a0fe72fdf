"""Governance files that would silently mean something else (issue 9, build item 5).

Each is refused with one short line naming its location (exit 2, previous output untouched, bounded
time and memory), or, where the text is unambiguous, read as exactly what it says.
"""

from __future__ import annotations

import hashlib
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orgguard.config.load import ConfigError, parse_governance
from tests.synth.conftest import EXAMPLE, ROOT, run_cli

TEXT = EXAMPLE.read_text()
MAX_LINE = 300  # characters of any printed line, file name included


def _edit(old: str, new: str, count: int = 1):
    def apply(text: str) -> str:
        assert text.count(old) == count, f"the example no longer contains {old!r} {count} time(s)"
        return text.replace(old, new)

    return apply


def _line_of(text: str, needle: str, occurrence: int = 1) -> int:
    """1-based line number of the n-th line that starts with `needle` (after indentation)."""
    hits = [i for i, line in enumerate(text.splitlines(), start=1) if line.strip().startswith(needle)]
    return hits[occurrence - 1]


def _dup_section(text: str) -> str:
    # A second restricted-ssh section, disabled, after the first: YAML alone keeps the last one silently.
    return text.replace("controls:\n", "controls:\n  restricted-ssh:\n    enabled: false\n", 1)


def _expected_dup_section() -> str:
    text = _dup_section(TEXT)
    first, second = _line_of(text, "restricted-ssh:", 1), _line_of(text, "restricted-ssh:", 2)
    return f"controls.restricted-ssh: set twice, at line {first}, column 3 and line {second}, column 3"


FULL_WIDTH = "１１１１１１１１１１１１"  # noqa: RUF001 - the point of the test
ARABIC_INDIC = "٣٣٣٣٣٣٣٣٣٣٣٣"

# (name, edit of the example's text, expected substring of the one problem line)
REFUSED = [
    ("duplicate-control-section", _dup_section, _expected_dup_section()),
    (
        "duplicate-nested-key",
        _edit(
            "    enabled: true\n    remediation: automatic\n  restricted-common-ports:",
            "    enabled: true\n    remediation: automatic\n    enabled: false\n  restricted-common-ports:",
        ),
        "controls.restricted-ssh.enabled: set twice",
    ),
    (
        "duplicate-top-level-key",
        lambda t: t + "mode: account\n",
        f"mode: set twice, at line {_line_of(TEXT, 'mode:')}, column 1 and line {len(TEXT.splitlines()) + 1}, column 1",
    ),
    (
        "duplicate-key-in-list-item",
        _edit(
            '    - account_id: "999999999999"\n', '    - account_id: "999999999999"\n      account_id: "888888888888"\n'
        ),
        "organization.excluded_accounts[0].account_id: set twice",
    ),
    (
        "duplicate-flow-mapping-key",
        _edit("fast_path:\n  enabled: true\n", "fast_path: {enabled: true, enabled: false}\n"),
        "fast_path.enabled: set twice",
    ),
    (
        "unquoted-on-as-mode",
        _edit(
            "    enabled: true\n    remediation: automatic\n  restricted-common-ports:",
            "    enabled: true\n    remediation: on\n  restricted-common-ports:",
        ),
        "controls.restricted-ssh.remediation: 'on' is not allowed; input should be 'automatic', 'manual' or 'off'",
    ),
    (
        "unquoted-yes-as-mode",
        _edit(
            "    remediation: manual             # approval-only", "    remediation: yes             # approval-only"
        ),
        "controls.ecs-service-public-ip.remediation: 'yes' is not allowed",
    ),
    (
        "boolean-false-as-mode",
        _edit("    remediation: manual             # report-only", "    remediation: false             # report-only"),
        "controls.ecs-taskset-public-ip.remediation: false is a boolean, not one of the words allowed here",
    ),
    (
        "unquoted-account-id",
        _edit('management_account_id: "111111111111"', "management_account_id: 111111111111"),
        "organization.management_account_id: 111111111111 was read as a number, not text; quote it",
    ),
    (
        "full-width-account-id",
        _edit('management_account_id: "111111111111"', f'management_account_id: "{FULL_WIDTH}"'),
        "organization.management_account_id: '１１１１１１１１１１１１' is malformed; use the 12-digit account id",  # noqa: RUF001
    ),
    (
        "arabic-indic-excluded-account",
        _edit('    - account_id: "999999999999"', f'    - account_id: "{ARABIC_INDIC}"'),
        "organization.excluded_accounts[0].account_id: '٣٣٣٣٣٣٣٣٣٣٣٣' is malformed",
    ),
    (
        "arabic-indic-exemption-account",
        _edit('    - account_id: "333333333333"', f'    - account_id: "{ARABIC_INDIC}"'),
        "exemptions.known[0].account_id: '٣٣٣٣٣٣٣٣٣٣٣٣' is malformed",
    ),
    (
        "full-width-region-digit",
        _edit("regions: [us-east-1, eu-west-1, ap-northeast-1]", "regions: [us-east-1, eu-west-１, ap-northeast-1]"),  # noqa: RUF001
        "organization.regions[1]: 'eu-west-１' is malformed",  # noqa: RUF001
    ),
    (
        "account-id-with-trailing-newline",
        _edit('management_account_id: "111111111111"', 'management_account_id: "111111111111\\n"'),
        "organization.management_account_id: '111111111111\\n' is malformed",
    ),
    (
        "reserved-tag-prefix",
        _edit('tag_key: "orgguard:exemption"', 'tag_key: "aws:exemption"'),
        "exemptions.tag_key: 'aws:' is a prefix AWS reserves for its own tags (in any case)",
    ),
    (
        "reserved-tag-prefix-any-case",
        _edit('tag_key: "orgguard:exemption"', 'tag_key: "AwS:exemption"'),
        "exemptions.tag_key: 'AwS:' is a prefix AWS reserves",
    ),
    (
        "tag-key-character-aws-refuses",
        _edit('tag_key: "orgguard:exemption"', 'tag_key: "orgguard#exemption"'),
        "exemptions.tag_key: contains '#', which AWS tag keys may not",
    ),
    (
        "tag-key-trailing-space",
        _edit('tag_key: "orgguard:exemption"', 'tag_key: "orgguard:exemption "'),
        "exemptions.tag_key: has leading or trailing spaces",
    ),
    (
        "tag-key-too-long",
        _edit('tag_key: "orgguard:exemption"', f'tag_key: "{"k" * 129}"'),
        "exemptions.tag_key: String should have at most 128 characters",
    ),
    (
        "blank-owner",
        _edit("owner: network-team@example.com", 'owner: "   "'),
        "exemptions.known[0].owner: must contain text (letters or digits)",
    ),
    (
        "blank-exemption-reason",
        _edit("reason: Public SFTP endpoint pending migration to Transfer Family", 'reason: "\\t "'),
        "exemptions.known[0].reason: must contain text",
    ),
    (
        "punctuation-only-exclusion-reason",
        _edit("reason: Break-glass account, reviewed quarterly by the security team", 'reason: "-"'),
        "organization.excluded_accounts[0].reason: must contain text",
    ),
    (
        "alias-cycle",
        lambda t: t + "x-loop: &loop [*loop]\n",
        "points into itself (a cycle)",
    ),
    (
        "overlong-unknown-key",  # YAML allows implicit keys up to 1,024 characters
        lambda t: t + "k" * 1_000 + ": 1\n",
        "kkkkkkkk…: unknown key",
    ),
    (
        "overlong-value",
        _edit("home_region: us-east-1", "home_region: " + "x" * 200_000),
        "organization.home_region: 'xxxxxxxx",
    ),
]


@pytest.mark.parametrize(("name", "edit", "expected"), REFUSED, ids=[c[0] for c in REFUSED])
def test_misleading_file_is_refused_with_one_short_line_naming_its_location(name, edit, expected):
    source = f"{name}.yaml"
    with pytest.raises(ConfigError) as exc:
        parse_governance(edit(TEXT), source)
    lines = [f"{source}: {p}" for p in exc.value.problems]
    assert any(expected in line for line in lines), lines
    assert len(lines) <= 3, lines
    assert all(len(line) < MAX_LINE for line in lines), [len(line) for line in lines]


def test_a_disabled_duplicate_section_no_longer_wins_silently():
    """Today's failure mode, stated positively: the file with two sections is refused, not deployed disabled."""
    with pytest.raises(ConfigError) as exc:
        parse_governance(_dup_section(TEXT))
    assert exc.value.problems == [_expected_dup_section() + "; keep one (YAML would silently use the last)"]


def test_unquoted_words_mean_the_text_written():
    """`off` where a mode is expected is the mode; yes/no in a boolean field are booleans; 0-led ids stay text."""
    text = _edit(
        "    enabled: true\n    remediation: automatic\n  restricted-common-ports:",
        "    enabled: yes\n    remediation: off\n  restricted-common-ports:",
    )(TEXT)
    text = _edit("  ecs-taskset-public-ip:\n    enabled: true", "  ecs-taskset-public-ip:\n    enabled: no")(text)
    text = _edit('    - account_id: "999999999999"', "    - account_id: 012345670123")(text)  # octal in YAML 1.1
    gov = parse_governance(text)
    assert gov.remediation_mode("restricted-ssh") == "off"
    assert gov.control_settings("restricted-ssh").enabled is True
    assert gov.control_settings("ecs-taskset-public-ip").enabled is False
    assert gov.organization.excluded_accounts[0].account_id == "012345670123"


def test_legitimate_anchors_and_merge_keys_still_work():
    """Bounded, not banned: an anchored section reused with a merge key, one field overridden."""
    start, end = TEXT.index("controls:\n"), TEXT.index("\nremediation:\n")
    controls = (
        "controls:\n"
        "  restricted-ssh: &automatic\n    enabled: true\n    remediation: automatic\n"
        "  restricted-common-ports:\n    <<: *automatic\n    ports: control-tower\n"
        "  ecs-service-public-ip: &manual\n    <<: *automatic\n    remediation: manual\n"
        "  ecs-readonly-root-filesystem: *manual\n"
        "  ecs-taskset-public-ip: {<<: *manual}\n"
    )
    gov = parse_governance(TEXT[:start] + controls + TEXT[end:])
    assert gov.remediation_mode("restricted-common-ports") == "automatic"
    assert [gov.remediation_mode(c) for c in ("ecs-service-public-ip", "ecs-readonly-root-filesystem")] == [
        "manual",
        "manual",
    ]
    assert gov.control_settings("ecs-taskset-public-ip").enabled is True


def test_problem_lines_are_bounded_in_number():
    text = TEXT.replace(
        "  target_ous: [ou-a1b2-workloads, ou-a1b2-sandboxes]",
        "  target_ous: [" + ", ".join(f"bad{i}" for i in range(500)) + "]",
    )
    with pytest.raises(ConfigError) as exc:
        parse_governance(text)
    assert len(exc.value.problems) == 51
    assert exc.value.problems[-1].startswith("… and 450 more problem(s) not shown")


# -- bounded time and memory: run in a child with a memory cap and a timeout, so a regression fails
#    the test instead of the machine.


def _bomb_block() -> str:
    """The classic 'billion laughs', ~2.4 KB: nine levels of nine aliases each (387 million strings)."""
    leaf = '"' + "lol" * 50 + '"'
    lines = ["x-lol:", "  level_a: &level_a [" + ", ".join([leaf] * 9) + "]"]
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"  level_{name}: &level_{name} [" + ", ".join([f"*level_{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _alias_bomb() -> str:
    # Used where a number is expected, so the old error message printed the whole expansion.
    return _bomb_block() + TEXT.replace("  maximum_automatic_attempts: 3", "  maximum_automatic_attempts: *level_i")


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


CHILD = """
import sys, time
from orgguard.config.load import ConfigError, parse_governance
text = open(sys.argv[1], encoding="utf-8").read()
start = time.perf_counter()
try:
    parse_governance(text, "bomb.yaml")
    print("ACCEPTED")
except ConfigError as exc:
    print(repr(exc.problems))
print(time.perf_counter() - start)
"""


def test_alias_bomb_is_refused_in_bounded_time_and_memory(tmp_path):
    bomb = tmp_path / "bomb.yaml"
    text = _alias_bomb()
    bomb.write_text(text)
    assert 2_000 < len(_bomb_block().encode()) < 3_000, "the bomb itself should be ~2.4 KB"
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(bomb)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    problems_line, seconds = result.stdout.strip().splitlines()
    assert "expands to more than 100,000 values" in problems_line, problems_line
    assert float(seconds) < 2.0, seconds


def _digest(root: Path) -> str:
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


_EDITS = {name: edit for name, edit, _ in REFUSED}
CLI_CASES = [
    ("duplicate-control-section", _dup_section, "controls.restricted-ssh: set twice"),
    ("alias-bomb", lambda _t: _alias_bomb(), "expands to more than 100,000 values"),
    ("full-width-account-id", _EDITS["full-width-account-id"], "organization.management_account_id:"),
    ("reserved-tag-prefix", _EDITS["reserved-tag-prefix"], "exemptions.tag_key:"),
    ("too-big", lambda t: t + "#" * (1 << 20) + "\n", "bytes, over the 1,048,576 a governance file may have"),
]


@pytest.mark.parametrize(("name", "edit", "expected"), CLI_CASES, ids=[c[0] for c in CLI_CASES])
def test_cli_refuses_with_exit_2_and_short_lines(tmp_path, previous_output, name, edit, expected):
    before = _digest(previous_output)
    config = tmp_path / f"{name}.yaml"
    config.write_text(edit(TEXT))
    start = time.monotonic()
    result = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "orgguard"), "synth", "--config", str(config), "--out", str(previous_output)],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
        cwd=ROOT,
    )
    elapsed = time.monotonic() - start
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"{config}: ") and expected in lines[0], lines[0][:400]
    assert all(len(line) < MAX_LINE for line in lines), [len(line) for line in lines]
    assert elapsed < 30, elapsed
    assert _digest(previous_output) == before
