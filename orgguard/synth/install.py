"""Move a finished synth into the output directory, replacing only the files synth writes.

Everything else under the output survives byte for byte and is never moved: terraform state
(`terraform.tfstate`, `.backup`), `.terraform/`, `.terraform.lock.hcl`, `*_override.tf(.json)` files,
and anything else an operator put there. A stack that left the plan keeps its whole directory (its
state and its last `cdk.tf.json`, which `terraform destroy` needs) and is reported.

What synth wrote last time is read from `.orgguard-synth.json` (or, for an output written before that
record existed, from the old plan manifests); those files that this synth no longer writes are removed,
outside the directories of stacks this synth did not write, and never from a directory that holds terraform
state or `.terraform/` (e.g. `hcl/<stack>/main.tf` after a synth without `--hcl`): without its configuration,
the next `terraform apply` there would plan to destroy everything the state holds. Such a file is kept and
reported, like a dropped stack.

The move is a transaction of renames inside one file system: the new file is renamed over the old one
after the old one was renamed into a backup directory, and any failure puts every file back where it
was. A synth that fails before this step leaves the output untouched (build.synthesize).
"""

from __future__ import annotations

import contextlib
import fcntl
import fnmatch
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from orgguard.errors import OutputError  # re-exported: synth's callers import it from here

RECORD = ".orgguard-synth.json"
PLAN_MANIFEST = "orgguard-manifest.json"
CDKTF_MANIFEST = "manifest.json"
# What terraform and operators keep beside a stack; never written, moved or removed by synth.
PROTECTED = (
    "*.tfstate",
    "*.tfstate.*",
    ".terraform",
    ".terraform.*",
    "*.tflock",
    "override.tf",
    "override.tf.json",
    "*_override.tf",
    "*_override.tf.json",
)
# A directory holding one of these was applied from: its configuration is never removed (see module docstring).
STATEFUL = ("*.tfstate", "*.tfstate.*", ".terraform")
STACK_DIRS = ("stacks", "hcl")  # <dir>/<stack name>/...: per-stack trees
# Shapes of the files synth writes; a recorded path outside them is never removed, whatever the record says.
SYNTH_SHAPES = (
    PLAN_MANIFEST,
    CDKTF_MANIFEST,
    RECORD,
    "stacks/*/cdk.tf.json",
    "hcl/*/main.tf",
    "documents/*",
    "templates/*",
    "modules/*",
)


@dataclass
class InstallReport:
    kept_stacks: list[str] = field(default_factory=list)  # stack directories no longer in the plan, left as is
    removed: list[str] = field(default_factory=list)  # stale files of an earlier synth
    kept_stale: list[str] = field(default_factory=list)  # stale, but terraform state or .terraform/ is beside them


def protected(rel: PurePosixPath) -> bool:
    return any(fnmatch.fnmatchcase(part, pattern) for part in rel.parts for pattern in PROTECTED)


def _safe(rel: object) -> PurePosixPath | None:
    """A recorded path synth may touch: relative, inside the output, not state or an override."""
    if not isinstance(rel, str) or not rel or "\\" in rel or "\x00" in rel:
        return None
    path = PurePosixPath(rel)
    if path.is_absolute() or any(part in ("", ".", "..") for part in rel.split("/")) or protected(path):
        return None
    if not any(fnmatch.fnmatchcase(rel, shape) for shape in SYNTH_SHAPES):
        return None
    return path


def _beside_state(out: Path, rel: PurePosixPath) -> bool:
    """Whether terraform was run in the file's directory (state or `.terraform/` there), so it must stay."""
    try:
        names = [entry.name for entry in os.scandir(out / rel.parent)]
    except OSError:
        return False
    return any(fnmatch.fnmatchcase(name, pattern) for name in names for pattern in STATEFUL)


def _files(root: Path) -> list[PurePosixPath]:
    return sorted(PurePosixPath(p.relative_to(root).as_posix()) for p in root.rglob("*") if not p.is_dir())


def _previous(out: Path) -> set[PurePosixPath]:
    """Files the last synth wrote: its record, else what the old manifests name (outputs of earlier versions)."""
    names: list[object] = []
    try:
        record = json.loads((out / RECORD).read_text())
        names = list(record.get("files", [])) if isinstance(record, dict) else []
    except (OSError, ValueError):
        names = []
        with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
            plan = json.loads((out / PLAN_MANIFEST).read_text())
            names += [PLAN_MANIFEST, CDKTF_MANIFEST]
            names += [f"stacks/{s['name']}/cdk.tf.json" for s in plan.get("stacks", [])]
            names += [f"hcl/{s['name']}/main.tf" for s in plan.get("stacks", [])]
            names += [d.get("content_file") for d in plan.get("documents", [])]
            names += [p.get("template_file") for p in plan.get("conformance_packs", [])]
            names += [s.get("template_file") for s in plan.get("stack_sets", [])]
    found = set()
    for name in names:
        rel = _safe(name)
        if rel is not None and os.path.lexists(out / rel) and not (out / rel).is_dir():
            found.add(rel)
    return found


@contextlib.contextmanager
def synth_lock(directory: Path) -> Iterator[None]:
    """One synth at a time per parent directory: two at once would interleave their renames."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


class _Transaction:
    """Renames with an undo journal; `rollback` restores the output exactly as it was."""

    def __init__(self, out: Path, staging: Path, backup: Path) -> None:
        self.out, self.staging, self.backup = out, staging, backup
        self.journal: list[tuple[str, PurePosixPath]] = []

    def _mkdirs(self, rel_dir: PurePosixPath, root: Path, record: bool) -> None:
        missing = []
        for parent in [rel_dir, *rel_dir.parents]:
            if str(parent) == "." or (root / parent).is_dir():
                break
            missing.append(parent)
        for parent in reversed(missing):
            (root / parent).mkdir()
            if record:
                self.journal.append(("mkdir", parent))

    def set_aside(self, rel: PurePosixPath) -> None:
        """Move the output's current file at `rel` into the backup."""
        self._mkdirs(rel.parent, self.backup, record=False)
        os.replace(self.out / rel, self.backup / rel)
        self.journal.append(("aside", rel))

    def place(self, rel: PurePosixPath) -> None:
        target = self.out / rel
        if target.is_dir() and not target.is_symlink():
            raise OutputError(f"{target} is a directory, but synth writes a file there; move it away and re-run")
        if os.path.lexists(target):
            self.set_aside(rel)
        self._mkdirs(rel.parent, self.out, record=True)
        os.replace(self.staging / rel, target)
        self.journal.append(("placed", rel))

    def rollback(self) -> None:
        for action, rel in reversed(self.journal):
            if action == "placed":
                os.replace(self.out / rel, self.staging / rel)
            elif action == "aside":
                os.replace(self.backup / rel, self.out / rel)
            else:
                (self.out / rel).rmdir()
        self.journal.clear()


def _prune_empty(out: Path, rels: list[PurePosixPath]) -> None:
    """Remove directories that removing stale files emptied (never the output itself, never a non-empty one)."""
    for rel in rels:
        for parent in rel.parents:
            if str(parent) == ".":
                break
            try:
                (out / parent).rmdir()
            except OSError:
                break


def install(staging: Path, out: Path, *, plan_stacks: set[str]) -> InstallReport:
    """Make `out` hold the synth in `staging`; `staging` is consumed. Raises OutputError, output unchanged."""
    report = InstallReport()
    written = _files(staging)
    bad = [str(rel) for rel in written if protected(rel)]
    if bad:  # a bug in synth, never user input: refuse rather than overwrite state or overrides
        raise OutputError(f"synth produced {bad[0]}, a name reserved for terraform state or overrides")
    last = {PurePosixPath(PLAN_MANIFEST), PurePosixPath(CDKTF_MANIFEST)}
    written.sort(key=lambda rel: (rel in last, str(rel)))  # the manifests change only once the stacks did
    (staging / RECORD).write_text(json.dumps({"version": 1, "files": [str(r) for r in written]}, indent=1) + "\n")
    written.append(PurePosixPath(RECORD))

    if not out.exists():
        staging.rename(out)
        return report
    if not out.is_dir():
        raise OutputError(f"{out} is a file, not a directory; choose another output directory")

    written_stacks = {rel.parts[1] for rel in written if rel.parts[0] in STACK_DIRS and len(rel.parts) > 2}
    stale = sorted(
        rel
        for rel in _previous(out) - set(written)
        if not (rel.parts[0] in STACK_DIRS and len(rel.parts) > 2 and rel.parts[1] not in written_stacks)
    )
    report.kept_stale = [str(rel) for rel in stale if _beside_state(out, rel)]
    stale = [rel for rel in stale if str(rel) not in report.kept_stale]
    if report.kept_stale:  # still synth's: the next synth warns again, or removes it once the state is gone
        record = {"version": 1, "files": [str(r) for r in written if str(r) != RECORD] + report.kept_stale}
        (staging / RECORD).write_text(json.dumps(record, indent=1) + "\n")
    stacks_dir = out / "stacks"
    if stacks_dir.is_dir():
        report.kept_stacks = sorted(
            d.name for d in stacks_dir.iterdir() if d.is_dir() and d.name not in plan_stacks | written_stacks
        )

    backup = Path(tempfile.mkdtemp(prefix=".orgguard-previous-", dir=out))
    tx = _Transaction(out, staging, backup)
    try:
        for rel in written:
            tx.place(rel)
        for rel in stale:
            tx.set_aside(rel)
    except BaseException as exc:
        try:
            tx.rollback()
        except OSError as undo:
            raise OutputError(
                f"could not update {out} ({exc}) nor restore it ({undo}); the files the previous synth wrote are "
                f"in {backup}, nothing else was moved"
            ) from exc
        shutil.rmtree(backup, ignore_errors=True)
        if isinstance(exc, OutputError):
            raise
        if isinstance(exc, OSError):
            raise OutputError(f"could not update {out}: {exc.strerror or exc}; it was left as it was") from exc
        raise
    report.removed = [str(rel) for rel in stale]
    shutil.rmtree(backup, ignore_errors=True)
    _prune_empty(out, stale)
    return report


__all__ = ["RECORD", "InstallReport", "OutputError", "install", "protected", "synth_lock"]
