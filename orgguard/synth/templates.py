"""Render the CloudFormation templates (conformance pack, StackSets) with jinja2."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING, Any

import jinja2

from orgguard import __version__
from orgguard.layers.notifications.entry import NotificationsEntry
from orgguard.manifest import ControlEntry, FastPathEntry, RoleEntry, for_account
from orgguard.naming import logical_id
from orgguard.rules import ConfigRule

if TYPE_CHECKING:
    from orgguard.config.models import Governance
    from orgguard.synth.plan import Document


def cfn_sub(value: Any) -> Any:
    """Wrap every string that names ${AWS::...} in Fn::Sub, so CloudFormation fills in the member account."""
    if isinstance(value, str):
        return {"Fn::Sub": value} if "${AWS::" in value else value
    if isinstance(value, list):
        return [cfn_sub(v) for v in value]
    if isinstance(value, dict):
        return {k: cfn_sub(v) for k, v in value.items()}
    return value


_YAML_LINE_BREAKS = re.compile("[\r\n\x85\u2028\u2029]")


def yaml_block_safe(text: str) -> bool:
    """Can `text` go verbatim into a one-line YAML literal block? Not if YAML would see a line break in it
    (NEL, LS and PS count as breaks in YAML 1.1), or if it starts with a space (the block's indentation)."""
    return bool(text) and not text[0].isspace() and not _YAML_LINE_BREAKS.search(text)


@cache
def _env() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("orgguard.synth", "cfn"),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.policies["json.dumps_kwargs"] = {"sort_keys": True, "ensure_ascii": False}
    env.filters["cfn_sub"] = cfn_sub
    env.filters["logical_id"] = logical_id
    env.filters["for_account"] = for_account
    env.tests["yaml_block_safe"] = yaml_block_safe
    return env


def conformance_pack(gov: Governance, controls: list[ControlEntry], *, management_account_id: str) -> str:
    """The organization conformance pack: every enabled control's `ConfigRule`, rendered as CloudFormation."""
    rules = [ConfigRule.from_control(c) for c in controls if c.enabled]
    return (
        _env()
        .get_template("conformance-pack.yaml.j2")
        .render(
            prefix=gov.name_prefix, version=__version__, rules=rules, management_account_id=management_account_id
        )
    )


def roles_stackset(roles: list[RoleEntry]) -> str:
    return _env().get_template("roles-stackset.yaml.j2").render(version=__version__, roles=roles)


def documents_stackset(documents: list[Document], fast_path: FastPathEntry | None) -> str:
    """The runbook documents and, with the fast path, one EventBridge rule + target per route."""
    return (
        _env()
        .get_template("documents-stackset.yaml.j2")
        .render(version=__version__, documents=documents, fast_path=fast_path)
    )


def notifications_stackset(notifications: NotificationsEntry) -> str:
    """The member rules forwarding to the central bus (orgguard/layers/notifications), in a StackSet of their
    own so they take nothing from the documents template's 51,200 bytes (the approved exemptions live there)."""
    return (
        _env()
        .get_template("notifications-stackset.yaml.j2")
        .render(version=__version__, notifications=notifications)
    )
