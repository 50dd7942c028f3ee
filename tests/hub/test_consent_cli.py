"""`hub consent add | revoke | list` against the real Neo4j."""

from __future__ import annotations

from pathlib import Path

import pytest

from graph.connection import Neo4jTarget
from tests.sandbox.servers.tiny_city import PEOPLE
from tests.support import hub_env, run_hub

AUTH = "SQ4107022026009999"


@pytest.fixture
def env(clean_graph: Neo4jTarget, tmp_path: Path) -> dict[str, str]:
    return hub_env(
        tmp_path,
        NEO4J_URI=clean_graph.uri,
        NEO4J_PASSWORD=clean_graph.password,
        HUB_KEY_DIR=str(tmp_path / "keys"),
    )


def add(env: dict[str, str], *extra: str) -> str:
    result = run_hub(
        "consent",
        "add",
        "--auth-no",
        AUTH,
        "--hukou-no",
        "H41070200000001",
        "--valid-from",
        "2026-06-01",
        "--valid-to",
        "2027-05-31",
        "--signer",
        PEOPLE.head,
        "--signer",
        PEOPLE.spouse.lower(),
        *extra,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def listing(env: dict[str, str], *args: str) -> str:
    result = run_hub("consent", "list", "--at", "2026-11-01", *args, env=env)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_add_list_revoke(env: dict[str, str]) -> None:
    assert "recorded for 2 signer(s)" in add(env)
    assert "already recorded, unchanged" in add(env)
    shown = listing(env, "--id", PEOPLE.spouse)
    assert AUTH in shown
    assert "granted" in shown
    assert PEOPLE.spouse not in shown
    assert PEOPLE.head not in shown
    assert AUTH not in listing(env, "--id", PEOPLE.child)

    revoked = run_hub("consent", "revoke", AUTH, "--on", "2026-10-15", env=env)
    assert revoked.returncode == 0, revoked.stderr
    assert "revoked from 2026-10-15" in revoked.stdout
    assert "revoked" in listing(env, "--auth-no", AUTH).split(AUTH, 1)[1]

    add(env)  # the same, unrevoked authorisation recorded again cannot clear the revocation
    assert "2026-10-15" in listing(env, "--auth-no", AUTH)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--signer", "410702197003120119"], "not valid resident ID numbers"),
        (["--valid-to", "2026-01-01"], "--valid-to is before --valid-from"),
        (["--departments", "weather"], "unknown department"),
        (["--auth-no", "sq-1"], "invalid authorisation: auth_no"),
    ],
)
def test_bad_input(env: dict[str, str], args: list[str], message: str) -> None:
    base = {
        "--auth-no": AUTH,
        "--hukou-no": "H1",
        "--valid-from": "2026-06-01",
        "--valid-to": "2027-05-31",
        "--signer": PEOPLE.head,
    }
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    argv = [part for flag, value in base.items() for part in (flag, value)]
    result = run_hub("consent", "add", *argv, env=env)
    assert result.returncode == 2, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_revoking_an_unknown_authorisation(env: dict[str, str]) -> None:
    result = run_hub("consent", "revoke", "SQ0000000000000000", env=env)
    assert result.returncode == 2
    assert "no authorisation SQ0000000000000000" in result.stderr
