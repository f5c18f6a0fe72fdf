"""What changed between the previous plan manifest and this one, with the risky changes flagged.

Most changes are for reading (a parameter, a document hash); a few can quietly weaken the guardrails
across hundreds of accounts, and those become flags a pipeline gate refuses without approval:
a widened permission, a control disabled or removed, remediation downgraded, a new excluded account,
a region or OU dropped, an exemption added or extended, a runbook or template whose content changed,
or a guardrail weakened in place (fewer restricted ports, no fast path, remediation that gives up sooner).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orgguard.manifest import ControlEntry, Exemption, Manifest, RoleEntry
from orgguard.review.plain import account as in_words
from orgguard.review.policy import merged, widenings
from orgguard.runbooks.sg_revoke import PORTS_PARAMETER, PROTOCOLS_PARAMETER

WIDENED = "widened-permission"
DISABLED = "control-disabled"
DOWNGRADED = "remediation-downgraded"
EXCLUSION = "new-exclusion"
SCOPE = "scope-reduced"
EXEMPTION = "exemption-added"
RUNBOOK = "runbook-changed"
WEAKENED = "guardrail-weakened"
BLOCKING = "blocking-enabled"  # a preventive layer blocks more traffic (orgguard/layers/vpc_block_public_access)

FLAG_TITLES = {
    WIDENED: "WIDENED PERMISSION",
    DISABLED: "CONTROL DISABLED",
    DOWNGRADED: "REMEDIATION DOWNGRADED",
    EXCLUSION: "NEW EXCLUDED ACCOUNT",
    SCOPE: "SCOPE REDUCED",
    EXEMPTION: "EXEMPTION ADDED",  # also an existing one extended
    RUNBOOK: "RUNBOOK CHANGED",  # a document's or template's content: what runs is no longer what was reviewed
    WEAKENED: "GUARDRAIL WEAKENED",
    BLOCKING: "BLOCKING ENABLED",  # traffic that flowed before is blocked: check no workload needs it
}

_MODE_RANK = {"automatic": 2, "manual": 1, "off": 0}
# Remediation tuning that makes a guardrail give up sooner, and in which direction (botocore config model,
# RemediationConfiguration and SsmControls): "If MaximumAutomaticAttempts remediation attempts have been made
# under RetryAttemptSeconds, a remediation exception will be added to the resource" -- so fewer attempts or a
# longer window put Config's own exception on a group a member keeps failing (review item 1); a lower
# ErrorPercentage stops SSM running the rule's automations after fewer errors; a lower concurrency fixes
# fewer resources at once.
_WEAKER_WHEN = {
    "maximum_automatic_attempts": ("lowered", "Config excepts a failing resource after fewer failed runs"),
    "retry_attempt_seconds": ("raised", "failed runs count towards Config's own exception over a longer window"),
    "error_percentage": ("lowered", "SSM stops running this rule's automations after fewer errors"),
    "concurrent_execution_rate_percentage": ("lowered", "fewer non-compliant resources are fixed at a time"),
}
# Config's defaults when a field is absent (same model): 5 attempts, 60 s, 50 % errors, 10 % concurrency.
_TUNING_DEFAULTS = {
    "maximum_automatic_attempts": 5,
    "retry_attempt_seconds": 60,
    "error_percentage": 50,
    "concurrent_execution_rate_percentage": 10,
}
_TUNING = (
    "target_version",
    "maximum_automatic_attempts",
    "retry_attempt_seconds",
    "concurrent_execution_rate_percentage",
    "error_percentage",
)


@dataclass(frozen=True)
class Flag:
    """A change that needs explicit approval before it may be applied."""

    kind: str
    subject: str
    detail: str

    @property
    def title(self) -> str:
        return FLAG_TITLES[self.kind]

    def line(self) -> str:
        return f"[{self.title}] {self.subject}: {self.detail}"


@dataclass(frozen=True)
class Change:
    """A change for reading: area (control, role, ...), what, and how."""

    area: str
    subject: str
    detail: str


@dataclass
class ManifestDiff:
    previous_sha256: str | None
    current_sha256: str
    added_controls: list[str] = field(default_factory=list)
    removed_controls: list[str] = field(default_factory=list)
    changed_controls: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    flags: list[Flag] = field(default_factory=list)

    @property
    def first_deployment(self) -> bool:
        return self.previous_sha256 is None

    @property
    def empty(self) -> bool:
        return not (self.changes or self.flags)

    def flag(self, kind: str, subject: str, detail: str) -> None:
        item = Flag(kind, subject, detail)
        if item not in self.flags:
            self.flags.append(item)

    def change(self, area: str, subject: str, detail: str) -> None:
        self.changes.append(Change(area, subject, detail))


def _fmt(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "(none)"
    return str(value)


def _by(items: list[Any], key: str) -> dict[str, Any]:
    return {getattr(i, key): i for i in items}


def _diff_mapping(
    diff: ManifestDiff, area: str, subject: str, label: str, old: dict[str, Any], new: dict[str, Any]
) -> None:
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before == after:
            continue
        if hasattr(before, "model_dump"):
            before = before.model_dump(exclude_none=True)
        if hasattr(after, "model_dump"):
            after = after.model_dump(exclude_none=True)
        if key not in old:
            diff.change(area, subject, f"{label} {key} added: {after}")
        elif key not in new:
            diff.change(area, subject, f"{label} {key} removed (was {before})")
        else:
            diff.change(area, subject, f"{label} {key}: {before} → {after}")


def _diff_control(diff: ManifestDiff, old: ControlEntry, new: ControlEntry) -> None:
    cid = new.id
    before = len(diff.changes) + len(diff.flags)
    if old.enabled and not new.enabled:
        diff.flag(DISABLED, cid, "control disabled: it will no longer detect or remediate anywhere")
    elif new.enabled and not old.enabled:
        diff.change("control", cid, "control enabled")
    for attr in ("title", "severity"):
        if getattr(old, attr) != getattr(new, attr):
            diff.change("control", cid, f"{attr}: {getattr(old, attr)} → {getattr(new, attr)}")
    if old.mappings != new.mappings:
        diff.change("control", cid, f"mappings: {old.mappings.model_dump()} → {new.mappings.model_dump()}")
    if old.resource_types != new.resource_types:
        diff.change("control", cid, f"resource types: {_fmt(old.resource_types)} → {_fmt(new.resource_types)}")
    o, n = old.rule, new.rule
    for attr in ("name", "source_owner", "source_identifier", "policy_runtime", "resource_types"):
        if getattr(o, attr) != getattr(n, attr):
            diff.change("control", cid, f"rule {attr}: {_fmt(getattr(o, attr))} → {_fmt(getattr(n, attr))}")
    _diff_frequency(diff, old, new)
    if o.policy_text != n.policy_text:
        diff.change("control", cid, "rule Guard policy text changed")
    _diff_mapping(diff, "control", cid, "rule parameter", o.input_parameters, n.input_parameters)
    _flag_fewer_ports(diff, old, new)
    _flag_protocols(diff, old, new)
    _flag_narrower_detection(diff, old, new)
    ro, rn = old.remediation, new.remediation
    if ro.mode != rn.mode:
        words = f"remediation {ro.mode} → {rn.mode}"
        if _MODE_RANK[rn.mode] < _MODE_RANK[ro.mode] and new.enabled:
            diff.flag(
                DOWNGRADED,
                cid,
                words + ": findings are no longer fixed " + ("automatically" if rn.mode == "manual" else "at all"),
            )
        else:
            diff.change("control", cid, words)
    for attr in ("document", "role", *_TUNING):
        if getattr(ro, attr) != getattr(rn, attr):
            words = f"remediation {attr}: {_fmt(getattr(ro, attr))} → {_fmt(getattr(rn, attr))}"
            why = _weaker_tuning(attr, getattr(ro, attr), getattr(rn, attr))
            if why and new.enabled and rn.mode == "automatic":
                diff.flag(WEAKENED, cid, f"{words}: {why}")
            else:
                diff.change("control", cid, words)
    _diff_mapping(diff, "control", cid, "remediation parameter", dict(ro.parameters), dict(rn.parameters))
    if old.caveats != new.caveats:
        diff.change("control", cid, "caveats changed")
    if old.remediation_advice != new.remediation_advice:
        diff.change("control", cid, "remediation advice changed")
    if len(diff.changes) + len(diff.flags) > before:
        diff.changed_controls.append(cid)


def _ports(values: Any) -> set[str]:
    """Port numbers in a rule parameter or a StaticValues list: single values or comma-separated lists."""
    out: set[str] = set()
    for v in values or []:
        out |= {p.strip() for p in str(v).split(",") if p.strip()}
    return out


def _restricted_ports(entry: ControlEntry) -> set[str]:
    """The ports a control detects (rule parameters blockedPort1..5 / blockedPorts) and remediates
    (the SG revoke runbook's ports parameter)."""
    params = entry.rule.input_parameters
    detected = _ports(v for k, v in params.items() if k.startswith("blockedPort") or k == "restrictPorts")
    restricted = entry.remediation.parameters.get(PORTS_PARAMETER)
    return detected | _ports(restricted.static_values if restricted else [])


def _flag_fewer_ports(diff: ManifestDiff, old: ControlEntry, new: ControlEntry) -> None:
    if not new.enabled:
        return  # disabling is flagged on its own
    lost = _restricted_ports(old) - _restricted_ports(new)
    if lost:
        ports = ", ".join(sorted(lost, key=lambda p: (len(p), p)))
        diff.flag(
            WEAKENED,
            new.id,
            f"port(s) {ports} no longer restricted: open rules to them are neither detected nor revoked",
        )


# A periodic rule's MaximumExecutionFrequency, shortest first (botocore config model enum): a longer one finds
# an open rule later, so it weakens the guardrail.
_FREQUENCY_RANK = {"One_Hour": 1, "Three_Hours": 3, "Six_Hours": 6, "Twelve_Hours": 12, "TwentyFour_Hours": 24}


def _diff_frequency(diff: ManifestDiff, old: ControlEntry, new: ControlEntry) -> None:
    before, after = old.rule.maximum_execution_frequency, new.rule.maximum_execution_frequency
    if before == after:
        return
    words = f"rule frequency: {_fmt(before)} → {_fmt(after)}"
    if new.enabled and before and after and _FREQUENCY_RANK[after] > _FREQUENCY_RANK[before]:
        diff.flag(WEAKENED, new.id, f"{words}: Config runs the periodic rule less often, so exposure lasts longer")
    else:
        diff.change("control", new.id, words)


def _udp_revoked_automatically(entry: ControlEntry | None) -> bool:
    """Does this control's automatic remediation revoke UDP rules (the SG runbook's RestrictedProtocols)?"""
    if entry is None or not entry.enabled or entry.remediation.mode != "automatic":
        return False
    protocols = entry.remediation.parameters.get(PROTOCOLS_PARAMETER)
    return "udp" in (protocols.static_values or []) if protocols else False


def _flag_protocols(diff: ManifestDiff, old: ControlEntry | None, new: ControlEntry) -> None:
    """UDP newly revoked without approval blocks traffic that flowed (DNS, VPN, games); UDP no longer restricted
    leaves it open. Both need approval; TCP-only controls never pass RestrictedProtocols, so never flag here."""
    if _udp_revoked_automatically(new) and not _udp_revoked_automatically(old):
        ports = ", ".join(sorted(_restricted_ports(new), key=lambda p: (len(p), p)))
        diff.flag(
            BLOCKING,
            new.id,
            f"automatic remediation now revokes UDP (and all-traffic) rules that open port(s) {ports} to the "
            "internet in every account: check no workload needs them",
        )
    if old is None or not new.enabled:
        return
    lost = set(_protocols(old)) - set(_protocols(new))
    if lost:
        diff.flag(WEAKENED, new.id, f"{', '.join(sorted(lost))} no longer restricted: open rules over it stay open")


def _protocols(entry: ControlEntry) -> list[str]:
    """The protocols a control restricts: the rule's protocolType and the runbook's RestrictedProtocols."""
    default = "all" if entry.rule.source_identifier == SG_PORT_RULE else ""  # the rule's page: default 'ALL'
    kind = str(entry.rule.input_parameters.get("protocolType", default)).lower()
    detected = ["tcp", "udp"] if kind == "all" else [kind] if kind else []
    param = entry.remediation.parameters.get(PROTOCOLS_PARAMETER)
    return sorted(set(detected) | set((param.static_values or []) if param else []))


# Managed-rule parameters whose change narrows what the rule detects, read with AWS's default when the key is
# absent. VPC_SG_PORT_RESTRICTION_CHECK: "ipType ... 'IPv4', 'IPv6', 'ALL' ... Default 'ALL'" and
# "excludeExternalSecurityGroups ... If 'true', external SGs ... are not evaluated. Default 'true'"
# (https://docs.aws.amazon.com/config/latest/developerguide/vpc-sg-port-restriction-check.html; restrictPorts and
# protocolType are flagged by _flag_fewer_ports and _flag_protocols). ECS_NO_ENVIRONMENT_SECRETS: secretKeys, the
# comma-separated names that count as secrets, "Extra spaces will be removed"
# (https://docs.aws.amazon.com/config/latest/developerguide/ecs-no-environment-secrets.html).
SG_PORT_RULE = "VPC_SG_PORT_RESTRICTION_CHECK"
ECS_SECRETS_RULE = "ECS_NO_ENVIRONMENT_SECRETS"
_IP_FAMILIES = {"IPV4": {"0.0.0.0/0 (IPv4)"}, "IPV6": {"::/0 (IPv6)"}, "ALL": {"0.0.0.0/0 (IPv4)", "::/0 (IPv6)"}}


def _ip_families(value: Any) -> set[str]:
    """The internets the rule checks; a value AWS does not list counts as none, so the review fails closed."""
    return set(_IP_FAMILIES.get(str("ALL" if value is None else value).strip().upper(), set()))


def _evaluates_external_groups(value: Any) -> bool:
    """Only an explicit 'false' makes the rule evaluate groups shared from another account."""
    return value is not None and str(value).strip().lower() == "false"


def _secret_keys(value: Any) -> set[str]:
    return {k.strip() for k in str(value or "").split(",") if k.strip()}


def _flag_narrower_detection(diff: ManifestDiff, old: ControlEntry, new: ControlEntry) -> None:
    """A parameter narrowed in place: the rule stays enabled and COMPLIANT while exposure it used to report goes
    unreported, which a plain "parameter changed" line would let through the gate unapproved."""
    rule = new.rule.source_identifier
    if not new.enabled or old.rule.source_identifier != rule or old.rule.source_owner != new.rule.source_owner:
        return
    before, after = old.rule.input_parameters, new.rule.input_parameters
    if rule == SG_PORT_RULE:
        lost = _ip_families(before.get("ipType")) - _ip_families(after.get("ipType"))
        if lost:
            diff.flag(
                WEAKENED,
                new.id,
                f"rule ipType {before.get('ipType', 'ALL (default)')} → {after.get('ipType', 'ALL (default)')}: "
                f"exposure from {' and '.join(sorted(lost))} is no longer detected",
            )
        was = _evaluates_external_groups(before.get("excludeExternalSecurityGroups"))
        if was and not _evaluates_external_groups(after.get("excludeExternalSecurityGroups")):
            diff.flag(
                WEAKENED,
                new.id,
                "rule excludeExternalSecurityGroups false → "
                f"{after.get('excludeExternalSecurityGroups', 'true (default)')}: security groups shared from "
                "another account are no longer evaluated",
            )
    elif rule == ECS_SECRETS_RULE:
        gone = _secret_keys(before.get("secretKeys")) - _secret_keys(after.get("secretKeys"))
        if gone:
            diff.flag(
                WEAKENED,
                new.id,
                f"secret key(s) {', '.join(sorted(gone))} no longer detected: a task definition passing them as "
                "plain environment variables is no longer found",
            )


def _weaker_tuning(attr: str, before: Any, after: Any) -> str | None:
    """Why a tuning change weakens remediation, or None."""
    if attr not in _WEAKER_WHEN:
        return None
    direction, why = _WEAKER_WHEN[attr]
    old = _TUNING_DEFAULTS[attr] if before is None else before
    new = _TUNING_DEFAULTS[attr] if after is None else after
    if (new < old) if direction == "lowered" else (new > old):
        return why
    return None


def _diff_controls(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    before = _by(old.controls, "id") if old else {}
    after = _by(new.controls, "id")
    for cid, entry in after.items():
        if cid not in before:
            diff.added_controls.append(cid)
            state = f"enabled, remediation {entry.remediation.mode}" if entry.enabled else "disabled"
            diff.change("control", cid, f"control added ({state})")
            _flag_protocols(diff, None, entry)
        else:
            _diff_control(diff, before[cid], entry)
    for cid, entry in before.items():
        if cid not in after:
            diff.removed_controls.append(cid)
            if entry.enabled:
                diff.flag(DISABLED, cid, "control removed from the plan: it will no longer be enforced")
            else:
                diff.change("control", cid, "control removed (it was disabled)")


def _role_policy(role: RoleEntry | None) -> dict[str, Any] | None:
    return merged(role.permission_policies.values()) if role else None


def _diff_roles(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    before = _by(old.roles, "name") if old else {}
    after = _by(new.roles, "name")
    for name, role in after.items():
        prev = before.get(name)
        subject = f"role {name}"
        trust = widenings(prev.trust_policy if prev else None, role.trust_policy)
        perms = widenings(_role_policy(prev), _role_policy(role))
        if prev is None:
            if trust or perms:
                words = [f"trust policy {in_words(w.detail)}" for w in trust] + [in_words(w.detail) for w in perms]
                diff.flag(WIDENED, subject, "new role: " + "; ".join(words))
            else:
                diff.change("role", name, "role added (grants nothing)")
            continue
        for w in trust:
            diff.flag(WIDENED, subject, f"trust policy: {in_words(w.detail)}")
        for w in perms:
            diff.flag(WIDENED, subject, in_words(w.detail))
        if prev.trust_policy != role.trust_policy and not trust:
            diff.change("role", name, "trust policy changed, not widened (narrowed or reworded)")
        if prev.permission_policies != role.permission_policies and not perms:
            diff.change("role", name, "permissions changed, not widened (narrowed or reworded)")
        if prev.used_by != role.used_by:
            diff.change("role", name, f"used by: {_fmt(prev.used_by)} → {_fmt(role.used_by)}")
    for name in before:
        if name not in after:
            diff.flag(WEAKENED, f"role {name}", "role removed: the runbooks that run as it fail")


def _diff_documents(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    before = _by(old.documents, "name") if old else {}
    after = _by(new.documents, "name")
    for name, doc in after.items():
        prev = before.get(name)
        if prev is None:
            diff.change("document", name, f"document added (sha256 {doc.sha256})")
            continue
        if prev.sha256 != doc.sha256:
            diff.flag(
                RUNBOOK,
                f"document {name}",
                f"content changed (sha256 {prev.sha256[:12]}… → {doc.sha256[:12]}…): review the script and its "
                "embedded exemptions before approving",
            )
        for attr in ("revokes", "never_touches"):
            if getattr(prev, attr) != getattr(doc, attr):
                diff.change("document", name, f"{attr.replace('_', ' ')}: {getattr(doc, attr)}")
        _diff_list(diff, f"document {name}", "region", prev.regions, doc.regions, True)
    for name in before:
        if name not in after:
            diff.flag(WEAKENED, f"document {name}", "document removed: remediation that uses it cannot run")


def _diff_list(
    diff: ManifestDiff, subject: str, label: str, old: list[str], new: list[str], flag_removed: bool
) -> None:
    for item in old:
        if item not in new:
            if flag_removed:
                diff.flag(SCOPE, subject, f"{label} {item} removed: the guardrails no longer reach it")
            else:
                diff.change("scope", subject, f"{label} {item} removed")
    for item in new:
        if item not in old:
            diff.change("scope", subject, f"{label} {item} added")


def _diff_scope(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    o, n = (old.organization if old else None), new.organization
    _diff_list(diff, "organization", "region", o.regions if o else [], n.regions, True)
    _diff_list(diff, "organization", "target OU", o.target_ous if o else [], n.target_ous, True)
    _diff_list(diff, "vended accounts", "account", old.accounts if old else [], new.accounts, True)
    if o:
        for attr in ("management_account_id", "delegated_admin_account_id", "deployer_account_id", "home_region"):
            if getattr(o, attr) != getattr(n, attr):
                diff.change("scope", "organization", f"{attr}: {getattr(o, attr)} → {getattr(n, attr)}")
        if old and old.mode != new.mode:
            diff.change("scope", "plan", f"mode: {old.mode} → {new.mode}")
    excluded_before = {e.account_id for e in o.excluded_accounts} if o else set()
    for e in n.excluded_accounts:
        if e.account_id not in excluded_before:
            diff.flag(EXCLUSION, f"account {e.account_id}", f"excluded from every control: {e.reason}")
    for account in excluded_before - {e.account_id for e in n.excluded_accounts}:
        diff.change("scope", f"account {account}", "no longer excluded")
    # Organization packs share one name across regions: a pack is its name in its region.
    packs_before = {(p.name, p.region): p for p in (old.conformance_packs if old else [])}
    packs_after = {(p.name, p.region): p for p in new.conformance_packs}
    org_excluded = {e.account_id for e in n.excluded_accounts}
    for key, pack in packs_after.items():
        label = f"{pack.name} ({pack.region})"
        prev = packs_before.get(key)
        if prev is None:
            diff.change("conformance pack", label, "pack added")
        else:
            if prev.template_sha256 != pack.template_sha256:
                diff.flag(
                    RUNBOOK,
                    f"conformance pack {label}",
                    "template content changed: review the rules and remediation bindings it deploys",
                )
            _diff_list(diff, f"conformance pack {label}", "rule", prev.rules, pack.rules, True)
        previously = set(prev.excluded_accounts) if prev else excluded_before
        for acct in pack.excluded_accounts:
            if acct not in previously and acct not in (org_excluded - excluded_before):
                diff.flag(EXCLUSION, f"account {acct}", f"excluded from conformance pack {label}")
    for key in packs_before.keys() - packs_after.keys():
        diff.flag(
            SCOPE,
            f"conformance pack {key[0]} ({key[1]})",
            "pack removed: its rules no longer detect or remediate in that region",
        )
    sets_before = _by(old.stack_sets, "name") if old else {}
    for ss in new.stack_sets:
        prev = sets_before.get(ss.name)
        if prev is None:
            diff.change("stackset", ss.name, f"StackSet added ({ss.purpose})")
            continue
        _diff_list(diff, f"StackSet {ss.name}", "target OU", prev.target_ous, ss.target_ous, True)
        _diff_list(diff, f"StackSet {ss.name}", "region", prev.regions, ss.regions, True)
        if prev.template_sha256 != ss.template_sha256:
            diff.flag(
                RUNBOOK,
                f"StackSet {ss.name}",
                f"template content changed: review the {ss.purpose} it deploys into every member account",
            )
    for name in sets_before:
        if name not in {s.name for s in new.stack_sets}:
            diff.flag(SCOPE, f"StackSet {name}", "StackSet removed: member accounts lose what it deployed")


def _diff_control_tower(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    key = lambda c: (c.control_identifier, c.target_identifier)  # noqa: E731
    before = {key(c): c for c in (old.control_tower if old else [])}
    after = {key(c): c for c in new.control_tower}
    for k, c in after.items():
        if k not in before:
            diff.change("control tower", c.control_identifier, f"enabled on {c.target_identifier}")
    for k, c in before.items():
        if k not in after:
            diff.flag(DISABLED, f"Control Tower {c.control_identifier}", f"no longer enabled on {c.target_identifier}")


def _diff_scp(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    o, n = (old.scp if old else None), new.scp
    if o and not n:
        diff.flag(WIDENED, f"SCP {o.name}", "SCP removed: governance resources are no longer protected")
        return
    if not n:
        return
    if not o:
        diff.change("scp", n.name, f"SCP added, attached to {_fmt(n.targets)}")
        return
    for w in widenings(o.policy, n.policy):
        diff.flag(WIDENED, f"SCP {n.name}", in_words(w.detail))
    if o.policy != n.policy and not widenings(o.policy, n.policy):
        diff.change("scp", n.name, "policy changed, no Deny dropped")
    _diff_list(diff, f"SCP {n.name}", "target", o.targets, n.targets, True)


def _ticket(e: Exemption) -> str:
    return f", ticket {e.ticket}" if e.ticket else ""


def _diff_exemptions(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    """Exemptions are embedded in the SG runbook document: a new or longer one keeps a group open, so it is
    flagged; a shorter or removed one only closes sooner, so it is a change for reading."""
    before = {(e.account_id, e.security_group_id): e for e in (old.exemptions if old else [])}
    after = {(e.account_id, e.security_group_id): e for e in new.exemptions}
    for k, e in after.items():
        subject = f"{e.security_group_id} in {e.account_id}"
        prev = before.get(k)
        if prev is None:
            diff.flag(EXEMPTION, subject, f"exempt until {e.expires}, owner {e.owner}{_ticket(e)}: {e.reason}")
        elif e.expires > prev.expires:
            diff.flag(
                EXEMPTION,
                subject,
                f"exemption extended from {prev.expires} to {e.expires}, owner {e.owner}{_ticket(e)}: {e.reason}",
            )
        elif prev != e:
            fields = [f for f in ("owner", "reason", "ticket", "expires") if getattr(prev, f) != getattr(e, f)]
            words = ", ".join(f"{f} {getattr(prev, f) or '(none)'} → {getattr(e, f) or '(none)'}" for f in fields)
            diff.change("exemption", subject, f"updated: {words}")
    for k, e in before.items():
        if k not in after:
            diff.change("exemption", f"{e.security_group_id} in {e.account_id}", "exemption removed: remediated again")
    if old and old.exemption_tag_key != new.exemption_tag_key:
        diff.change("exemption", "tag key (a label only)", f"{old.exemption_tag_key} → {new.exemption_tag_key}")


def _diff_misc(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    if old is None:
        return
    o, n = old.fast_path, new.fast_path
    if o != n:
        if n is None:
            diff.flag(WEAKENED, "fast path", "fast path removed: an open rule stays open until Config evaluates it")
        elif o is None:
            diff.change("fast path", n.rule_name, "fast path added")
        else:
            lost = [r for r in o.regions if r not in n.regions]
            if lost:
                diff.flag(WEAKENED, "fast path", f"no longer in region(s) {_fmt(lost)}")
            if o.event_pattern != n.event_pattern or o.routes != n.routes:
                diff.flag(
                    WEAKENED,
                    "fast path",
                    "event patterns or targets changed: review which ingress changes still start the runbook",
                )
            elif not lost:
                diff.change("fast path", n.rule_name, "fast path changed")
    removed = [t for t in old.recorder_resource_types if t not in new.recorder_resource_types]
    if removed:
        diff.change("recorder", "resource types", f"no longer required: {_fmt(removed)}")


def _diff_vpc_bpa(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    from orgguard.layers.vpc_block_public_access.review import diff_layer  # it imports this module's kinds

    diff_layer(diff, old, new)


def _diff_notifications(diff: ManifestDiff, old: Manifest | None, new: Manifest) -> None:
    from orgguard.layers.notifications.review import diff_layer  # it imports this module's kinds

    diff_layer(diff, old, new)


def diff_manifests(previous: Manifest | None, current: Manifest) -> ManifestDiff:
    """Compare two plans; ``previous=None`` is a first deployment, where everything is new."""
    diff = ManifestDiff(previous.sha256() if previous else None, current.sha256())
    for step in (
        _diff_controls,
        _diff_roles,
        _diff_documents,
        _diff_scope,
        _diff_control_tower,
        _diff_scp,
        _diff_exemptions,
        _diff_misc,
        _diff_vpc_bpa,
        _diff_notifications,
    ):
        step(diff, previous, current)
    return diff
