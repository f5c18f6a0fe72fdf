"""Per-stack facts the plan records beside each stack: its apply order and where its state lives.

Order: the regional conformance packs name remediation documents and roles that the global stack's
StackSets deploy, so every organization stack waits for the global one, and the regions also wait for
the management account's stacks (SCP, Control Tower, the management account's own runbooks). Account
stacks are independent of each other. With notifications, the central bus's stack comes before all of them
(account stacks included): every member rule targets that bus. The manifest's `depends_on` is what cdktf
(`add_dependency`), the sandbox and the documented pipeline follow.

State: one backend for every stack, one state per stack (`<key_prefix>/<stack name>.tfstate`).
"""

from __future__ import annotations

from orgguard.config.state import State
from orgguard.manifest import StackEntry, StateBackend

LOCAL_STATE_FILE = "terraform.tfstate"


def _level(kind: str) -> int:
    """0 applies first; a new organization stack kind lands between the global stack and the regions."""
    if kind == "notifications":
        return -1  # the central bus: every member rule targets it, so it exists first
    if kind in ("org-global", "account"):
        return 0
    if kind == "org-region":
        return 2
    return 1


def backend_for(state: State, stack_name: str) -> StateBackend:
    if state.backend == "local":
        return StateBackend(type="local", path=LOCAL_STATE_FILE)
    return StateBackend(
        type="s3",
        path=None,
        bucket=state.bucket,
        key=f"{state.key_prefix}/{stack_name}.tfstate",
        region=state.region,
        use_lockfile=state.use_lockfile,
        encrypt=True,  # server-side encryption of the state object, whatever the bucket default
        dynamodb_table=state.dynamodb_table,
        kms_key_id=state.kms_key_id,
        role_arn=state.role_arn,
    )


def resolve_stacks(stacks: list[StackEntry], state: State) -> list[StackEntry]:
    """The stacks with `depends_on` and `backend` filled in (every lower level first, named explicitly)."""
    out = []
    for entry in stacks:
        level = _level(entry.kind)
        if entry.kind == "account":
            before: list[str] = [s.name for s in stacks if s.kind == "notifications"]
        else:
            before = [s.name for s in stacks if s.kind != "account" and _level(s.kind) < level]
        out.append(entry.model_copy(update={"depends_on": before, "backend": backend_for(state, entry.name)}))
    return out
