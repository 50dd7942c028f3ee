"""The sandbox commands, mounted by the hub as `hub sandbox ...`.

`generate` writes a synthetic city (see `sandbox.store` for the folder it fills). Bad
input ends in one line on stderr and exit status 2; a failure while writing, in one
line and status 1; never a traceback.
"""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from sandbox.city import CityRequestError, PlantRates, generate_city
from sandbox.city.generate import check_request
from sandbox.city.writer import CityWriteError

EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2
_RATE_PREFIX = "--rate-"
_KINDS = ", ".join(kind.replace("_", "-") for kind in PlantRates.kinds())

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)

sandbox_cli = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="The synthetic city of Xinxiang and its department servers.",
)


@sandbox_cli.callback()
def _group() -> None:
    """The synthetic city of Xinxiang and its department servers."""


def _fail(message: str, code: int = EXIT_BAD_INPUT) -> typer.Exit:
    err.print(f"error: {message}", markup=False)
    return typer.Exit(code)


def parse_rates(args: list[str]) -> PlantRates:
    """`--rate-<kind> X` / `--rate-<kind>=X` pairs (kinds with - or _) into `PlantRates`."""
    values: dict[str, float] = {}
    remaining = iter(args)
    for arg in remaining:
        if not arg.startswith(_RATE_PREFIX):
            raise ValueError(f"unexpected argument {arg!r}")
        name, has_value, text = arg[len(_RATE_PREFIX) :].partition("=")
        if not has_value:
            text = next(remaining, "")
        kind = name.replace("-", "_")
        if kind not in PlantRates.kinds():
            raise ValueError(f"unknown rate {_RATE_PREFIX}{name}; the kinds are {_KINDS}")
        try:
            values[kind] = float(text)
        except ValueError:
            raise ValueError(f"{_RATE_PREFIX}{name} needs a number, got {text!r}") from None
    return PlantRates(**values)


@sandbox_cli.command(
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    epilog=f"Planted-case rates: --rate-<kind> X, X in [0, 0.5], kind one of {_KINDS}.",
)
def generate(
    ctx: typer.Context,
    households: Annotated[
        int, typer.Option("--households", "-n", help="households (1 to 5,000,000)")
    ],
    seed: Annotated[int, typer.Option(help="same seed, size and date: same city")],
    out_dir: Annotated[Path, typer.Option("--out", help="folder to write (new, empty, or a city)")],
    as_of: Annotated[
        str, typer.Option("--as-of", help="reference date, YYYY-MM-DD")
    ] = "2026-11-01",
) -> None:
    """Generate a synthetic city of N households into a folder."""
    try:
        rates = parse_rates(ctx.args)
        try:
            reference = date.fromisoformat(as_of)
        except ValueError:
            raise ValueError(f"--as-of must be a date YYYY-MM-DD, got {as_of!r}") from None
        check_request(out_dir, households, reference)
    except ValueError as error:
        raise _fail(str(error)) from None
    started = time.perf_counter()
    try:
        with err.status(f"generating {households:,} households into {out_dir} ..."):
            manifest = generate_city(out_dir, households, seed, reference, rates)
    except CityRequestError as error:
        raise _fail(str(error)) from None
    except (OSError, CityWriteError) as error:
        raise _fail(f"could not write the city into {out_dir}: {error}", EXIT_FAILURE) from None
    seconds = time.perf_counter() - started
    table = Table(title=f"city in {out_dir}", show_edge=False)
    for column in ("department", "table", "rows"):
        table.add_column(column, justify="right" if column == "rows" else "left")
    for department, counts in manifest.counts.items():
        for name, rows in counts.items():
            table.add_row(department, name, f"{rows:,}")
    out.print(table)
    persons = manifest.counts["public_security"]["persons"]
    out.print(
        f"{households:,} households, {persons:,} persons, "
        f"{sum(manifest.planted.values()):,} planted cases; seed {seed}, as of {reference}; "
        f"{seconds:.1f} s ({households / seconds:,.0f} households/s)"
    )
