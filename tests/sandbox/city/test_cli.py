"""`sandbox generate`: a summary on success; one line and exit 2 on bad input."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sandbox.cli import parse_rates, sandbox_cli
from tests.support import ROOT

runner = CliRunner()


def generate(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(sandbox_cli, ["generate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_generate_prints_a_summary(tmp_path: Path) -> None:
    code, out, err = generate(
        "--households", "50", "--seed", "3", "--out", str(tmp_path), "--rate-vehicle", "0.2"
    )
    assert code == 0, err
    assert "50 households" in out
    assert "balances" in out
    assert (tmp_path / "manifest.json").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--households", "0"], "households must be between 1 and 5,000,000"),
        (["--households", "5000001"], "households must be between 1 and 5,000,000"),
        (["--households", "5", "--rate-teleportation", "0.1"], "unknown rate --rate-teleportation"),
        (["--households", "5", "--rate-vehicle", "0.7"], "between 0 and 0.5"),
        (["--households", "5", "--rate-vehicle=-0.1"], "between 0 and 0.5"),
        (["--households", "5", "--rate-vehicle", "many"], "needs a number"),
        (["--households", "5", "--as-of", "2026-02-30"], "--as-of must be a date"),
        (["--households", "5", "stray"], "unexpected argument"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path: Path, args: list[str], message: str) -> None:
    code, _, err = generate(*args, "--seed", "1", "--out", str(tmp_path / "city"))
    lines = err.strip().splitlines()
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith("error: ")
    assert message in lines[0]
    assert "Traceback" not in err
    assert not (tmp_path / "city").exists()


def test_a_folder_that_is_not_a_city_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, _, err = generate("--households", "5", "--seed", "1", "--out", str(tmp_path))
    assert code == 2
    assert "holds no city" in err
    assert len(err.strip().splitlines()) == 1


def test_rate_spellings() -> None:
    rates = parse_rates(["--rate-large-deposit", "0.2", "--rate-two_households=0.1"])
    assert (rates.large_deposit, rates.two_households) == (0.2, 0.1)


def test_no_traceback_in_a_real_process(tmp_path: Path) -> None:
    script = "from sandbox.cli import sandbox_cli; sandbox_cli()"
    args = ["generate", "-n", "0", "--seed", "1", "--out", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == "error: households must be between 1 and 5,000,000, got 0"
