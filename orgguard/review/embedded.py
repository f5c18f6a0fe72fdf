"""The exemptions the deployed runbook will honour, read from the files synth wrote, not from the manifest.

The runbook exempts exactly the ``ApprovedExemptions`` literal in its document's InputPayload
(orgguard/runbooks/model.py ``render_document``), and the documents StackSet template carries that same
content. ``manifest.exemptions`` is only a description of it: someone who edits the document and fixes its
hash in the manifest, or empties the manifest's list while the document keeps an entry, would otherwise show
the reviewer one list and deploy another. So the review reads the embedded lists and refuses a plan in which
they differ from the manifest's (review item 2).

What terraform applies is the stack files (``manifest.files``, hashed since review item 13), which carry the
documents and templates inline. A stack file whose document or template body differs from the hashed file
beside the manifest would deploy something the review never showed, so that is refused too.
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


# Terraform resources that carry a document or template inline, and the attribute that holds it.
_INLINE = {
    "aws_ssm_document": "content",
    "aws_cloudformation_stack_set": "template_body",
    "aws_config_organization_conformance_pack": "template_body",
}


def _unescaped(text: str) -> str:
    """What terraform sends for a literal string: cdktf escapes ``${`` and ``%{`` (template syntax) by doubling
    the sigil (checked with terraform 1.11: an output of "$${x}" is "${x}")."""
    return text.replace("$${", "${").replace("%%{", "%{")


def inline_body_problems(manifest: Manifest, base: Path, who: str) -> list[str]:
    """One line per stack or module file resource whose inline document or template is not the file the
    manifest hashes (by name: the document's, the StackSet's, the pack's in that stack's region)."""
    docs = {d.name: d.content_file for d in manifest.documents}
    sets = {s.name: s.template_file for s in manifest.stack_sets}
    packs = {(p.name, p.region): p.template_file for p in manifest.conformance_packs}
    stack_region = {f"stacks/{s.name}/cdk.tf.json": s.region for s in manifest.stacks}
    problems: list[str] = []
    for entry in manifest.files:
        text = _read(base / entry.path) if entry.path.endswith(".json") else None
        try:
            body = json.loads(text) if text is not None else None
        except ValueError:
            continue  # the hash check owns an unreadable file
        resources = body.get("resource") if isinstance(body, dict) else None
        for kind, attr in _INLINE.items():
            found = resources.get(kind) if isinstance(resources, dict) else None
            for logical, res in found.items() if isinstance(found, dict) else []:
                if not isinstance(res, dict) or not isinstance(res.get(attr), str):
                    continue
                name = res.get("name")
                if kind == "aws_ssm_document":
                    rel = docs.get(name)
                elif kind == "aws_cloudformation_stack_set":
                    rel = sets.get(name)
                else:
                    rel = packs.get((name, stack_region.get(entry.path, "")))
                expected = _read(base / rel) if rel else None
                if rel is None:
                    problems.append(
                        f"{who}: {entry.path} {kind}.{logical} deploys {str(name)[:60]!r}, which the manifest does "
                        "not list: terraform would apply what the review never showed; re-run `orgguard synth`"
                    )
                elif expected is not None and _unescaped(res[attr]) != expected:
                    problems.append(
                        f"{who}: {entry.path} {kind}.{logical} {attr} differs from {rel}, which the manifest "
                        "hashes: terraform would apply what the review never showed; re-run `orgguard synth`"
                    )
    return problems


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
