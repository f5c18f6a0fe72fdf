"""Thin typed Terraform resources on cdktf core, instead of the 486 MB prebuilt AWS provider.

Each resource class takes keyword arguments named exactly like the provider's attributes and
blocks, stores them, and emits them from ``_synthesize_attributes`` (JSON) and
``_synthesize_hcl_attributes`` (HCL). Nested blocks are frozen dataclasses whose field names are the
provider's block attribute names. ``tests/test_constructs.py`` checks the output against the real
provider schema with ``terraform validate``.
"""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

from cdktf import TerraformProvider, TerraformResource, TerraformResourceLifecycle, Token
from constructs import Construct


def escape_literal(text: str) -> str:
    """Terraform reads `${` and `%{` in JSON strings as template syntax; literal text must double them."""
    if Token.is_unresolved(text):
        return text  # a cdktf reference, resolved to ${...} on purpose
    return text.replace("${", "$${").replace("%{", "%%{")


def to_terraform(value: Any) -> Any:
    """Dataclass blocks -> dicts, dropping unset (None) attributes; lists and dicts recursively."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: to_terraform(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if getattr(value, f.name) is not None
        }
    if isinstance(value, list | tuple):
        return [to_terraform(v) for v in value]
    if isinstance(value, dict):
        return {k: to_terraform(v) for k, v in value.items() if v is not None}
    if isinstance(value, str):
        return escape_literal(value)
    return value


def _hcl(value: Any) -> dict[str, Any]:
    """cdktf's HCL attribute descriptor for one value."""
    if dataclasses.is_dataclass(value) or (
        isinstance(value, list | tuple) and value and dataclasses.is_dataclass(value[0])
    ):
        blocks = value if isinstance(value, list | tuple) else [value]
        return {"value": to_terraform(list(blocks)), "isBlock": True, "type": "list", "storageClassType": "list"}
    if isinstance(value, bool):
        return {"value": value, "isBlock": False, "type": "simple", "storageClassType": "boolean"}
    if isinstance(value, int | float):
        return {"value": value, "isBlock": False, "type": "simple", "storageClassType": "number"}
    if isinstance(value, list | tuple):
        return {"value": list(value), "isBlock": False, "type": "list", "storageClassType": "stringList"}
    if isinstance(value, dict):
        return {"value": value, "isBlock": False, "type": "map", "storageClassType": "stringMap"}
    return {"value": to_terraform(value), "isBlock": False, "type": "simple", "storageClassType": "string"}


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
        super().__init__(
            scope,
            id_,
            terraform_resource_type=self.TYPE,
            provider=provider,
            depends_on=depends_on,
            lifecycle=lifecycle,
        )
        self._attributes = {k: v for k, v in attributes.items() if v is not None}

    def _synthesize_attributes(self) -> dict[str, Any]:
        return {k: to_terraform(v) for k, v in self._attributes.items()}

    def _synthesize_hcl_attributes(self) -> dict[str, Any]:
        return {k: _hcl(v) for k, v in self._attributes.items()}

    def attr(self, name: str) -> str:
        """A reference to one of the resource's attributes (a Terraform token)."""
        return self.get_string_attribute(name)

    @property
    def arn(self) -> str:
        return self.attr("arn")

    @property
    def name_ref(self) -> str:
        return self.attr("name")
