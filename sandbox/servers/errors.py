"""The sandbox's one error type; each department renders it in its own style.

A `DepartmentError` carries an HTTP status, a stable code and a message that
says what the caller did wrong. Messages never quote an ID number back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ErrorRenderer = Callable[[str, str], dict[str, Any]]


class DepartmentError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"DepartmentError({self.status}, {self.code!r}, {self.message!r})"


def bad_request(code: str, message: str) -> DepartmentError:
    return DepartmentError(400, code, message)


def unauthorised(message: str = "missing or invalid department credential") -> DepartmentError:
    return DepartmentError(401, "UNAUTHENTICATED", message)


def forbidden(code: str, message: str) -> DepartmentError:
    return DepartmentError(403, code, message)
