"""The `orgguard` command: one sub-command per stage of the flow.

Each stage owns its arguments in ``orgguard/<stage>/cli.py`` (a ``register(subparsers)`` function),
so adding a stage never edits another's code. Exit codes are shared by all sub-commands.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from orgguard import __version__

EXIT_OK = 0
EXIT_FAILED = 1  # a check failed, a gate refused, a canary found an open rule
EXIT_USAGE = 2  # bad arguments or an invalid governance file / manifest
EXIT_UNVERIFIED = 3  # nothing failed, but something could not be checked

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
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
