"""The exemptions the deployed runbook will honour, read from the files synth wrote, not from the manifest.

The runbook exempts exactly the ``ApprovedExemptions`` literal in its document's InputPayload
(orgguard/runbooks/model.py ``render_document``), and the documents StackSet template carries that same
content. ``manifest.exemptions`` is only a description of it: someone who edits the document and fixes its
hash in the manifest, or empties the manifest's list while the document keeps an entry, would otherwise show
the reviewer one list and deploy another. So the review reads the embedded lists and refuses a plan in which
they differ from the manifest's (review item 2).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from orgguard.manifest import MAX_ARTIFACT_BYTES, Manifest

PAYLOAD_KEY = "ApprovedExemptions"
_KEYS = ("account_id", "security_group_id", "expires", "owner", "ticket")


def _canonical(entries: Any) -> list[tuple[str, ...]] | None:
    """A comparable form of an exemption list; None when it is not a list of string mappings."""
    if not isinstance(entries, list):
        return None
    out = []
    for e in entries:
        if not isinstance(e, dict) or not all(isinstance(v, str) for v in e.values()):
            return None
        if set(e) - set(_KEYS):
            return None
        out.append(tuple(e.get(k, "") for k in _KEYS))
    return sorted(out)


def _payload_lists(document: Any) -> Iterator[Any]:
    """Every ApprovedExemptions value in an Automation document's steps."""
    steps = document.get("mainSteps") if isinstance(document, dict) else None
    for step in steps if isinstance(steps, list) else []:
        inputs = step.get("inputs") if isinstance(step, dict) else None
        payload = inputs.get("InputPayload") if isinstance(inputs, dict) else None
        if isinstance(payload, dict) and PAYLOAD_KEY in payload:
            yield payload[PAYLOAD_KEY]


def _read(path: Path) -> str | None:
    """The file's text (bounded like the manifest's artifacts), or None when it is absent or unreadable;
    the manifest loader has already refused a file whose hash does not match."""
    if not path.is_file():
        return None
    try:
        with path.open("rb") as handle:
            return handle.read(MAX_ARTIFACT_BYTES + 1).decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _template_documents(text: str) -> Iterator[tuple[str, Any]]:
    """(logical id, parsed Content) of each AWS::SSM::Document in a StackSet template synth wrote
    (plain YAML, no intrinsic-function tags)."""
    try:
        body = yaml.safe_load(text)
    except yaml.YAMLError:
        yield "(template)", None
        return
    resources = body.get("Resources") if isinstance(body, dict) else None
    for logical, res in (resources or {}).items() if isinstance(resources, dict) else []:
        if not isinstance(res, dict) or res.get("Type") != "AWS::SSM::Document":
            continue
        content = (res.get("Properties") or {}).get("Content")
        if isinstance(content, str):
            try:
                content = json.loads(content)
            except ValueError:
                content = None
        yield str(logical), content


def embedded_exemption_problems(manifest: Manifest, base: Path, who: str) -> list[str]:
    """One line per deployed file whose embedded exemptions differ from ``manifest.exemptions``."""
    expected = _canonical([e.embedded() for e in manifest.exemptions])
    problems: list[str] = []

    def check(where: str, document: Any) -> None:
        for found in _payload_lists(document):
            got = _canonical(found)
            if got == expected:
                continue
            if got is None:
                detail = f"holds an {PAYLOAD_KEY} value that is not a list of exemptions"
            else:
                extra = len(set(got) - set(expected or []))
                missing = len(set(expected or []) - set(got))
                detail = (
                    f"embeds {len(got)} exemption(s) ({extra} not in the manifest, {missing} of the manifest's missing)"
                )
            problems.append(
                f"{who}: {where} {detail}, but manifest.exemptions lists {len(expected or [])}: the runbook "
                "would honour a list nobody reviewed; re-run `orgguard synth` from the governance file and review "
                "the new plan"
            )

    for i, doc in enumerate(manifest.documents):
        text = _read(base / doc.content_file)
        if text is not None:
            try:
                check(f"documents[{i}] {doc.content_file}", json.loads(text))
            except ValueError:
                problems.append(f"{who}: documents[{i}] {doc.content_file} is not JSON; re-run `orgguard synth`")
    for i, ss in enumerate(manifest.stack_sets):
        text = _read(base / ss.template_file) if ss.purpose == "documents" else None
        for logical, content in _template_documents(text) if text is not None else ():
            check(f"stack_sets[{i}] {ss.template_file} resource {logical}", content)
    return problems
