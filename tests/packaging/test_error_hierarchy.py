"""One error hierarchy: every module's error is the class in orgguard.errors, and `orgguard` turns any that a
sub-command lets through into its lines and its exit code instead of a traceback."""

from __future__ import annotations

import argparse

import pytest

from orgguard import cli, errors
from orgguard.exitcodes import ExitCode


def test_each_module_raises_the_class_in_orgguard_errors() -> None:
    from orgguard.config.load import ConfigError
    from orgguard.manifest import ManifestError
    from orgguard.review.errors import ReviewError
    from orgguard.sandbox import SandboxError
    from orgguard.synth.install import OutputError
    from orgguard.verify.cli import UsageError

    assert (ConfigError, ManifestError, ReviewError, OutputError, UsageError, SandboxError) == (
        errors.ConfigError, errors.ManifestError, errors.ReviewError, errors.OutputError, errors.UsageError,
        errors.SandboxError,
    )
    for cls in (ConfigError, ManifestError, ReviewError, OutputError, UsageError):
        assert issubclass(cls, errors.OrgguardError) and cls.exit_code == ExitCode.USAGE
    assert SandboxError.exit_code == ExitCode.FAILED  # the sandbox failed, not the user's input
    assert issubclass(ManifestError, ValueError) and issubclass(SandboxError, RuntimeError)  # callers catch these


def test_config_error_keeps_its_lines_short_and_few() -> None:
    exc = errors.ConfigError("g.yaml", [f"controls.x{i}: {'y' * 400}; fix it" for i in range(60)])
    lines = exc.lines()
    assert len(lines) == errors.MAX_PROBLEMS + 1 and lines[-1].startswith("g.yaml: … and 10 more")
    assert all(len(line) <= errors.MAX_LINE + len("g.yaml: ") for line in lines)
    assert lines[0].endswith("; fix it")  # the cut keeps the fix


@pytest.mark.parametrize(
    ("exc", "code", "line"),
    [
        (errors.ManifestError(["manifest m.json is invalid at stacks: x; regenerate it"]), ExitCode.USAGE,
         "orgguard report: manifest m.json is invalid at stacks: x; regenerate it"),
        (errors.SandboxError("terraform apply of s failed"), ExitCode.FAILED,
         "orgguard report: terraform apply of s failed"),
    ],
)
def test_cli_prints_an_escaped_error_as_lines_and_returns_its_code(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], exc: errors.OrgguardError,
    code: ExitCode, line: str,
) -> None:
    def failing(_: argparse.Namespace) -> int:
        raise exc

    # `report` whose handler raises: the top-level main is the safety net under every sub-command.
    monkeypatch.setattr(argparse.ArgumentParser, "parse_args",
                        lambda self, argv=None: argparse.Namespace(command="report", func=failing))
    assert cli.main(["report"]) == code
    assert capsys.readouterr().err.splitlines() == [line]
