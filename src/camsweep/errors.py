"""One exception tree for everything a user can cause.

The CLI maps these to a message and a non-zero exit in one place (`cli.common`);
the web maps them to HTTP statuses in one place. Foreign errors are wrapped with
`raise ... from` so the cause stays visible with `--verbose`.
"""

from __future__ import annotations

from dataclasses import dataclass


class CamsweepError(Exception):
    """Base of all errors a user can cause; the message says what to do."""

    exit_code = 1


class ConfigError(CamsweepError):
    """Bad configuration: a flag, an environment variable or camsweep.toml."""


class StoreError(CamsweepError):
    """The store cannot be opened, migrated or written."""


class KnowledgeBaseError(CamsweepError):
    """A knowledge-base file is malformed; the message names file and field."""


class ScopeError(CamsweepError):
    """A scan target is outside the authorised scope."""


@dataclass(frozen=True)
class RowError:
    """One problem in one input row, located precisely enough to fix."""

    file: str
    row: int | None
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column:
            where += f", column '{self.column}'"
        return f"{where}: {self.reason}"


class InputError(CamsweepError):
    """An input file has errors; nothing was written.

    Carries every error found, not just the first, so one edit pass fixes them all.
    """

    exit_code = 2

    def __init__(self, message: str, errors: list[RowError] | None = None) -> None:
        super().__init__(message)
        self.errors: list[RowError] = errors or []

    @classmethod
    def of(cls, subject: str, errors: list[RowError]) -> InputError:
        """One message for a list: the reason itself when there is only one."""
        only = f" ({errors[0].reason})" if len(errors) == 1 else ""
        return cls(f"{subject}: {len(errors)} error(s){only}; nothing was imported", errors)


class PolicyError(CamsweepError):
    """A policy, programme or vulnerability file is malformed, or a policy cannot be applied.

    The message names the file, the line and the field; `errors` holds every problem found.
    """

    exit_code = 2

    def __init__(self, message: str, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.errors: list[str] = errors or [message]


class ScreenError(CamsweepError):
    """Screening data, a screening input or a case operation is invalid; the message says how."""


class PlanError(CamsweepError):
    """The planner was asked for something it cannot do (e.g. freeze weeks of no current plan)."""


class ReportError(CamsweepError):
    """A report cannot be made as asked: unknown kind, department or subject, or bad output."""


class AccountError(CamsweepError):
    """A user account or API token operation is invalid (unknown user, weak password, ...)."""


class TransitionError(CamsweepError):
    """A work-order operation was refused: an illegal transition, missing or unacceptable
    evidence, or a work order that does not exist (or is not the caller's to see)."""
