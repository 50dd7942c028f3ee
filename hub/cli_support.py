"""What every `hub` command shares: consoles, settings loading, and turning errors into exits.

Every failure a user can fix ends in one line on stderr that says what to do,
and a non-zero exit status; no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from pydantic import ValidationError
from rich.console import Console

from authz.errors import AuthzError
from connectors.errors import ConnectorError
from graph.errors import GraphError
from hub.departments import DepartmentsFileError
from hub.settings import Settings

EXIT_FAILURE = 1
EXIT_BAD_CONFIG = 2
EXIT_NOT_RUNNING = 3

# Piped output (logs, CI, tests) gets wide tables instead of 80-column truncation.
_PIPED_WIDTH = None if sys.stdout.isatty() else 200
out = Console(highlight=False, soft_wrap=True, width=_PIPED_WIDTH)
err = Console(stderr=True, highlight=False, soft_wrap=True)

USER_ERRORS = (
    GraphError,
    ConnectorError,
    AuthzError,
    DepartmentsFileError,
    FileNotFoundError,
)


class UsageError(Exception):
    """A command's arguments do not make sense together; the message says how to fix them."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Typed errors become one readable line and an exit status."""
    try:
        yield
    except UsageError as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(EXIT_BAD_CONFIG) from None
    except USER_ERRORS as error:
        err.print(f"error: {error}", markup=False)
        raise typer.Exit(EXIT_FAILURE) from None


def load_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as error:
        for problem in error.errors():
            where = ".".join(str(part) for part in problem["loc"]) or "settings"
            err.print(f"error: configuration {where}: {problem['msg']}", markup=False)
        raise typer.Exit(EXIT_BAD_CONFIG) from None
