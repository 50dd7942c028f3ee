"""Values read back from Neo4j, as Python's own types."""

from __future__ import annotations

from typing import Any


def native(value: Any) -> Any:  # noqa: ANN401 - any Neo4j value
    """Neo4j temporal values as Python's (`to_native`); everything else unchanged."""
    return value.to_native() if hasattr(value, "to_native") else value
