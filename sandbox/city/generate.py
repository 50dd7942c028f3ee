"""The public entry point: generate a whole city into a folder (see `sandbox.store`).

The city is produced one family cluster at a time, each from its own random stream
derived from (seed, cluster index), and written in batches; nothing about earlier
clusters is kept except counters, so memory stays flat from a hundred households to
five million. The same seed, size and reference date give identical tables; the
credentials are the one thing drawn fresh (from `secrets`) on every run.

`manifest.json` is written last: a folder without one is an unfinished city.
"""

from __future__ import annotations

import json
import os
import secrets
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Final

from sandbox import store
from sandbox.city import assets, assistance, banking, income, medical, planted, registry
from sandbox.city.context import CityContext
from sandbox.city.families import build_cluster
from sandbox.city.model import Cluster
from sandbox.city.rates import PlantRates
from sandbox.city.rng import derive
from sandbox.city.writer import Batch, CityWriter

MAX_HOUSEHOLDS: Final = 5_000_000
FLUSH_EVERY: Final = 2_500  # households per batch
EARLIEST_AS_OF: Final = date(2022, 1, 1)  # the first year every standard is known
LATEST_AS_OF: Final = date(2099, 12, 31)
MANIFEST: Final = "manifest.json"
CREDENTIALS: Final = "credentials.json"
GROUND_TRUTH: Final = "ground_truth.jsonl"
CITY_FILES: Final = frozenset(
    {MANIFEST, CREDENTIALS, GROUND_TRUTH, "logs"} | {f"{d}.sqlite" for d in store.SCHEMAS}
)


class CityRequestError(ValueError):
    """The request cannot be carried out as given (size, date, or output folder)."""


@dataclass(frozen=True)
class Manifest:
    """What a city folder holds; also written to DIR/manifest.json."""

    format_version: int
    seed: int
    households: int
    as_of: date
    counts: dict[str, dict[str, int]]
    rates: PlantRates
    planted: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "seed": self.seed,
            "households": self.households,
            "as_of": self.as_of.isoformat(),
            "counts": self.counts,
            "rates": self.rates.as_dict(),
            "planted": self.planted,
        }

    @classmethod
    def read(cls, out_dir: Path) -> Manifest:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return cls(
            format_version=data["format_version"],
            seed=data["seed"],
            households=data["households"],
            as_of=date.fromisoformat(data["as_of"]),
            counts=data["counts"],
            rates=PlantRates(**data["rates"]),
            planted=data.get("planted", {}),
        )


def check_request(out_dir: Path, households: int, as_of: date) -> None:
    """Raise `CityRequestError` unless the city can be generated into `out_dir`."""
    if not 1 <= households <= MAX_HOUSEHOLDS:
        raise CityRequestError(
            f"households must be between 1 and {MAX_HOUSEHOLDS:,}, got {households:,}"
        )
    if not EARLIEST_AS_OF <= as_of <= LATEST_AS_OF:
        raise CityRequestError(
            f"as-of date must be between {EARLIEST_AS_OF} and {LATEST_AS_OF}, got {as_of}"
        )
    if out_dir.exists() and not out_dir.is_dir():
        raise CityRequestError(f"{out_dir} exists and is not a folder")
    if out_dir.is_dir():
        entries = {entry.name for entry in out_dir.iterdir()}
        if entries and MANIFEST not in entries and not entries <= CITY_FILES:
            raise CityRequestError(
                f"{out_dir} is a non-empty folder that holds no city (no {MANIFEST}); "
                "choose an empty or new folder"
            )


def generate_city(
    out_dir: Path,
    households: int,
    seed: int,
    as_of: date = date(2026, 11, 1),
    rates: PlantRates | None = None,
) -> Manifest:
    """Generate a city of `households` households into `out_dir` (a previous city there is
    replaced) and return its manifest."""
    check_request(out_dir, households, as_of)
    rates = rates or PlantRates()
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / MANIFEST).unlink(missing_ok=True)
    ctx = CityContext(seed, as_of, rates)
    writer = CityWriter(out_dir)
    batch = Batch()
    planted_counts: Counter[str] = Counter()
    made = flushed = index = 0
    try:
        with (out_dir / GROUND_TRUTH).open("w", encoding="utf-8") as truth:
            while made < households:
                cluster = make_cluster(ctx, index, households - made, batch)
                truth.writelines(planted.render(cluster, ctx.as_of))
                planted_counts.update(case.kind for case in cluster.cases)
                made += len(cluster.households)
                index += 1
                if made - flushed >= FLUSH_EVERY:
                    batch = writer.submit(batch)
                    flushed = made
        writer.submit(batch)
        counts = writer.finish()
    except BaseException:
        writer.abort()
        raise
    manifest = Manifest(
        format_version=store.FORMAT_VERSION,
        seed=seed,
        households=households,
        as_of=as_of,
        counts=counts,
        rates=rates,
        planted={kind: planted_counts[kind] for kind in PlantRates.kinds()},
    )
    _write_credentials(out_dir, as_of)
    text = json.dumps(manifest.to_json(), indent=2, ensure_ascii=False) + "\n"
    (out_dir / MANIFEST).write_text(text, encoding="utf-8")
    return manifest


def make_cluster(ctx: CityContext, index: int, budget: int, batch: Batch) -> Cluster:
    """Generate cluster number `index` (at most `budget` households) into `batch`."""
    rng = derive(ctx.seed, "cluster", index)
    cluster = build_cluster(rng, ctx, index, budget)
    assistance.assign_status(rng, ctx, cluster)
    planted.plant(rng, ctx, cluster)
    assistance.make_grants(rng, ctx, cluster)
    assistance.choose_caseworkers(rng, ctx, cluster)
    income.assign_jobs(rng, ctx, cluster)
    cluster.seal()
    registry.issue_identities(rng, ctx, cluster)
    registry.emit(ctx, cluster, batch)
    assets.emit(rng, ctx, cluster, batch)
    banking.emit(rng, ctx, cluster, batch)
    income.emit(rng, ctx, cluster, batch)
    medical.emit(rng, ctx, cluster, batch)
    assistance.emit(rng, ctx, cluster, batch)
    return cluster


def _write_credentials(out_dir: Path, as_of: date) -> None:
    """Fresh secrets on every run: never derived from the seed."""
    departments = {
        department: {
            "client_id": f"hub-{department}-{secrets.token_hex(4)}",
            "secret": secrets.token_urlsafe(32),
        }
        for department in store.DEPARTMENTS
    }
    document = {
        "departments": departments,
        "bulk_agreement_no": f"BD410700{as_of.year}{secrets.randbelow(10**6):06d}",
        "admin_token": secrets.token_urlsafe(32),
    }
    path = out_dir / CREDENTIALS
    path.unlink(missing_ok=True)  # so the file is created afresh, owner-only
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
