"""Child processes the benchmarks start (sandbox departments, the hub): stopped the same way."""

from __future__ import annotations

import signal
import subprocess

STOP_TIMEOUT = 30.0


def stop_child(child: subprocess.Popen[bytes]) -> None:
    """Ctrl-C first, so the child shuts down cleanly; killed if it has not within 30 s."""
    child.send_signal(signal.SIGINT)
    try:
        child.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()
