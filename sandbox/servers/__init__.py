"""The five department sandbox servers: Starlette apps over one department's SQLite file each,
speaking that department's interface style, with switchable faults (see `faults.py`)."""
