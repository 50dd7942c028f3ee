"""Errors of the connector framework: every failure is fatal, retriable or a skippable record.

    ConnectorError
    ├── FatalSourceError      the department refused us or we broke its protocol: stop the
    │                         run, keep the state where it was, a human must look
    ├── RetriableSourceError  5xx, 429, timeouts, dropped connections: retried with backoff
    │   └── CircuitOpen       the department's breaker is open: retry after it cools down
    └── SkippableRecord       one record failed validation: quarantined, the run goes on

Messages carry the department, the endpoint and a status or error code, never
an ID number, a name or a raw record (records may hold personal data).
"""

from __future__ import annotations


class ConnectorError(Exception):
    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class FatalSourceError(ConnectorError):
    def __init__(self, source: str, detail: str) -> None:
        self.source = source
        super().__init__(f"{source}: {detail}")


class RetriableSourceError(ConnectorError):
    def __init__(self, source: str, detail: str, retry_after: float | None = None) -> None:
        self.source = source
        self.retry_after = retry_after
        super().__init__(f"{source}: {detail}")


class CircuitOpen(RetriableSourceError):
    def __init__(self, source: str, reopens_in: float) -> None:
        super().__init__(
            source,
            f"circuit open after repeated failures; next try in {reopens_in:.1f} s",
            retry_after=reopens_in,
        )


class SkippableRecord(ConnectorError):
    """A record that cannot be used; `subject_ref` is a blind index, never the raw ID."""

    def __init__(self, source: str, kind: str, reason: str, subject_ref: str | None = None) -> None:
        self.source = source
        self.kind = kind
        self.reason = reason
        self.subject_ref = subject_ref
        super().__init__(f"{source}: skipped a {kind} record: {reason}")
