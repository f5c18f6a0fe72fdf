"""Render an SSM Automation document from the jinja2 template, with a handler's source embedded verbatim.

The template uses [[ ]] delimiters because SSM itself uses {{ }} for parameter references.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jinja2

HERE = Path(__file__).resolve().parent


def _json(value: Any) -> str:
    """Deterministic, ASCII-only JSON for a template slot (sorted keys, compact)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=True, separators=(",", ":"))


@cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE)),
        variable_start_string="[[",
        variable_end_string="]]",
        block_start_string="[%",
        block_end_string="%]",
        comment_start_string="[#",
        comment_end_string="#]",
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["json"] = _json
    return env.get_template("automation.json.j2")


def handler_source(handler: Path) -> str:
    """The handler's exact text (read as bytes and decoded, so no newline translation happens)."""
    return handler.read_bytes().decode("utf-8")


def render(
    *,
    description: str,
    step_name: str,
    parameters: dict[str, dict[str, Any]],
    handler: Path,
    payload_extra: dict[str, Any] | None = None,
) -> str:
    """The document's exact JSON text; every non-role parameter goes into the step's InputPayload.

    `payload_extra` adds literal values (or SSM system variables) that are part of the document itself,
    not parameters: no caller can override them, and the document hash covers them.
    """
    payload: dict[str, Any] = {name: "{{ " + name + " }}" for name in parameters if name != "AutomationAssumeRole"}
    clash = set(payload) & set(payload_extra or {})
    if clash:
        raise ValueError(f"InputPayload keys {sorted(clash)} are both parameters and embedded values")
    payload.update(payload_extra or {})
    return _template().render(
        description=description,
        step_name=step_name,
        parameters=parameters,
        input_payload=payload,
        script=handler_source(handler),
        outputs=[f"{step_name}.Status", f"{step_name}.Message", f"{step_name}.Result"],
    )
