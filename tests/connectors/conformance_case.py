"""What a department brings to the connector conformance suite."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from connectors.base import Connector
from sandbox.servers.runtime import DepartmentRuntime


@dataclass(frozen=True)
class ConformanceCase:
    source: str
    seed: Callable[[Path], None]  # the department's rows in the tiny city
    create_app: Callable[..., Starlette]  # the sandbox server (runtime, **app_options)
    connector: type[Connector]
    subject_kinds: frozenset[str]  # record kinds a subject pull of the family yields
    bulk_records: int  # records a full bulk pull yields (every person, consented or not)
    app_options: dict[str, Any] = field(default_factory=dict)

    def app(self, runtime: DepartmentRuntime) -> Starlette:
        return self.create_app(runtime, **self.app_options)
