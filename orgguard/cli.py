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
from orgguard.errors import OrgguardError
from orgguard.exitcodes import ExitCode
from orgguard.sandbox import extra

# Sub-command modules, in the order of the flow.
STAGES = (
    "orgguard.synth.cli",
    "orgguard.review.cli",
    "orgguard.verify.cli",
)
# Registered only when the optional sandbox part is installed (`orgguard[sandbox]`): name -> module.
SANDBOX_STAGES = {
    "sandbox": "orgguard.sandbox.cli",
    "demo": "orgguard.demo",
}


def _not_installed(args: argparse.Namespace) -> int:
    print(f"orgguard {args.command}: {extra.install_hint()}", file=sys.stderr)
    return ExitCode.USAGE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="orgguard", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"orgguard {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in STAGES:
        importlib.import_module(name).register(sub)
    if not extra.missing():
        for name in SANDBOX_STAGES.values():
            importlib.import_module(name).register(sub)
    else:  # the commands exist, so the user learns what to install instead of "invalid choice"
        for command in SANDBOX_STAGES:
            # No option prefix: every argument, `--help` included, is taken as is and answered with the hint.
            stub = sub.add_parser(command, add_help=False, prefix_chars="\0", help=f"(not installed: {extra.INSTALL})")
            stub.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
            stub.set_defaults(func=_not_installed)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or ExitCode.OK)
    except OrgguardError as exc:  # any refusal a sub-command lets through: its lines and its code, no traceback
        for line in exc.lines():
            print(f"orgguard {args.command}: {line}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
