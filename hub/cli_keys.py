"""`hub keys`: the field-encryption key ring and its rotation (add, promote, re-encrypt, retire)."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer
from rich.table import Table

from authz.field_crypto import token_prefix
from authz.keyring import KeyState
from authz.protection import FieldProtection
from graph.connection import open_driver
from graph.reencrypt import count_sealed_under, reencrypt_all
from hub.cli_support import UsageError, load_settings, out, user_errors
from hub.ingest import field_protection
from hub.neo4j_setup import neo4j_target
from hub.settings import Settings

keys_cli = typer.Typer(no_args_is_help=True, help="Field-encryption keys and their rotation.")


async def _counts(settings: Settings, protection: FieldProtection) -> dict[str, int]:
    target = neo4j_target(settings)
    driver = await open_driver(target)
    try:
        return {
            info.key_id: await count_sealed_under(
                driver, target.database, token_prefix(info.key_id)
            )
            for info in protection.ring.data_keys()
            if info.state is not KeyState.RETIRED
        }
    finally:
        await driver.close()


async def _reencrypt(settings: Settings, protection: FieldProtection) -> int:
    target = neo4j_target(settings)
    driver = await open_driver(target)
    try:
        return await reencrypt_all(driver, target.database, protection)
    finally:
        await driver.close()


@keys_cli.command("status")
def status() -> None:
    """Every data key, its state, and how many graph entries are sealed under it."""
    settings = load_settings()
    with user_errors():
        protection = field_protection(settings)
        counts = asyncio.run(_counts(settings, protection))
    table = Table(title=f"key ring {protection.ring.path}")
    for column in ("key id", "state", "algorithm", "created", "sealed entries"):
        table.add_column(column)
    for info in protection.ring.data_keys():
        count = counts.get(info.key_id)
        table.add_row(
            info.key_id,
            info.state.value,
            info.algorithm.value,
            info.created_at.date().isoformat(),
            "-" if count is None else str(count),
        )
    out.print(table)


@keys_cli.command("rotate")
def rotate(
    retire_old: Annotated[
        bool, typer.Option(help="retire old keys once nothing is under them")
    ] = False,
) -> None:
    """Add a key, make it primary, re-encrypt every sealed field (and retire the old keys)."""
    settings = load_settings()
    with user_errors():
        protection = field_protection(settings)
        new = protection.ring.add_key().key_id
        protection.ring.promote(new)
        changed = asyncio.run(_reencrypt(settings, protection))
        out.print(f"primary key is now {new}; re-encrypted {changed} graph entries")
        if retire_old:
            for key_id, count in asyncio.run(_counts(settings, protection)).items():
                if key_id != new:
                    protection.ring.retire(key_id, tokens_remaining=count)
                    out.print(f"retired {key_id}")


@keys_cli.command("retire")
def retire(key_id: Annotated[str, typer.Argument(help="the key to retire")]) -> None:
    """Destroy a key's material; refused while anything in the graph is sealed under it."""
    settings = load_settings()
    with user_errors():
        protection = field_protection(settings)
        if key_id == protection.ring.primary_id:
            raise UsageError(f"{key_id} is the primary key; rotate first")
        count = asyncio.run(_counts(settings, protection)).get(key_id)
        if count is None:
            raise UsageError(f"no active key {key_id}")
        if count:
            raise UsageError(
                f"{count} graph entries are still sealed under {key_id}; run `hub keys rotate`"
            )
        protection.ring.retire(key_id, tokens_remaining=0)
    out.print(f"retired {key_id}")
