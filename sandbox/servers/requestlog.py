"""Who asked a department for which persons: one JSON line per enquiry.

Tests read it to prove that the hub asked only about consented people. The
sandbox is a department, but its log follows the hub's own rule all the same:
ID numbers appear only as SHA-256 digests (`id_digest`), which a test can
compute from the numbers it knows.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def id_digest(id_number: str) -> str:
    return hashlib.sha256(id_number.encode()).hexdigest()


class RequestLog:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def record(
        self,
        *,
        client: str | None,
        auth_no: str | None,
        endpoint: str,
        id_numbers: Iterable[str] = (),
        status: int = 200,
        **extra: object,
    ) -> None:
        entry = {
            "at": datetime.now(UTC).isoformat(),
            "client": client,
            "auth_no": auth_no,
            "endpoint": endpoint,
            "ids": [id_digest(i) for i in id_numbers],
            "status": status,
            **extra,
        }
        line = json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as out:
            out.write(line)

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self.path.open(encoding="utf-8") as lines:
            return [json.loads(line) for line in lines if line.strip()]
