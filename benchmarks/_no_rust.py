"""Run a script with the neo4j driver's Rust extension made unimportable.

    python benchmarks/_no_rust.py SCRIPT [ARGS...]

`neo4j-rust-ext` installs the compiled module `neo4j._rust`; the driver imports it if it
can and falls back to its pure-Python PackStream codec if not. A meta-path finder placed
first refuses `neo4j._rust` (and its submodules) before anything imports neo4j, then the
script runs as `__main__`. Whoever runs it should check which codec the driver picked.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import runpy
import sys
from collections.abc import Sequence
from types import ModuleType

BLOCKED = "neo4j._rust"


class BlockRustExtension(importlib.abc.MetaPathFinder):
    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == BLOCKED or fullname.startswith(BLOCKED + "."):
            raise ModuleNotFoundError(f"{fullname} is blocked for this run", name=fullname)
        return None


def main() -> None:
    if "neo4j" in sys.modules:
        raise SystemExit("neo4j was imported before the Rust extension could be blocked")
    sys.meta_path.insert(0, BlockRustExtension())
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    runpy.run_path(script, run_name="__main__")


if __name__ == "__main__":
    main()
