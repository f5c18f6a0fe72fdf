"""Thin typed Terraform resources on cdktf core, instead of the 486 MB prebuilt AWS provider.

Each resource class takes keyword arguments named exactly like the provider's attributes and
blocks, stores them, and emits them from ``_synthesize_attributes`` (JSON) and
``_synthesize_hcl_attributes`` (HCL). Nested blocks are frozen dataclasses whose field names are the
provider's block attribute names. ``tests/test_constructs.py`` checks the output against the real
provider schema with ``terraform validate``.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from cdktn import TerraformProvider, TerraformResource, TerraformResourceLifecycle
from constructs import Construct

_DURATION = re.compile(r"^(?=[0-9])([0-9]+h)?([0-9]+m)?([0-9]+s)?$")


@dataclass(frozen=True)
class Timeouts:
    """A resource's `timeouts` block: how long the provider's waiters wait (Go durations such as "60m").

    Only resources whose schema has the block take it; which operations each supports is in the provider
    schema (`terraform providers schema -json`), e.g. a StackSet has `update` only."""

    create: str | None = None
    update: str | None = None
    delete: str | None = None

    def __post_init__(self) -> None:
        for name in ("create", "update", "delete"):
            value = getattr(self, name)
            if value is not None and not _DURATION.match(value):
                raise ValueError(f"timeouts.{name}: {value!r} is not a duration like 60m or 1h30m")


# cdktf encodes a string token as ${TfToken[<key>]} and resolves every match at synth (cdktf 0.21,
# lib/tokens/private/encoding.js: BEGIN_STRING_TOKEN_MARKER, VALID_KEY_CHARS, STRING_TOKEN_REGEX); testing
# the same pattern here is Token.is_unresolved for a string, without its jsii round trip per reference.
_STRING_TOKEN = re.compile(r"\$\{TfToken\[[a-zA-Z0-9:._-]+\]\}")


def _is_reference(text: str) -> bool:
    return "${TfToken[" in text and _STRING_TOKEN.search(text) is not None


def escape_literal(text: str) -> str:
    """Terraform reads `${` and `%{` in JSON strings as template syntax; literal text must double them."""
    if "${" not in text and "%{" not in text:
        return text  # the common case; skips a jsii round trip per string (a third of account-mode synth)
    if _is_reference(text):
        return text  # a cdktf reference, resolved to ${...} on purpose
    return text.replace("${", "$${").replace("%{", "%%{")


def escape_hcl(text: str) -> str:
    """A literal as the body of one quoted HCL string. cdktf's HCL renderer only escapes quotes (and not
    even those when `${` appears) and leaves newlines raw inside blocks, so every string is pre-escaped
    to a single line it passes through unchanged."""
    if _is_reference(text):
        return text
    for raw, escaped in (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")):
        text = text.replace(raw, escaped)
    return text.replace("${", "$${").replace("%{", "%%{")


def quote_hcl(text: str) -> str:
    """A literal inside a block, where cdktf passes a string starting with a quote through untouched, but
    wraps one containing `${` in quotes without escaping anything."""
    if _is_reference(text):
        return text
    body = escape_hcl(text)
    return body if "${" in body else f'"{body}"'


def to_terraform(value: Any, escape: Callable[[str], str] = escape_literal) -> Any:
    """Dataclass blocks -> dicts, dropping unset (None) attributes; lists and dicts recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_terraform(getattr(value, f.name), escape)
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, list | tuple):
        return [to_terraform(v, escape) for v in value]
    if isinstance(value, dict):
        return {k: to_terraform(v, escape) for k, v in value.items() if v is not None}
    if isinstance(value, str):
        return escape(value)
    return value


def _is_block(value: Any) -> bool:
    return (dataclasses.is_dataclass(value) and not isinstance(value, type)) or (
        isinstance(value, list | tuple) and bool(value) and dataclasses.is_dataclass(value[0])
    )


def _hcl_block(block: Any) -> dict[str, Any]:
    """One block's body: nested blocks as descriptors (else cdktf renders them as `name = {...}`)."""
    body = {}
    for f in dataclasses.fields(block):
        value = getattr(block, f.name)
        if value is not None:
            body[f.name] = _hcl(value) if _is_block(value) else to_terraform(value, quote_hcl)
    return body


def _hcl(value: Any) -> dict[str, Any]:
    """cdktf's HCL attribute descriptor for one value."""
    if _is_block(value):
        blocks = value if isinstance(value, list | tuple) else [value]
        return {"value": [_hcl_block(b) for b in blocks], "isBlock": True, "type": "list",
                "storageClassType": "list"}
    if isinstance(value, bool):
        return {"value": value, "isBlock": False, "type": "simple", "storageClassType": "boolean"}
    if isinstance(value, int | float):
        return {"value": value, "isBlock": False, "type": "simple", "storageClassType": "number"}
    if isinstance(value, list | tuple):
        return {"value": to_terraform(list(value), escape_hcl), "isBlock": False, "type": "list",
                "storageClassType": "stringList"}
    if isinstance(value, dict):
        return {"value": to_terraform(value, escape_hcl), "isBlock": False, "type": "map",
                "storageClassType": "stringMap"}
    return {"value": to_terraform(value, escape_hcl), "isBlock": False, "type": "simple", "storageClassType": "string"}


class AwsResource(TerraformResource):
    """Base of every typed resource: subclasses set TYPE and pass their arguments to __init__."""

    TYPE: ClassVar[str]

    def __init__(
        self,
        scope: Construct,
        id_: str,
        /,
        *,
        provider: TerraformProvider | None = None,
        depends_on: list[TerraformResource] | None = None,
        lifecycle: TerraformResourceLifecycle | None = None,
        **attributes: Any,
    ) -> None:
        alias = getattr(provider, "alias_name", None)
        super().__init__(
            scope,
            id_,
            terraform_resource_type=self.TYPE,
            provider=None if alias else provider,
            depends_on=depends_on,
            lifecycle=lifecycle,
        )
        if alias:
            # Named by override instead (see AwsProvider.alias_name): no jsii callback at synth time.
            self.add_override("provider", f"aws.{alias}")
        self._attributes = {k: v for k, v in attributes.items() if v is not None}

    def _synthesize_attributes(self) -> dict[str, Any]:
        return {k: to_terraform(v) for k, v in self._attributes.items()}

    def _synthesize_hcl_attributes(self) -> dict[str, Any]:
        return {k: _hcl(v) for k, v in self._attributes.items()}

    def attr(self, name: str) -> str:
        """A reference to one of the resource's attributes (a Terraform token)."""
        return self.get_string_attribute(name)

    @property
    def name_ref(self) -> str:
        return self.attr("name")
