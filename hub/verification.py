"""Running a verification request: the five departments asked about exactly the household's members.

`requestVerification` records the request; this runner then pulls, in subject
mode, every member of the case's household from every department, as of the
request's time point, through the same connectors, consent gate and writer as
`hub ingest --mode subjects` (the gate asks each department only about members
whose authorisation covers it, now). The request moves requested -> running
-> completed | failed; its outcome is counts only, never a person's data.
Without departments configured (`HUB_DEPARTMENTS_FILE`) requests stay
`requested` for a process that has them.

The work runs as a task of the serving process (a queue shared by several
hub processes is a later step); a request interrupted by a shutdown stays
`running`, and a new request for the case can be made.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from authz.protection import FieldProtection
from graph.case_store import VerificationRow, VerificationStatus, set_verification_status
from graph.model import DEPARTMENT_SOURCES
from hub.api.context import GraphAccess
from hub.ingest import IngestRequest, ingest_with
from hub.settings import Settings

log = logging.getLogger("hub.verification")


@dataclass
class VerificationRunner:
    settings: Settings
    graph: GraphAccess
    protection: FieldProtection
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def configured(self) -> bool:
        return self.settings.departments_file is not None

    def submit(self, request: VerificationRow, members: dict[str, str]) -> None:
        """Start pulling; `members` maps each member's pid to their sealed ID number."""
        if not self.configured:
            return
        task = asyncio.create_task(self._run(request, members), name=request.request_id)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until every submitted request finished (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _run(self, request: VerificationRow, members: dict[str, str]) -> None:
        graph = self.graph
        await set_verification_status(
            graph.driver, graph.database, request.request_id, VerificationStatus.RUNNING
        )
        try:
            id_numbers = [
                self.protection.open(sealed, node_key=pid, field="id_number")
                for pid, sealed in sorted(members.items())
            ]
            summaries = await ingest_with(
                graph.driver,
                graph.database,
                self.protection,
                self.settings,
                IngestRequest(
                    mode="subjects",
                    departments=DEPARTMENT_SOURCES,
                    today=datetime.now(UTC).date(),
                    id_numbers=id_numbers,
                    as_of=request.as_of,
                ),
            )
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("verification %s failed: %s", request.request_id, type(error).__name__)
            await set_verification_status(
                graph.driver,
                graph.database,
                request.request_id,
                VerificationStatus.FAILED,
                f"failed: {type(error).__name__}",
            )
            return
        written = sum(s.written for s in summaries)
        quarantined = sum(s.quarantined for s in summaries)
        refused = sum(len(s.refused_subjects) for s in summaries)
        outcome = (
            f"{len(summaries)} departments; {written} records written, "
            f"{quarantined} quarantined, {refused} member-department pairs without consent"
        )
        await set_verification_status(
            graph.driver, graph.database, request.request_id, VerificationStatus.COMPLETED, outcome
        )
