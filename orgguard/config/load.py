"""Read a governance file and turn every problem into one line: `path: what is wrong; the fix`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from orgguard.config.models import Governance


class ConfigError(Exception):
    """Invalid input; `problems` holds one human line per problem."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before", "function-plain") or "[" in str(part):
            continue  # pydantic's validator/union tags, not part of the user's path
        else:
            out += f".{part}" if out else str(part)
    return out


def _join(base: str, sub: str) -> str:
    if sub.startswith("["):
        return base + sub
    sub = sub.lstrip(".")
    return f"{base}.{sub}" if base else sub


def _describe(error: dict[str, Any]) -> list[str]:
    path = _path(tuple(error["loc"]))
    kind = error["type"]
    msg = str(error["msg"])
    if kind == "extra_forbidden":
        key = path.rpartition(".")[2]
        return [f"{path}: unknown key {key!r}; remove it or check its spelling (see docs/governance-file.md)"]
    if kind == "missing":
        return [f"{path}: required; add it (see docs/governance-file.md)"]
    if kind == "string_pattern_mismatch":
        return [f"{path}: {error['input']!r} is malformed; {_pattern_hint(path)}"]
    if kind == "value_error":
        lines = []
        for line in msg.removeprefix("Value error, ").splitlines():
            if line.startswith("@"):
                sub, _, text = line[1:].partition(": ")
                lines.append(f"{_join(path, sub)}: {text}")
            else:
                lines.append(f"{path}: {line}")
        return lines
    if kind == "literal_error":
        return [f"{path}: {error['input']!r} is not allowed; {msg.lower()}"]
    return [f"{path}: {msg}" + (f" (got {error['input']!r})" if "input" in error else "")]


def _pattern_hint(path: str) -> str:
    leaf = path.rsplit(".", 1)[-1].split("[")[0]
    hints = {
        "account_id": "use the 12-digit account id, quoted",
        "management_account_id": "use the 12-digit account id, quoted",
        "delegated_admin_account_id": "use the 12-digit account id, quoted",
        "accounts": "use 12-digit account ids, quoted",
        "target_ous": "use an OU id like ou-ab12-cdefgh34 or the root id r-ab12",
        "regions": "use a region code like eu-west-1",
        "home_region": "use a region code like eu-west-1",
        "organization_id": "use the organization id like o-a1b2c3d4e5",
        "name_prefix": "use letters, digits and hyphens, starting with a letter",
        "security_group_id": "use a security group id like sg-0123456789abcdef0",
        "account_execution_role": "use an IAM role name",
    }
    return hints.get(leaf, "see docs/governance-file.md for the expected format")


def parse_governance(text: str, source: str = "<governance>") -> Governance:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(source, [f"{where}: not valid YAML ({problem})"]) from None
    except ValueError as exc:  # PyYAML's timestamp constructor, e.g. an unquoted 2027-02-30
        raise ConfigError(source, [f"a value is not valid ({exc}); check dates (YYYY-MM-DD) and quote them"]) from None
    except RecursionError:
        raise ConfigError(source, ["nesting is too deep to be a governance file"]) from None
    if not isinstance(data, dict):
        raise ConfigError(source, ["top level: expected a mapping of settings (see governance.yaml)"])
    try:
        return Governance.model_validate(data)
    except ValidationError as exc:
        problems: list[str] = []
        for error in exc.errors():
            problems.extend(_describe(dict(error)))
        raise ConfigError(source, problems) from None


def load_governance(path: str | Path) -> Governance:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file ({exc.strerror})"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"]) from None
    return parse_governance(text, str(path))
