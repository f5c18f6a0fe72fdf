"""The `orgguard` command: one sub-command per stage of the flow.

Each stage owns its arguments in ``orgguard/<stage>/cli.py`` (a ``register(subparsers)`` function),
so adding a stage never edits another's code. Exit codes are shared by all sub-commands
(``orgguard.exitcodes.ExitCode``).
"""

from __future__ import annotations

import argparse
import importlib
import sys

from orgguard import __version__
from orgguard.exitcodes import ExitCode

# Sub-command modules, in the order of the flow.
STAGES = (
    "orgguard.synth.cli",
    "orgguard.review.cli",
    "orgguard.verify.cli",
    "orgguard.sandbox.cli",
    "orgguard.demo",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orgguard", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"orgguard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in STAGES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:  # a stage not built yet must not break the others
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or ExitCode.OK)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
