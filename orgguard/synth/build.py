"""Synthesize: governance file -> Terraform JSON per stack + the plan manifest.

Everything is built in a staging directory first; only when the whole synth succeeded does
orgguard.synth.install move it into the output, replacing the files synth writes and nothing else, so
an invalid file never leaves a half-written output and terraform state, lock files, `.terraform/` and
override files beside the stacks survive every re-synth.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from cdktn import App, TerraformStack

from orgguard.config.load import ConfigError, load_governance
from orgguard.manifest import Manifest
from orgguard.stacks.account import AccountStack
from orgguard.stacks.account_module import AccountBaseline
from orgguard.stacks.organization import OrgGlobalStack, OrgManagementStack, OrgRegionStack
from orgguard.synth.install import install, synth_lock
from orgguard.synth.plan import Plan, build_plan

MANIFEST_FILE = "orgguard-manifest.json"  # cdktf.out/manifest.json is cdktf's own


def plan_from_file(config_path: Path) -> Plan:
    gov = load_governance(config_path)
    return build_plan(gov, config_path, config_path.read_text())


def build_app(plan: Plan, outdir: Path, *, account: str | None = None) -> App:
    """The stacks of the plan; in account mode also writes the shared baseline modules into `outdir`.

    `account` keeps only that account's stack (a pipeline step per vended account); the manifest stays whole."""
    app = App(outdir=str(outdir), skip_validation=False)
    m = plan.manifest
    baseline = None
    if m.mode == "account":
        baseline = AccountBaseline.from_plan(plan)
        baseline.write(outdir)
    for stack in m.stacks:
        if account is not None and stack.kind == "account" and stack.account_id != account:
            continue
        if stack.kind == "org-global":
            OrgGlobalStack(app, stack.name, plan=plan)
        elif stack.kind == "org-management":
            OrgManagementStack(app, stack.name, plan=plan)
        elif stack.kind == "org-region":
            OrgRegionStack(app, stack.name, plan=plan, region=stack.region)
        else:
            AccountStack(app, stack.name, plan=plan, account_id=stack.account_id or "", baseline=baseline)
    _declare_order(app, m)
    return app


def _declare_order(app: App, manifest: Manifest) -> None:
    """cdktf's stack dependencies from the manifest's depends_on, so `cdktf deploy` applies in that order too."""
    stacks = {s.node.id: s for s in app.node.children if isinstance(s, TerraformStack)}
    for entry in manifest.stacks:
        for before in entry.depends_on:
            if entry.name in stacks and before in stacks:
                stacks[entry.name].add_dependency(stacks[before])


def _write_artifacts(plan: Plan, outdir: Path) -> None:
    m = plan.manifest
    for doc in plan.documents:
        path = outdir / doc.entry.content_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(doc.content)
    for pack in m.conformance_packs:
        path = outdir / pack.template_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan.pack_templates[pack.region])
    for stack_set in m.stack_sets:
        path = outdir / stack_set.template_file
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(plan.stackset_templates[stack_set.name])
    (outdir / MANIFEST_FILE).write_text(m.to_json())


def _write_hcl(app: App, outdir: Path) -> None:
    """HCL beside the JSON (hcl/<stack>/main.tf) for teams that review or vendor plain HCL."""
    for stack in app.node.children:
        if not isinstance(stack, TerraformStack):
            continue
        target = outdir / "hcl" / stack.node.id
        target.mkdir(parents=True, exist_ok=True)
        (target / "main.tf").write_text(stack.to_hcl_terraform()["hcl"] + "\n")


def check_account(plan: Plan, account: str | None) -> None:
    """`--account` must name one of the plan's vended accounts (account mode only)."""
    if account is None:
        return
    m = plan.manifest
    if m.mode != "account":
        problem = f"--account {account}: only for mode: account (this file is mode: {m.mode}); drop --account"
    elif account not in m.accounts:
        listed = ", ".join(m.accounts[:5]) + (f" and {len(m.accounts) - 5} more" if len(m.accounts) > 5 else "")
        problem = f"--account {account}: not in accounts; add it to accounts: or pick one of {listed}"
    else:
        return
    raise ConfigError(plan.governance_source, [problem])


def synthesize(config_path: Path, out_dir: Path, *, hcl: bool = False, account: str | None = None) -> Manifest:
    """Validate, plan and synthesize; raises ConfigError (nothing written) on invalid input.

    `account`: only that vended account's stack (plus the shared modules); the manifest is the whole plan."""
    config_path = Path(config_path)
    out_dir = Path(out_dir).resolve()
    plan = plan_from_file(config_path)
    check_account(plan, account)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    with synth_lock(out_dir.parent):
        # Staging inside an existing output keeps every rename on one file system (a mounted output too).
        where = out_dir if out_dir.is_dir() else out_dir.parent
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.new-", dir=where))
        try:
            app = build_app(plan, staging, account=account)
            app.synth()
            if hcl:
                _write_hcl(app, staging)
            _write_artifacts(plan, staging)
            report = install(staging, out_dir, plan_stacks={s.name for s in plan.manifest.stacks})
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    for name in report.kept_stacks:
        print(
            f"orgguard: warning: stack {name} is no longer in the plan; {out_dir / 'stacks' / name} is kept as it "
            "was (state included): run `terraform destroy` there to remove what it deployed, then delete it",
            file=sys.stderr,
        )
    for rel in report.kept_stale:
        print(
            f"orgguard: warning: {out_dir / rel} is no longer written by this synth (synth without --hcl?), but "
            "terraform state or .terraform/ is beside it, so it is kept as it was: re-run with the option that "
            "wrote it to update it, or move that state to the stack's new directory, then delete it",
            file=sys.stderr,
        )
    return plan.manifest


__all__ = ["MANIFEST_FILE", "ConfigError", "build_app", "plan_from_file", "synthesize"]
