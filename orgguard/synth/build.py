"""Synthesize: governance file -> Terraform JSON per stack + the plan manifest.

Everything is built in a staging directory first; only when the whole synth succeeded does
orgguard.synth.install move it into the output, replacing the files synth writes and nothing else, so
an invalid file never leaves a half-written output and terraform state, lock files, `.terraform/` and
override files beside the stacks survive every re-synth.
"""

from __future__ import annotations

import copy
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

from cdktn import App, TerraformStack

from orgguard.config.load import ConfigError, load_governance
from orgguard.constructs.provider import AWS_PROVIDER_VERSION
from orgguard.layers.notifications.stacks import NotificationsStack
from orgguard.manifest import Manifest, SynthFile
from orgguard.stacks.account import AccountStack
from orgguard.stacks.account_module import ACCOUNT_STAND_IN, MODULE_FILE, MODULES_DIR, AccountBaseline
from orgguard.stacks.organization import OrgGlobalStack, OrgManagementStack, OrgRegionStack
from orgguard.synth.install import install, synth_lock
from orgguard.synth.plan import Plan, build_plan
from orgguard.synth.stacks import backend_for

MANIFEST_FILE = "orgguard-manifest.json"  # cdktf.out/manifest.json is cdktf's own


def plan_from_file(config_path: Path) -> Plan:
    gov = load_governance(config_path)
    return build_plan(gov, config_path, config_path.read_text())


def build_app(plan: Plan, outdir: Path, *, account: str | None = None, baseline: AccountBaseline | None = None) -> App:
    """The stacks of the plan; in account mode also writes the shared baseline modules into `outdir`.

    `account` keeps only that account's stack (a pipeline step per vended account); the manifest stays whole."""
    app = App(outdir=str(outdir), skip_validation=False)
    m = plan.manifest
    if m.mode == "account":
        baseline = baseline or AccountBaseline.from_plan(plan)
        baseline.write(outdir)
    for stack in m.stacks:
        if account is not None and stack.kind == "account" and stack.account_id != account:
            continue
        if stack.kind == "notifications":
            NotificationsStack(app, stack.name, plan=plan)
        elif stack.kind == "org-global":
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


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _stack_texts(app: App, outdir: Path, name: str, hcl: bool) -> dict[str, str]:
    """The files of one synthesized stack, as written (hcl/<name>/main.tf only with --hcl)."""
    texts = {f"stacks/{name}/cdk.tf.json": (outdir / "stacks" / name / "cdk.tf.json").read_text()}
    if hcl:
        texts[f"hcl/{name}/main.tf"] = (outdir / "hcl" / name / "main.tf").read_text()
    return texts


def _account_stand_in(plan: Plan, baseline: AccountBaseline, hcl: bool) -> tuple[str, dict[str, str]]:
    """One account stack synthesized for ACCOUNT_STAND_IN (which the plan never contains, checked by
    AccountBaseline.from_plan): every account stack is this text with the stand-in replaced by its id."""
    entry = next(s for s in plan.manifest.stacks if s.kind == "account")
    acct = entry.account_id or ""
    name = entry.name[: len(entry.name) - len(acct)] + ACCOUNT_STAND_IN
    stand_in = entry.model_copy(
        update={"name": name, "account_id": ACCOUNT_STAND_IN, "backend": backend_for(plan.governance.state, name)}
    )
    shadow = copy.copy(plan)
    shadow.manifest = plan.manifest.model_copy(update={"stacks": [*plan.manifest.stacks, stand_in]})
    with tempfile.TemporaryDirectory(prefix=".orgguard-stand-in-") as scratch:
        app = App(outdir=scratch, skip_validation=False)
        stack = AccountStack(app, name, plan=shadow, account_id=ACCOUNT_STAND_IN, baseline=baseline)
        app.synth()
        texts = {"stacks/{}/cdk.tf.json": (Path(scratch) / "stacks" / name / "cdk.tf.json").read_text()}
        if hcl:
            texts["hcl/{}/main.tf"] = stack.to_hcl_terraform()["hcl"] + "\n"
    return name, texts


def synth_files(plan: Plan, app: App, outdir: Path, *, hcl: bool, baseline: AccountBaseline | None) -> list[SynthFile]:
    """The hash of every stack file (and HCL with --hcl) and shared module file of the whole plan.

    `--account` writes one account's stack but must record the same list as a full synth (the manifest is
    the approved plan, byte for byte): account stacks differ only by the account id, so each one's hash is
    computed from one stand-in stack with the id put in, and every stack actually written is checked to
    equal it, in both modes, so a full synth and `--account` cannot disagree unnoticed."""
    m = plan.manifest
    texts: dict[str, str] = {}
    written = {s.node.id: s for s in app.node.children if isinstance(s, TerraformStack)}
    accounts = [s for s in m.stacks if s.kind == "account"]
    if accounts:
        _, stand_in = _account_stand_in(plan, baseline or AccountBaseline.from_plan(plan), hcl)
        for entry in accounts:
            acct = entry.account_id or ""
            derived = {path.format(entry.name): text.replace(ACCOUNT_STAND_IN, acct) for path, text in stand_in.items()}
            if entry.name in written and not isinstance(written[entry.name], AccountStack):
                derived = _stack_texts(app, outdir, entry.name, hcl)  # another layout (a test's old one): as written
            elif entry.name in written and _stack_texts(app, outdir, entry.name, hcl) != derived:
                raise ConfigError(
                    plan.governance_source,
                    [
                        f"accounts: stack {entry.name} is not the shared account stack with its id put in, so its hash "
                        "cannot be recorded for --account; report this as an orgguard bug"
                    ],
                )
            texts.update(derived)
    for entry in m.stacks:
        if entry.kind != "account":
            texts.update(_stack_texts(app, outdir, entry.name, hcl))
    modules = outdir / MODULES_DIR
    if modules.is_dir():
        for module in sorted(modules.iterdir()):
            texts[f"{MODULES_DIR}/{module.name}/{MODULE_FILE}"] = (module / MODULE_FILE).read_text()
    return [SynthFile(path=path, sha256=_sha256(text.encode())) for path, text in sorted(texts.items())]


def _write_artifacts(plan: Plan, outdir: Path, m: Manifest) -> None:
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


def delegated_admin_warning(manifest: Manifest) -> str | None:
    """Organization packs applied from a delegated administrator with the pinned 5.x provider: its waiter never
    sees the pack succeed and times out (docs/operators.md, Provider); worth one line at every synth."""
    org = manifest.organization
    if not (org.delegated_admin_account_id and manifest.conformance_packs and AWS_PROVIDER_VERSION.startswith("~> 5.")):
        return None
    return (
        f"organization.delegated_admin_account_id is set, so the packs are applied from {org.deployer_account_id}, "
        f"and the stacks pin the AWS provider {AWS_PROVIDER_VERSION}, whose waiter times out on an organization "
        "conformance pack applied from a delegated administrator (hashicorp/terraform-provider-aws#24545, fixed by "
        "#47072 in 6.x only): apply the packs from the management account, or upgrade the provider of the regional "
        "stacks (docs/operators.md, Provider)"
    )


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
            baseline = AccountBaseline.from_plan(plan) if plan.manifest.mode == "account" else None
            app = build_app(plan, staging, account=account, baseline=baseline)
            app.synth()
            if hcl:
                _write_hcl(app, staging)
            manifest = plan.manifest.model_copy(
                update={"files": synth_files(plan, app, staging, hcl=hcl, baseline=baseline)}
            )
            _write_artifacts(plan, staging, manifest)
            report = install(staging, out_dir, plan_stacks={s.name for s in plan.manifest.stacks})
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    for name in report.kept_stacks:
        print(
            f"orgguard: warning: stack {name} is no longer in the plan; {out_dir / 'stacks' / name} is kept as it "
            "was (state included): run `terraform destroy` there to remove what it deployed, then delete it",
            file=sys.stderr,
        )
    warning = delegated_admin_warning(manifest)
    if warning:
        print(f"orgguard: warning: {warning}", file=sys.stderr)
    for rel in report.kept_stale:
        print(
            f"orgguard: warning: {out_dir / rel} is no longer written by this synth (synth without --hcl?), but "
            "terraform state or .terraform/ is beside it, so it is kept as it was: re-run with the option that "
            "wrote it to update it, or move that state to the stack's new directory, then delete it",
            file=sys.stderr,
        )
    return manifest


__all__ = ["MANIFEST_FILE", "ConfigError", "build_app", "plan_from_file", "synthesize"]
