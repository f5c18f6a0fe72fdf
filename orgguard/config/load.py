"""Read a governance file and turn every problem into one line: `path: what is wrong; the fix`.

The file must mean exactly what it says, so the YAML reader is stricter than `yaml.safe_load`:

- a key set twice in one mapping is refused with both locations (YAML would silently keep the last);
- only `true` / `false` are booleans (YAML 1.2's core schema): `off`, `on`, `yes`, `no` stay the text the
  user wrote, so `remediation: off` means the mode "off" while boolean fields still accept them
  (pydantic reads "off" as false); a leading-zero number (`012345670123`) stays text instead of octal;
- input is bounded: file size, nesting depth and the number of values aliases expand to (an alias bomb
  is refused while composing, before anything is expanded), and every error line quotes at most a
  short excerpt of the offending value.
"""

from __future__ import annotations

import re
import reprlib
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from yaml.events import AliasEvent, MappingEndEvent, SequenceEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from orgguard.config.models import Governance
from orgguard.errors import ConfigError  # re-exported: the config loader's callers import it from here

MAX_FILE_BYTES = 1_048_576  # 1 MiB; a 1,000-account file is ~120 KB, and the pure-Python reader does ~1 MB/s
MAX_DEPTH = 32  # a governance file nests 5 levels deep
MAX_VALUES = 100_000  # scalars + collections after alias expansion; a 1,000-account file has ~5,000
EXCERPT = 60  # characters of a quoted value

_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Refused(Exception):
    """The file is refused before it is fully read; the one line says why."""


_repr = reprlib.Repr()
_repr.maxstring = EXCERPT
_repr.maxother = EXCERPT
_repr.maxlist = _repr.maxtuple = _repr.maxdict = _repr.maxset = 4
_repr.maxlevel = 2


def excerpt(value: Any) -> str:
    """A short repr of any value, bounded in time and length however large or deep the value is."""
    text = _repr.repr(value)
    return text if len(text) <= EXCERPT + 10 else text[:EXCERPT] + "…"


def _where(node: Node | Any) -> str:
    mark = node.start_mark
    return f"line {mark.line + 1}, column {mark.column + 1}"


class _GovernanceLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans, duplicate-key refusal and bounded alias expansion."""

    yaml_implicit_resolvers: dict[str, list[tuple[str, re.Pattern[str]]]] = {}

    def __init__(self, stream: str):
        super().__init__(stream)
        self.duplicates: list[str] = []
        self._depth = 0
        self._path: list[str | int] = []
        self._weight: dict[int, int] = {}  # id(collection node) -> values it expands to
        self._open: set[int] = set()  # collections being composed (an alias to one is a cycle)
        self._total = 0

    # -- bounds ---------------------------------------------------------------------------------------

    def _count(self, weight: int, node: Node) -> None:
        self._total += weight
        if self._total > MAX_VALUES:
            raise _Refused(
                f"{_where(node)}: the file expands to more than {MAX_VALUES:,} values (aliases repeat what they "
                "point to); a governance file needs far fewer: remove the repeated aliases"
            )

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = super().compose_node(parent, index)
            if id(node) in self._open:
                raise _Refused(
                    f"line {event.start_mark.line + 1}, column {event.start_mark.column + 1}: alias "
                    f"*{excerpt(event.anchor)[1:-1]} points into itself (a cycle); replace it with the value"
                )
            self._count(self._weight.get(id(node), 1), node)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            mark = self.peek_event().start_mark
            raise _Refused(
                f"line {mark.line + 1}, column {mark.column + 1}: nesting is too deep to be a governance file "
                f"(more than {MAX_DEPTH} levels)"
            )
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, ScalarNode):
            self._count(1, node)
        return node

    def _dotted(self) -> str:
        out = ""
        for part in self._path:
            out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
        return out or "top level"

    # -- collections (PyYAML's own, plus path tracking, weights and duplicate keys) --------------------

    def compose_sequence_node(self, anchor: str | None) -> SequenceNode:
        start_event = self.get_event()
        tag = start_event.tag
        if tag is None or tag == "!":
            tag = self.resolve(SequenceNode, None, start_event.implicit)
        node = SequenceNode(tag, [], start_event.start_mark, None, flow_style=start_event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        self._open.add(id(node))
        before = self._total
        index = 0
        while not self.check_event(SequenceEndEvent):
            self._path.append(index)
            node.value.append(self.compose_node(node, index))
            self._path.pop()
            index += 1
        node.end_mark = self.get_event().end_mark
        self._open.discard(id(node))
        self._count(1, node)
        self._weight[id(node)] = self._total - before
        return node

    def compose_mapping_node(self, anchor: str | None) -> MappingNode:
        start_event = self.get_event()
        tag = start_event.tag
        if tag is None or tag == "!":
            tag = self.resolve(MappingNode, None, start_event.implicit)
        node = MappingNode(tag, [], start_event.start_mark, None, flow_style=start_event.flow_style)
        if anchor is not None:
            self.anchors[anchor] = node
        self._open.add(id(node))
        before = self._total
        seen: dict[Any, Node] = {}
        while not self.check_event(MappingEndEvent):
            key = self.compose_node(node, None)
            name = self._key_name(key)
            identity = self._key_identity(key)
            if identity is not None:
                if identity in seen:
                    self._path.append(name)
                    self.duplicates.append(
                        f"{self._dotted()}: set twice, at {_where(seen[identity])} and {_where(key)}; keep one "
                        "(YAML would silently use the last)"
                    )
                    self._path.pop()
                else:
                    seen[identity] = key
            self._path.append(name)
            value = self.compose_node(node, key)
            self._path.pop()
            node.value.append((key, value))
        node.end_mark = self.get_event().end_mark
        self._open.discard(id(node))
        self._count(1, node)
        self._weight[id(node)] = self._total - before
        return node

    def _key_name(self, key: Node) -> str:
        if isinstance(key, ScalarNode):
            text = key.value
            return text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
        return "<complex key>"

    def _key_identity(self, key: Node) -> Any:
        """What the key becomes in the data (so `true:` and `True:` collide as they would); None = unchecked."""
        if not isinstance(key, ScalarNode):
            return None
        if key.tag == _MERGE_TAG:
            return (_MERGE_TAG,)
        try:
            value = self.construct_object(key)
            hash(value)
        except Exception:  # an invalid key is reported when the data is constructed
            return (key.tag, key.value)
        return (type(value).__name__, value)


# YAML 1.2 core-schema booleans and decimal integers; the rest as PyYAML resolves them (minus `=` and
# base-60 numbers, which YAML 1.2 dropped). Implicit resolvers are looked up by the scalar's first character.
_GovernanceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_GovernanceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
        |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
        |[-+]?\.(?:inf|Inf|INF)
        |\.(?:nan|NaN|NAN))$""",
        re.X,
    ),
    list("-+0123456789."),
)
_GovernanceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?(?:0|[1-9][0-9]*)$"), list("-+0123456789")
)
_GovernanceLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^(?:<<)$"), ["<"])
_GovernanceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""]
)
_GovernanceLoader.add_implicit_resolver(
    "tag:yaml.org,2002:timestamp",
    re.compile(
        r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
        |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
         (?:[Tt]|[ \t]+)[0-9][0-9]?
         :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
         (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
        re.X,
    ),
    list("0123456789"),
)


def read_yaml(text: str, source: str = "<governance>") -> Any:
    """The data of one YAML document, read as described above; ConfigError for anything refused."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigError(source, [f"the text is over the {MAX_FILE_BYTES:,} characters a governance file may have"])
    loader = _GovernanceLoader(text)
    try:
        data = loader.get_single_data()
    except _Refused as exc:
        raise ConfigError(source, [str(exc)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = str(getattr(exc, "problem", None) or exc)
        raise ConfigError(source, [f"{where}: not valid YAML ({problem})"]) from None
    except ValueError as exc:  # PyYAML's timestamp constructor, e.g. an unquoted 2027-02-30
        raise ConfigError(source, [f"a value is not valid ({exc}); check dates (YYYY-MM-DD) and quote them"]) from None
    except RecursionError:  # not reachable within MAX_DEPTH; kept so no input can print a traceback
        raise ConfigError(source, ["nesting is too deep to be a governance file"]) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise ConfigError(source, loader.duplicates)
    return data


def _path(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("function-after", "function-before", "function-plain") or "[" in str(part):
            continue  # pydantic's validator/union tags, not part of the user's path
        else:
            text = str(part)
            text = text if len(text) <= EXCERPT else text[:EXCERPT] + "…"
            out += f".{text}" if out else text
    return out


def _join(base: str, sub: str) -> str:
    if sub.startswith("["):
        return base + sub
    sub = sub.lstrip(".")
    return f"{base}.{sub}" if base else sub


def _describe(error: dict[str, Any]) -> list[str]:
    base = _path(tuple(error["loc"]))
    path = base or "top level"
    kind = error["type"]
    msg = str(error["msg"])
    value = error.get("input")
    if kind == "extra_forbidden":
        key = path.rpartition(".")[2]
        return [f"{path}: unknown key {key!r}; remove it or check its spelling (see docs/governance-file.md)"]
    if kind == "missing":
        return [f"{path}: required; add it (see docs/governance-file.md)"]
    if kind == "string_pattern_mismatch":
        return [f"{path}: {excerpt(value)} is malformed; {_pattern_hint(path)}"]
    if kind == "string_type" and isinstance(value, (bool, int, float)):
        what = "a boolean" if isinstance(value, bool) else "a number"
        return [f"{path}: {excerpt(value)} was read as {what}, not text; quote it (see docs/governance-file.md)"]
    if kind == "bool_type":
        return [f"{path}: {excerpt(value)} is not a boolean; write true or false, unquoted"]
    if kind == "value_error":
        lines = []
        for line in msg.removeprefix("Value error, ").splitlines():
            if line.startswith("@"):
                sub, _, text = line[1:].partition(": ")
                lines.append(f"{_join(base, sub)}: {text}")
            else:
                lines.append(f"{path}: {line}")
        return lines
    if kind == "literal_error":
        if isinstance(value, bool):
            fix = "write off, not false" if value is False and "'off'" in msg else "write one of those words"
            word = str(value).lower()
            return [f"{path}: {word} is a boolean, not one of the words allowed here; {msg.lower()}; {fix}"]
        return [f"{path}: {excerpt(value)} is not allowed; {msg.lower()}"]
    return [f"{path}: {msg}" + (f" (got {excerpt(value)})" if "input" in error else "")]


def _pattern_hint(path: str) -> str:
    leaf = path.rsplit(".", 1)[-1].split("[")[0]
    hints = {
        "account_id": "use the 12-digit account id, quoted, in ASCII digits 0-9",
        "management_account_id": "use the 12-digit account id, quoted, in ASCII digits 0-9",
        "delegated_admin_account_id": "use the 12-digit account id, quoted, in ASCII digits 0-9",
        "accounts": "use 12-digit account ids, quoted, in ASCII digits 0-9",
        "target_ous": "use an OU id like ou-ab12-cdefgh34 or the root id r-ab12",
        "regions": "use a region code like eu-west-1",
        "home_region": "use a region code like eu-west-1",
        "region": "use a region code like eu-west-1",
        "organization_id": "use the organization id like o-a1b2c3d4e5",
        "name_prefix": "use letters, digits and hyphens, starting with a letter",
        "security_group_id": "use a security group id like sg-0123456789abcdef0",
        "account_execution_role": "use an IAM role name (ASCII letters, digits and +=,.@_-)",
    }
    return hints.get(leaf, "see docs/governance-file.md for the expected format")


def parse_governance(text: str, source: str = "<governance>") -> Governance:
    data = read_yaml(text, source)
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
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ConfigError(
                str(path), [f"the file is {size:,} bytes, over the {MAX_FILE_BYTES:,} a governance file may have"]
            )
        with path.open("rb") as handle:  # read at most the limit, even if the file grows meanwhile
            raw = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read the file ({exc.strerror})"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(str(path), [f"the file is over the {MAX_FILE_BYTES:,} bytes a governance file may have"])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"not UTF-8 text (byte {exc.start}); save the file as UTF-8"]) from None
    return parse_governance(text, str(path))
