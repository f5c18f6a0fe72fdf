"""The plan manifest: the contract between synth, review and verify.

Synth writes it beside the stacks (``<out>/orgguard-manifest.json``; ``manifest.json`` there is
cdktf's); the review report and the verifier read it, so they check what was synthesized rather
than a second idea of it. Policies and ARNs that differ per member account carry the literal
placeholder ``${AWS::AccountId}`` (exactly what the StackSet's CloudFormation substitutes);
readers replace it with the account they look at.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    model_serializer,
    model_validator,
)

from orgguard.errors import ManifestError  # re-exported: the loader's callers import it from here
from orgguard.layers.notifications.entry import NotificationsEntry
from orgguard.layers.vpc_block_public_access.entry import VpcBpaEntry

MANIFEST_VERSION = 1
ACCOUNT_PLACEHOLDER = "${AWS::AccountId}"

RemediationMode = Literal["automatic", "manual", "off"]
# AWS::Config::ConfigRule MaximumExecutionFrequency / aws_config_config_rule maximum_execution_frequency values
# (botocore `config` model, MaximumExecutionFrequency enum).
ExecutionFrequency = Literal["One_Hour", "Three_Hours", "Six_Hours", "Twelve_Hours", "TwentyFour_Hours"]
Mode = Literal["organization", "account"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Mappings(_Model):
    security_hub: list[str] = Field(default_factory=list, description="Security Hub control IDs, e.g. EC2.13")
    control_tower: str | None = Field(None, description="Control Tower detective control, e.g. AWS-GR_RESTRICTED_SSH")
    control_tower_proactive: list[str] = Field(default_factory=list, description="CT.EC2.PR.x hooks (CFN only)")
    cis: list[str] = Field(default_factory=list, description="CIS AWS Foundations Benchmark items")


class RuleSpec(_Model):
    """The AWS Config rule as synthesized (before Config renames it in member accounts)."""

    name: str
    description: str
    source_owner: Literal["AWS", "CUSTOM_POLICY"]
    source_identifier: str | None = Field(None, description="Managed rule identifier; None for Guard rules")
    input_parameters: dict[str, str] = Field(default_factory=dict, description="Values are strings, as Config wants")
    policy_text: str | None = Field(None, description="Guard policy text of a CUSTOM_POLICY rule")
    policy_runtime: str | None = None
    resource_types: list[str] = Field(description="Scope: compliance resource types")
    maximum_execution_frequency: ExecutionFrequency | None = Field(
        None,
        description="Periodic rules: how often Config runs it (MaximumExecutionFrequency); left out when unset",
    )

    @model_serializer(mode="wrap")
    def _leave_out_unset_frequency(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """A rule without a frequency serializes as before the field existed: approved manifests keep their hash."""
        data: dict[str, Any] = handler(self)
        if data.get("maximum_execution_frequency") is None:
            data.pop("maximum_execution_frequency", None)
        return data


class RemediationParameter(_Model):
    """Exactly one of resource_value / static_values is set (Config's two parameter kinds)."""

    resource_value: Literal["RESOURCE_ID"] | None = None
    static_values: list[str] | None = None


class RemediationSpec(_Model):
    mode: RemediationMode
    document: str | None = Field(None, description="SSM Automation document name; None when mode is off")
    target_version: str | None = Field(None, description="None = the document's $DEFAULT version")
    role: str | None = Field(None, description="Name of the role the automation assumes")
    parameters: dict[str, RemediationParameter] = Field(default_factory=dict)
    maximum_automatic_attempts: int | None = None
    retry_attempt_seconds: int | None = None
    concurrent_execution_rate_percentage: int | None = None
    error_percentage: int | None = None


class ControlEntry(_Model):
    id: str = Field(description="The control's id: its folder under orgguard/controls, with hyphens")
    title: str
    enabled: bool
    severity: Literal["critical", "high", "medium", "low"]
    mappings: Mappings
    resource_types: list[str] = Field(description="Types the configuration recorder must record")
    rule: RuleSpec
    remediation: RemediationSpec
    caveats: list[str] = Field(default_factory=list, description="Known coverage limits, in plain words")
    remediation_advice: str = Field(
        "", description="What a person does about a finding, in plain words; left out of the JSON when empty"
    )


class DocumentEntry(_Model):
    name: str
    runbook: str = Field(description="Runbook key in orgguard.runbooks")
    document_type: Literal["Automation"] = "Automation"
    document_format: Literal["JSON"] = "JSON"
    sha256: str = Field(description="SHA-256 hex of the exact content string deployed (what SSM reports as Hash)")
    content_file: str = Field(description="Path of the content, relative to the manifest")
    revokes: str = Field(description="Plain words: what the runbook changes")
    never_touches: str = Field(description="Plain words: what it never changes")
    regions: list[str]


class RoleEntry(_Model):
    name: str
    path: str = "/"
    description: str
    trust_policy: dict[str, Any]
    permission_policies: dict[str, dict[str, Any]] = Field(description="Inline policy name -> policy document")
    used_by: list[str] = Field(description="Documents or services that use the role")


class ConformancePackEntry(_Model):
    name: str
    region: str
    template_sha256: str
    template_file: str = Field(description="Path of the pack template, relative to the manifest")
    rules: list[str] = Field(description="Rule names inside the pack, as synthesized")
    excluded_accounts: list[str]


class StackSetEntry(_Model):
    name: str
    region: str = Field(description="Region the StackSet is administered from (home region)")
    purpose: Literal["roles", "documents", "notifications"]
    permission_model: Literal["SERVICE_MANAGED"] = "SERVICE_MANAGED"
    call_as: Literal["SELF", "DELEGATED_ADMIN"]
    target_ous: list[str]
    regions: list[str] = Field(description="Regions its instances deploy to")
    template_sha256: str
    template_file: str


class ControlTowerControl(_Model):
    control_identifier: str
    target_identifier: str = Field(description="OU ARN")
    for_control: str


class ScpPolicy(_Model):
    name: str
    policy: dict[str, Any] = Field(description="Sent to AWS minified (orgguard.iam.policy.minified), <= 5,120 chars")


class ScpEntry(_Model):
    """The protecting SCP: one or more policies (an SCP holds at most 5,120 characters), all attached to
    every target. Together they act as one policy: ``policy`` is their statements together."""

    name: str = Field(description="Name of the first policy; further ones are <name>-2, <name>-3, ...")
    policies: list[ScpPolicy] = Field(min_length=1, max_length=4)
    targets: list[str] = Field(description="OU ids or account ids they are attached to")

    @model_validator(mode="before")
    @classmethod
    def _one_policy_manifests(cls, data: Any) -> Any:
        """Manifests written before the SCP could be split hold {name, policy, targets}: read them as one part."""
        if isinstance(data, dict) and "policy" in data and "policies" not in data:
            data = {**data, "policies": [{"name": data.get("name"), "policy": data["policy"]}]}
            del data["policy"]
        return data

    @property
    def policy(self) -> dict[str, Any]:
        """All parts' statements as one document: what the SCPs deny together (review, lint)."""
        found: list[Any] = []
        for part in self.policies:
            stmts = part.policy.get("Statement", [])
            found += stmts if isinstance(stmts, list) else [stmts]
        return {"Version": "2012-10-17", "Statement": found}


class FastPathRoute(_Model):
    """One EventBridge rule and its SSM Automation target (one per CloudTrail event shape)."""

    event_name: str
    event_pattern: dict[str, Any]
    input_paths: dict[str, str]
    input_template: str = Field(description="JSON text with EventBridge <placeholders> inside strings")


class FastPathEntry(_Model):
    rule_name: str = Field(description="Rule name; with several routes, route i is named <rule_name>-<i>")
    regions: list[str]
    event_pattern: dict[str, Any] = Field(description="The union of the routes' patterns")
    role: str
    document: str
    routes: list[FastPathRoute] = Field(default_factory=list)

    def route_rule_name(self, index: int) -> str:
        """Name of the rule of route `index` (1-based)."""
        return self.rule_name if len(self.routes) == 1 else f"{self.rule_name}-{index}"


class StateBackend(_Model):
    """Where terraform keeps one stack's state: the governance file's `state:` section, resolved per stack."""

    type: Literal["local", "s3"] = "local"
    path: str | None = Field("terraform.tfstate", description="local: the state file, relative to the stack directory")
    bucket: str | None = None
    key: str | None = Field(None, description="s3: <key_prefix>/<stack name>.tfstate, unique per stack")
    region: str | None = None
    use_lockfile: bool | None = None
    encrypt: bool | None = None
    dynamodb_table: str | None = None
    kms_key_id: str | None = None
    role_arn: str | None = Field(None, description="s3: role the backend assumes (its assume_role block)")


class StackEntry(_Model):
    name: str = Field(description="Directory under <out>/stacks/")
    kind: Literal["org-global", "org-management", "org-region", "account", "notifications"] = Field(
        description="org-management holds what only the management account may do (SCP, Control Tower) "
        "when a delegated administrator runs the rest; notifications the central bus and topic, applied first"
    )
    region: str
    account_id: str | None = Field(None, description="Account the provider is pinned to, if not the deployer")
    depends_on: list[str] = Field(
        default_factory=list,
        description="Stacks to apply before this one (global, then the management account's, then the regions)",
    )
    backend: StateBackend = Field(default_factory=StateBackend)


class SynthFile(_Model):
    """A Terraform file synth wrote and terraform applies, bound to the plan by its hash (the approval covers it)."""

    path: str = Field(description="stacks/<stack>/cdk.tf.json, hcl/<stack>/main.tf or modules/<module>/main.tf.json")
    sha256: str = Field(pattern="^[0-9a-f]{64}$", description="SHA-256 hex of the file's bytes")


class Exclusion(_Model):
    account_id: str
    reason: str


class Exemption(_Model):
    """An approved exemption: the runbook document embeds it, and honours nothing else (a tag never exempts)."""

    account_id: str
    security_group_id: str
    owner: str
    reason: str
    expires: str = Field(description="ISO date YYYY-MM-DD, inclusive (UTC)")
    ticket: str | None = Field(None, description="Change or risk ticket that approved it, if any")

    def embedded(self) -> dict[str, str]:
        """What the runbook document carries of it: what the runbook decides on and reports (not the reason)."""
        out = {
            "account_id": self.account_id,
            "security_group_id": self.security_group_id,
            "expires": self.expires,
            "owner": self.owner,
        }
        if self.ticket:
            out["ticket"] = self.ticket
        return out


class OrganizationEntry(_Model):
    management_account_id: str
    delegated_admin_account_id: str | None
    deployer_account_id: str = Field(description="Account that runs terraform (delegated admin, else management)")
    home_region: str
    regions: list[str]
    target_ous: list[str]
    excluded_accounts: list[Exclusion]


class ManifestSource(_Model):
    config_file: str
    config_sha256: str


class Manifest(_Model):
    manifest_version: Literal[1] = MANIFEST_VERSION
    tool_version: str
    name_prefix: str
    mode: Mode
    source: ManifestSource
    organization: OrganizationEntry
    accounts: list[str] = Field(description="Account mode: the vended accounts. Organization mode: empty")
    exemption_tag_key: str
    exemption_tag_format: str
    exemptions: list[Exemption]
    controls: list[ControlEntry]
    documents: list[DocumentEntry]
    roles: list[RoleEntry]
    conformance_packs: list[ConformancePackEntry]
    stack_sets: list[StackSetEntry]
    control_tower: list[ControlTowerControl]
    scp: ScpEntry | None
    fast_path: FastPathEntry | None
    stacks: list[StackEntry]
    recorder_resource_types: list[str] = Field(description="Union of resource types the enabled controls need")
    vpc_block_public_access: VpcBpaEntry | None = Field(
        None, description="The preventive layer, when on (orgguard/layers/vpc_block_public_access); left out when off"
    )
    files: list[SynthFile] = Field(
        default_factory=list,
        description="Every stack file (HCL too, when written) and shared module file of the plan, with its hash; "
        "`--account` records the same list as a full synth (orgguard/synth/build.py)",
    )
    notifications: NotificationsEntry | None = Field(
        None, description="The notifications layer (orgguard/layers/notifications); left out of the file when off"
    )

    def enabled_controls(self) -> list[ControlEntry]:
        return [c for c in self.controls if c.enabled]

    def document(self, name: str) -> DocumentEntry:
        return next(d for d in self.documents if d.name == name)

    def role(self, name: str) -> RoleEntry:
        return next(r for r in self.roles if r.name == name)

    def to_json(self) -> str:
        data = self.model_dump(mode="json")
        if not data["files"]:  # a manifest from before file hashes keeps its bytes, so its approval still matches
            del data["files"]
        for control in data["controls"]:  # only controls that give advice carry the key: older plans keep their bytes
            if not control["remediation_advice"]:
                del control["remediation_advice"]
        if data.get("vpc_block_public_access") is None:  # the layer off: the manifest is byte-for-byte as before
            data.pop("vpc_block_public_access", None)
        if data.get("notifications") is None:  # off: the manifest keeps the bytes it had before the layer
            data.pop("notifications", None)
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    def sha256(self) -> str:
        """Hash that an approval file names (see orgguard.review)."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()


def for_account(value: Any, account_id: str) -> Any:
    """Replace the account placeholder everywhere in a policy, ARN or nested structure."""
    if isinstance(value, str):
        return value.replace(ACCOUNT_PLACEHOLDER, account_id)
    if isinstance(value, list):
        return [for_account(v, account_id) for v in value]
    if isinstance(value, dict):
        return {k: for_account(v, account_id) for k, v in value.items()}
    return value


MANIFEST_FILE = "orgguard-manifest.json"
MAX_MANIFEST_BYTES = 32 * 1024 * 1024  # a 5,000-account plan is a few MB; anything bigger was not written by synth
MAX_ARTIFACT_BYTES = 4 * 1024 * 1024  # SSM documents are <= 64 KB, pack/StackSet bodies <= 51,200 bytes (or 1 MB in S3)
MAX_DEPTH = 64  # synth writes about 10 levels (policy conditions, event patterns)
FileCheck = Literal["require", "if_present", "skip"]
_REGENERATE = "regenerate it with `orgguard synth`"


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """Refuse a repeated key: JSON readers differ on which copy wins, so two tools could read two plans."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _depth(value: Any) -> int:
    """Nesting depth, computed without recursion and stopping as soon as it passes MAX_DEPTH."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            break
        stack.extend((child, level + 1) for child in children)
    return deepest


def _parse(file: Path, who: str) -> Any:
    """Bounded parse: size, UTF-8, JSON, unique keys and depth; every failure is one ManifestError line."""
    try:
        with file.open("rb") as handle:
            raw = handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError as exc:
        raise ManifestError([f"cannot read {who}: {exc.strerror or exc}; pass a readable {MANIFEST_FILE}"]) from None
    if len(raw) > MAX_MANIFEST_BYTES:
        raise ManifestError(
            [f"{who} is larger than {MAX_MANIFEST_BYTES // 2**20} MiB, so synth did not write it; " + _REGENERATE]
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ManifestError([f"{who} is not UTF-8 text (byte {exc.start}); {_REGENERATE}"]) from None
    try:
        data = json.loads(text, object_pairs_hook=_unique_pairs)
    except RecursionError:
        data, too_deep = None, True
    except _DuplicateKey as exc:
        raise ManifestError(
            [
                f"{who} repeats the key {exc.key[:60]!r} inside one object, so readers may disagree "
                f"on its value; {_REGENERATE}"
            ]
        ) from None
    except ValueError as exc:
        raise ManifestError([f"{who} is not valid JSON ({str(exc)[:120]}); {_REGENERATE}"]) from None
    else:
        too_deep = _depth(data) > MAX_DEPTH
    if too_deep:
        raise ManifestError([f"{who} nests deeper than {MAX_DEPTH} levels, so synth did not write it; {_REGENERATE}"])
    return data


def _artifacts(manifest: Manifest) -> list[tuple[str, str, str]]:
    """(manifest field, relative path, recorded sha256) of every file synth wrote beside the manifest."""
    out = [(f"documents[{i}].content_file", d.content_file, d.sha256) for i, d in enumerate(manifest.documents)]
    out += [
        (f"conformance_packs[{i}].template_file", p.template_file, p.template_sha256)
        for i, p in enumerate(manifest.conformance_packs)
    ]
    out += [
        (f"stack_sets[{i}].template_file", s.template_file, s.template_sha256)
        for i, s in enumerate(manifest.stack_sets)
    ]
    return out


def artifact_problems(manifest: Manifest, base: Path, *, require: bool = True) -> list[str]:
    """Each document and template file beside the manifest exists (if ``require``), stays inside its
    directory and hashes to the sha256 the manifest records, so no local edit is later blamed on AWS."""
    problems: list[str] = []
    root = base.resolve()
    for where, rel, recorded in _artifacts(manifest):
        path = (root / rel).resolve()
        if Path(rel).is_absolute() or not path.is_relative_to(root):
            problems.append(f"{where} {rel[:80]!r} points outside the manifest's directory; {_REGENERATE}")
            continue
        if not path.is_file():
            if require:
                problems.append(
                    f"{where}: {rel} is missing beside the manifest; keep the whole synth output "
                    "directory together, or " + _REGENERATE
                )
            continue
        try:
            with path.open("rb") as handle:
                data = handle.read(MAX_ARTIFACT_BYTES + 1)
        except OSError as exc:
            problems.append(f"{where}: cannot read {rel} ({exc.strerror or exc}); make it readable")
            continue
        actual = hashlib.sha256(data).hexdigest()
        if len(data) > MAX_ARTIFACT_BYTES:
            problems.append(f"{where}: {rel} is larger than {MAX_ARTIFACT_BYTES // 2**20} MiB; {_REGENERATE}")
        elif actual != recorded:
            problems.append(
                f"{where}: {rel} has sha256 {actual[:16]}..., the manifest records {recorded[:16]}...: "
                "the file changed after synth; restore it, or re-run `orgguard synth` and approve anew"
            )
    return problems


SYNTH_FILE_SHAPES = re.compile(r"(stacks/[^/]+/cdk\.tf\.json|hcl/[^/]+/main\.tf|modules/[^/]+/main\.tf\.json)")
MAX_SYNTH_FILE_BYTES = MAX_MANIFEST_BYTES


def _sha256_bounded(path: Path, limit: int) -> tuple[str, bool]:
    """(sha256 hex, within limit) of a file, read in chunks so a huge file costs no memory."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while size <= limit and (chunk := handle.read(1 << 20)):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size <= limit


def synth_file_problems(manifest: Manifest, base: Path, *, require: bool = True) -> list[str]:
    """What terraform applies matches the plan: each recorded stack, HCL and module file that is present
    hashes to its recorded sha256 (an absent one cannot be applied: `--account` writes one stack, HCL only
    with --hcl). With ``require``, a plan stack's `cdk.tf.json` or (account mode) a module file that is
    present must be recorded, so dropping a record from the manifest does not unbind its file."""
    problems: list[str] = []
    root = base.resolve()
    seen: set[str] = set()
    for i, entry in enumerate(manifest.files):
        where, rel = f"files[{i}]", entry.path
        if not SYNTH_FILE_SHAPES.fullmatch(rel) or ".." in rel.split("/") or rel in seen:
            what = "is recorded twice" if rel in seen else "is not a stack, HCL or module file synth writes"
            problems.append(f"{where}.path {rel[:80]!r} {what}; {_REGENERATE}")
            continue
        seen.add(rel)
        path = root / rel
        if not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            problems.append(f"{where}.path {rel[:80]!r} points outside the manifest's directory; {_REGENERATE}")
            continue
        try:
            actual, within = _sha256_bounded(path, MAX_SYNTH_FILE_BYTES)
        except OSError as exc:
            problems.append(f"{where}: cannot read {rel} ({exc.strerror or exc}); make it readable")
            continue
        if not within:
            problems.append(f"{where}: {rel} is larger than {MAX_SYNTH_FILE_BYTES // 2**20} MiB; {_REGENERATE}")
        elif actual != entry.sha256:
            problems.append(
                f"{where}: {rel} has sha256 {actual[:16]}..., the manifest records {entry.sha256[:16]}...: the file "
                "changed after synth, or an earlier synth left it; restore it, or re-run `orgguard synth` (without "
                "--account) and approve anew"
            )
    if require:
        present = [f"stacks/{s.name}/cdk.tf.json" for s in manifest.stacks]
        if manifest.mode == "account" and (root / "modules").is_dir():
            present += sorted(f"modules/{d.name}/main.tf.json" for d in (root / "modules").iterdir())
        for rel in present:
            if rel not in seen and os.path.lexists(root / rel):
                problems.append(
                    f"files: no hash recorded for {rel}, which is beside the manifest, so the plan does not bind what "
                    f"terraform applies there; {_REGENERATE} (this orgguard records it)"
                )
    return problems


def consistency_problems(manifest: Manifest) -> list[str]:
    """Fields that name each other agree: an enabled control's remediation document and role, and the fast
    path's, are in `documents` / `roles` (else the verifier would check a binding to nothing)."""
    problems: list[str] = []
    documents, roles = {d.name for d in manifest.documents}, {r.name for r in manifest.roles}
    named = [
        (f"controls[{i}] ({c.id}).remediation", c.remediation.document, c.remediation.role)
        for i, c in enumerate(manifest.controls)
        if c.enabled and c.remediation.mode != "off"
    ]
    if manifest.fast_path is not None:
        named.append(("fast_path", manifest.fast_path.document, manifest.fast_path.role))
    n = manifest.notifications
    if n is not None and n.member_role not in roles:  # every member rule's target names it
        problems.append(f"notifications.member_role {n.member_role[:80]!r} is not among roles; {_REGENERATE}")
    for where, document, role in named:
        if document not in documents:
            problems.append(f"{where}.document {str(document)[:80]!r} is not among documents; {_REGENERATE}")
        if role not in roles:
            problems.append(f"{where}.role {str(role)[:80]!r} is not among roles; {_REGENERATE}")
    return problems


def load_manifest(path: str | Path, *, files: FileCheck = "require", role: str = "manifest") -> Manifest:
    """The one way to read a manifest (review, verify, canary): bounded in size and depth, schema-checked,
    and with ``files`` the documents and templates beside it checked against their recorded hashes.

    Raises ManifestError with one line per problem; never a traceback, whatever the file holds.
    ``files="if_present"`` checks only the files that exist (a previous plan archived on its own).
    """
    file = Path(path)
    who = f"{role} {file}"
    if not file.is_file():
        state = "is not a file" if file.exists() else "does not exist"
        raise ManifestError([f"{who} {state}; pass the {MANIFEST_FILE} written by `orgguard synth --out DIR`"])
    data = _parse(file, who)
    if isinstance(data, dict) and set(data) == {"version", "stacks"}:
        raise ManifestError([f"{who} is cdktf's stack list, not the plan: pass {MANIFEST_FILE} from that directory"])
    if not isinstance(data, dict):
        raise ManifestError([f"{who} holds a JSON {type(data).__name__}, not the plan object; {_REGENERATE}"])
    try:
        manifest = Manifest.model_validate(data)
    except ValidationError as exc:
        # Synth writes the manifest, so a schema problem has one fix: one line naming the first field.
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        more = f" ({exc.error_count()} problem(s) in total)" if exc.error_count() > 1 else ""
        raise ManifestError([f"{who} is invalid at {where[:120]}: {err['msg'][:160]}; {_REGENERATE}{more}"]) from None
    problems = consistency_problems(manifest)
    if files != "skip":
        problems += artifact_problems(manifest, file.parent, require=files == "require")
        problems += synth_file_problems(manifest, file.parent, require=files == "require")
    if problems:
        raise ManifestError([f"{who}: {p}" for p in problems])
    return manifest
