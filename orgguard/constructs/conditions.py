"""Custom conditions (lifecycle pre- and postconditions) that render in both Terraform JSON and HCL.

cdktf 0.21 drops `lifecycle.precondition`/`postcondition` from its HCL output (and renders an override
of them as an attribute, not a block), so a resource or data source that needs one mixes this class in:
the JSON gets an override, the HCL a real `lifecycle { postcondition { ... } }` block.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from orgguard.constructs.base import escape_literal, quote_hcl

Kind = Literal["precondition", "postcondition"]


@dataclass(frozen=True)
class Condition:
    """`expression` is raw Terraform (no `${}`), true when all is well; `error_message` is literal text."""

    kind: Kind
    expression: str
    error_message: str


class ConditionsMixin:
    """Adds `set_conditions` to an AwsResource or AwsDataSource subclass (mix it in first)."""

    _conditions: tuple[Condition, ...] = ()

    def set_conditions(self, conditions: list[Condition]) -> None:
        self._conditions = tuple(conditions)
        for kind in ("precondition", "postcondition"):
            blocks = [
                {"condition": f"${{{c.expression}}}", "error_message": escape_literal(c.error_message)}
                for c in conditions
                if c.kind == kind
            ]
            if blocks:
                self.add_override(f"lifecycle.{kind}", blocks)  # type: ignore[attr-defined]

    def to_hcl_terraform(self) -> Any:
        out = super().to_hcl_terraform()  # type: ignore[misc]
        if self._conditions:
            section = "data" if "data" in out else "resource"
            body = out[section][self.TYPE][self.friendly_unique_id]  # type: ignore[attr-defined]
            lifecycle: dict[str, Any] = {}
            for c in self._conditions:
                lifecycle.setdefault(c.kind, {"value": [], "isBlock": True, "type": "list", "storageClassType": "list"})
                # Inside blocks cdktf quotes a value holding `${` itself and passes a quoted one through.
                lifecycle[c.kind]["value"].append(
                    {"condition": f"${{{c.expression}}}", "error_message": quote_hcl(c.error_message)}
                )
            body["lifecycle"] = {"value": [lifecycle], "isBlock": True, "type": "list", "storageClassType": "list"}
        return out
