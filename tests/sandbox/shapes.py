"""Check raw JSON answers against botocore's output shapes (names and types, recursively)."""

from __future__ import annotations

import json
from typing import Any

from botocore.model import OperationModel, Shape

_SCALARS: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "boolean": (bool,),
    "integer": (int,),
    "long": (int,),
    "double": (int, float),
    "float": (int, float),
    "timestamp": (int, float, str),
    "blob": (str,),
}


def shape_errors(value: Any, shape: Shape, path: str = "$") -> list[str]:
    """Every place where ``value`` does not fit ``shape``; empty when it fits exactly."""
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{path}: expected object, got {type(value).__name__}"]
        errors = [f"{path}.{k}: not in shape {shape.name}" for k in value if k not in shape.members]
        for key, member in shape.members.items():
            if key in value:
                errors += shape_errors(value[key], member, f"{path}.{key}")
        errors += [f"{path}.{k}: required by {shape.name}" for k in shape.required_members if k not in value]
        return errors
    if kind == "list":
        if not isinstance(value, list):
            return [f"{path}: expected list"]
        return [e for i, item in enumerate(value) for e in shape_errors(item, shape.member, f"{path}[{i}]")]
    if kind == "map":
        if not isinstance(value, dict):
            return [f"{path}: expected map"]
        return [e for k, v in value.items() for e in shape_errors(v, shape.value, f"{path}.{k}")]
    if not isinstance(value, _SCALARS[kind]) or (kind in ("integer", "long") and isinstance(value, bool)):
        return [f"{path}: expected {kind}, got {type(value).__name__}"]
    if kind == "string" and shape.enum and value not in shape.enum:
        return [f"{path}: {value!r} not in enum {shape.name}"]
    return []


class ShapeRecorder:
    """Attach to a JSON-protocol client; records shape errors of every successful answer."""

    def __init__(self, client: Any) -> None:
        self.errors: list[str] = []
        self.checked: list[str] = []
        client.meta.events.register("after-call", self._check)

    def _check(self, http_response: Any, parsed: Any, model: OperationModel, **_: Any) -> None:
        if http_response.status_code != 200 or model.output_shape is None:
            return
        raw = json.loads(http_response.content or b"{}")
        self.checked.append(model.name)
        self.errors += [f"{model.name}: {e}" for e in shape_errors(raw, model.output_shape)]
