"""Plan every check, then run the targets on a bounded thread pool with per-target failure isolation.

A target is one (account, region), or (account, global) for IAM, or an organization-level read.
Everything a target could not read becomes UNVERIFIED with the reason; no exception aborts the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from orgguard.layers.notifications import verify as notifications
from orgguard.layers.vpc_block_public_access import verify as vpc_bpa
from orgguard.manifest import Manifest
from orgguard.verify import exceptions, member, org
from orgguard.verify.aws import DEFAULT_MAX_ATTEMPTS, CallCounter, SessionPool
from orgguard.verify.context import Memo, OrgFacts, Target
from orgguard.verify.errors import describe
from orgguard.verify.progress import Progress
from orgguard.verify.result import GLOBAL_REGION, CheckResult, VerifyReport, failed, passed, unverified

Key = tuple[str, str | None, str, str]  # check, control, account or OU, region


@dataclass
class Task:
    label: str
    assume: str | None  # account whose role must be assumed before any check runs
    checks: list[tuple[Key, Callable[[], CheckResult]]] = field(default_factory=list)


def _run_check(counter: CallCounter, key: Key, fn: Callable[[], CheckResult]) -> CheckResult:
    with counter.scope(key[2], key[3], key[0].split(":", 1)[0]):
        try:
            return fn()
        except member.Unverifiable as exc:
            return unverified(*key, str(exc))
        except Exception as exc:
            return unverified(*key, describe(exc))


def _run_item(pool: SessionPool, task: Task, key: Key, fn: Callable[[], CheckResult]) -> CheckResult:
    """One check; the account's role is assumed once (the pool caches success and failure alike)."""
    if task.assume is not None:
        try:
            with pool.counter.scope(task.assume, "-", "assume-role"):
                pool.session(task.assume)
        except Exception as exc:
            return unverified(*key, f"cannot assume {pool.role_name} in {task.assume}: {describe(exc)}")
    return _run_check(pool.counter, key, fn)


def _interleaved(tasks: list[Task]) -> list[tuple[Task, Key, Callable[[], CheckResult]]]:
    """First check of every target, then the second, ...: workers spread over targets instead of
    queueing behind one target's shared read."""
    items = []
    for index in range(max((len(t.checks) for t in tasks), default=0)):
        items += [(t, *t.checks[index]) for t in tasks if index < len(t.checks)]
    return items


def _pool_map(tasks: list[Task], pool: SessionPool, workers: int, progress: Progress | None) -> list[CheckResult]:
    """Checks are the pool's work items (bounded by ``workers``); progress counts finished targets."""
    results: list[CheckResult] = []
    remaining = {id(t): len(t.checks) for t in tasks}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="verify") as executor:
        futures = {executor.submit(_run_item, pool, t, key, fn): (t, key) for t, key, fn in _interleaved(tasks)}
        for future in as_completed(futures):
            task, key = futures[future]
            try:
                results.append(future.result())
            except Exception as exc:  # a bug in a check must still not abort the run
                results.append(unverified(*key, describe(exc)))
            remaining[id(task)] -= 1
            if progress and remaining[id(task)] == 0:
                progress.step(task.label)
    return results


def _gather(jobs: dict[Any, Callable[[], Any]], workers: int) -> dict[Any, Any]:
    """Run organization reads in parallel; each value is its result or the exception it raised."""
    out: dict[Any, Any] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="verify-org") as executor:
        futures = {executor.submit(fn): key for key, fn in jobs.items()}
        for future in as_completed(futures):
            try:
                out[futures[future]] = future.result()
            except Exception as exc:
                out[futures[future]] = exc
    return out


def _caller(pool: SessionPool) -> str | None:
    try:
        return pool.caller_account()
    except Exception:
        return None


def _org_facts(
    manifest: Manifest, pool: SessionPool, regions: list[str], workers: int
) -> tuple[OrgFacts, list[CheckResult]]:
    home = manifest.organization.home_region
    jobs: dict[Any, Callable[[], Any]] = {}

    def scoped(kind: str, region: str, fn: Callable[[], Any]) -> Callable[[], Any]:
        def call() -> Any:
            with pool.counter.scope("organization", region, kind):
                return fn()

        return call

    for ou in manifest.organization.target_ous:
        jobs[("ou", ou)] = scoped("organization-accounts", home, lambda ou=ou: org.accounts_under(pool, ou, home))
    for pack in manifest.conformance_packs:
        if pack.region in regions:
            read = lambda p=pack: org.pack_detailed_status(pool, p.name, p.region)  # noqa: E731
            jobs[("pack", (pack.name, pack.region))] = scoped("conformance-pack", pack.region, read)
    deployer = manifest.organization.deployer_account_id
    for ss in manifest.stack_sets:
        # CallAs=DELEGATED_ADMIN is only valid from the delegated admin; the management account owns the set.
        call_as = ss.call_as if _caller(pool) == deployer else "SELF"
        read = lambda s=ss, c=call_as: org.stack_instances(pool, s.name, s.region, c)  # noqa: E731
        jobs[("stackset", ss.name)] = scoped("stackset-instance", ss.region, read)
    gathered = _gather(jobs, workers)
    facts = OrgFacts()
    problems: list[CheckResult] = []
    for (kind, name), value in gathered.items():
        if kind == "ou":
            if isinstance(value, BaseException):
                problems.append(unverified("organization-accounts", None, name, GLOBAL_REGION, describe(value)))
            else:
                facts.ou_accounts[name] = value
        elif kind == "pack":
            facts.pack_status[name] = value
        else:
            facts.stack_instances[name] = value
    return facts, problems


def _member_tasks(
    manifest: Manifest,
    pool: SessionPool,
    facts: OrgFacts,
    accounts: list[str],
    regions: list[str],
    manifest_dir: Path | None,
    pack_templates: bool = False,
) -> list[Task]:
    tasks: list[Task] = []
    controls = manifest.enabled_controls()
    org_mode = manifest.mode == "organization"
    for account in accounts:
        for region in regions:
            t = Target(manifest, pool, account, region, facts, manifest_dir)
            task = Task(f"{account} {region}", account)
            task.checks.append((("config-recorder", None, account, region), lambda t=t: member.check_recorder(t)))
            for c in controls:
                task.checks.append((("config-rule", c.id, account, region), lambda t=t, c=c: member.check_rule(t, c)))
                task.checks.append(
                    (("remediation", c.id, account, region), lambda t=t, c=c: member.check_remediation(t, c))
                )
                task.checks += exceptions.member_checks(t, c)  # is remediation still closing what it finds?
            if manifest.fast_path and region in manifest.fast_path.regions:
                key = (f"fast-path:{manifest.fast_path.rule_name}", None, account, region)
                task.checks.append((key, lambda t=t: member.check_fast_path(t)))
            task.checks += vpc_bpa.member_checks(t)  # the preventive layer's effective mode, if on
            task.checks += notifications.member_checks(t)  # the forwarding rules, if notifications are on
            for pack in manifest.conformance_packs if org_mode and pack_templates else []:
                if pack.region == region:
                    key = (f"pack-template:{pack.name}", None, account, region)
                    task.checks.append((key, lambda t=t, p=pack: member.check_pack_template(t, p)))
            for doc in manifest.documents:
                if region in doc.regions:
                    key = (f"ssm-document:{doc.name}", None, account, region)
                    task.checks.append((key, lambda t=t, d=doc: member.check_document(t, d)))
            tasks.append(task)
        t = Target(manifest, pool, account, manifest.organization.home_region, facts, manifest_dir)
        task = Task(f"{account} iam", account)
        for role in manifest.roles:
            key = (f"iam-role:{role.name}", None, account, GLOBAL_REGION)
            task.checks.append((key, lambda t=t, r=role: member.check_role(t, r)))
        if task.checks:
            tasks.append(task)
        if org_mode:
            tasks.append(_org_view_task(manifest, t, facts, regions))
    return tasks


def _org_view_task(manifest: Manifest, t: Target, facts: OrgFacts, regions: list[str]) -> Task:
    """What the management account knows about one member: needs no AssumeRole, so a locked account keeps it."""
    account = t.account_id
    task = Task(f"{account} organization view", None)
    outside = _outside_target_ous(manifest, facts, account)
    for pack in manifest.conformance_packs:
        if pack.region in regions:
            key = (f"conformance-pack:{pack.name}", None, account, pack.region)
            view = Target(t.manifest, t.pool, account, pack.region, facts, t.manifest_dir)
            task.checks.append((key, lambda v=view, n=pack.name: member.check_pack_status(v, n)))
            if outside:
                key = (f"pack-scope:{pack.name}", None, account, pack.region)
                task.checks.append((key, lambda p=pack: _reached_outside(manifest, facts, account, p)))
    for ss in manifest.stack_sets:
        in_scope = any(account in facts.ou_accounts.get(ou, {account}) for ou in ss.target_ous)
        for region in ss.regions:
            if in_scope and region in regions:
                key = (f"stackset-instance:{ss.name}", None, account, region)
                task.checks.append((key, lambda n=ss.name, r=region: member.check_stack_instance(t, n, r)))
    return task


def _outside_target_ous(manifest: Manifest, facts: OrgFacts, account: str) -> bool:
    """True when the account is known to sit outside every target OU (and is not the management account
    that include_management_account gives its own runbooks): the StackSets gave it no runbook."""
    org_entry = manifest.organization
    if manifest.mode != "organization" or any(ou not in facts.ou_accounts for ou in org_entry.target_ous):
        return False  # an OU that could not be listed is reported UNVERIFIED already; assume nothing
    if account == org_entry.management_account_id:
        return account in {e.account_id for e in org_entry.excluded_accounts}
    return not any(account in facts.ou_accounts[ou] for ou in org_entry.target_ous)


def _reached_outside(manifest: Manifest, facts: OrgFacts, account: str, pack: Any) -> CheckResult:
    """A pack reached an account outside the target OUs: the regional stack excludes such accounts when it
    is applied, so this one joined (or moved) after that apply and has no runbook until it is applied again."""
    status = facts.pack_status.get((pack.name, pack.region))
    if isinstance(status, BaseException):
        raise status  # the pack status could not be read: UNVERIFIED, with the reason
    item = (status or {}).get(account)
    if item is None:  # not reached: excluded, as it should be (an account named with --accounts)
        return passed(f"pack-scope:{pack.name}", None, account, pack.region, {"excluded": True})
    stack = next((s.name for s in manifest.stacks if s.kind == "org-region" and s.region == pack.region), "")
    return failed(
        f"pack-scope:{pack.name}", None, account, pack.region,
        "excluded (outside the target OUs)", {"pack_status": (item or {}).get("Status")},
        f"reached by {pack.name} but outside the target OUs {', '.join(manifest.organization.target_ous)}, so "
        f"the StackSets gave it no runbook (it joined or moved after the last apply of {stack}); apply {stack} "
        "again to exclude it, or move the account into a target OU",
    )


def _org_tasks(manifest: Manifest, pool: SessionPool) -> list[Task]:
    home = manifest.organization.home_region
    memo = Memo()
    task = Task("organization", None)
    for entry in manifest.control_tower:
        name = entry.control_identifier.rsplit("/", 1)[-1]
        key = (f"control-tower:{name}", entry.for_control, org.ou_id(entry.target_identifier), home)

        def ct_check(e=entry) -> CheckResult:
            enabled = memo.get(
                ("ct", e.target_identifier), lambda: org.enabled_controls(pool, e.target_identifier, home)
            )
            alias = next((c.mappings.control_tower for c in manifest.controls if c.id == e.for_control), None)
            legacy = f"arn:aws:controltower:{home}::control/{alias}" if alias else None
            return org.check_control_tower(e, enabled, home, legacy)

        task.checks.append((key, ct_check))
    if manifest.scp is not None:
        scp = manifest.scp
        mgmt = manifest.organization.management_account_id
        for target in scp.targets:
            key = (f"scp:{scp.name}", None, target, GLOBAL_REGION)
            task.checks.append((key, lambda tg=target: org.check_scp(pool, scp, tg, home, mgmt)))
    task.checks += vpc_bpa.org_checks(manifest, lambda: pool.client(None, "organizations", home))
    return [task] if task.checks else []


def run(
    manifest: Manifest,
    *,
    session: boto3.Session,
    member_role_name: str,
    external_id: str | None,
    workers: int,
    progress: bool | None,
    accounts: list[str] | None,
    regions: list[str] | None,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    manifest_dir: Path | None = None,
    pack_templates: bool = False,
) -> VerifyReport:
    started = time.perf_counter()
    counter = CallCounter()
    pool = SessionPool(
        session,
        role_name=member_role_name,
        external_id=external_id,
        counter=counter,
        workers=workers,
        max_attempts=max_attempts,
    )
    try:  # asked once up front, so later calls know which account needs no AssumeRole
        with counter.scope("caller", "-", "caller-identity"):
            pool.caller_account()
    except Exception:
        pass  # every target will report the same error as UNVERIFIED
    wanted_regions = [r for r in manifest.organization.regions if regions is None or r in regions]
    excluded = {e.account_id for e in manifest.organization.excluded_accounts}
    results: list[CheckResult] = []
    facts = OrgFacts()
    if manifest.mode == "organization":
        facts, results = _org_facts(manifest, pool, wanted_regions, workers)
        members = sorted(set().union(*facts.ou_accounts.values())) if facts.ou_accounts else []
        # Organization packs have no OU scoping: every account a pack reports reached is checked too,
        # so an account outside the target OUs (detection without a runbook) shows up instead of hiding.
        reached = {a for status in facts.pack_status.values() if isinstance(status, dict) for a in status}
        members = sorted(set(members) | reached)
    else:
        members = list(manifest.accounts)
    if accounts is not None:
        members = list(accounts)
    members = [a for a in members if a not in excluded]
    tasks = _member_tasks(manifest, pool, facts, members, wanted_regions, manifest_dir, pack_templates)
    tasks += _org_tasks(manifest, pool)
    if manifest.notifications is not None and manifest.notifications.region in wanted_regions:
        n = manifest.notifications  # the central bus and topic, in their own account
        central = Task(f"{n.account_id} notifications", n.account_id)
        central.checks = notifications.central_checks(manifest, lambda svc: pool.client(n.account_id, svc, n.region))
        tasks.append(central)
    bar = Progress(len(tasks), enabled=progress) if progress is not False else None
    results += _pool_map(tasks, pool, workers, bar)
    results.sort(key=lambda r: (r.account_id, r.region, r.check, r.control or ""))
    return VerifyReport(
        results=results,
        api_calls=dict(counter.by_target),
        api_calls_by_check=dict(counter.by_check),
        api_operations=dict(counter.by_operation),
        wall_seconds=time.perf_counter() - started,
    )
