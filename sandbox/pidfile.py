"""Processes the sandbox started, found and stopped through their pid files
(.state/NAME.pid). A pid file names a process only while that process's
command line still matches what was started (pids are reused), and stopping
waits until the process has ended. Standard library only: the fault proxy
imports it too."""

import os
import re
import signal
import time
from pathlib import Path


def live_pid(pidfile: Path, pattern: str) -> int | None:
    """The pid in `pidfile` when that process runs and its command line
    matches the regular expression `pattern`; else None."""
    try:
        pid = int(pidfile.read_text().strip())
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, ValueError):
        return None
    return pid if re.search(pattern, cmdline) else None


def stop(pidfile: Path, pattern: str, timeout: float = 30, kill: bool = False) -> int | None:
    """Stops the process `pidfile` names (see live_pid) with SIGTERM and waits
    for it to end; after `timeout` seconds it is killed (`kill`) or
    TimeoutError is raised. The pid file is removed. Returns the pid stopped,
    or None when none was running."""
    pid = live_pid(pidfile, pattern)
    if pid is None:
        pidfile.unlink(missing_ok=True)
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            if not kill:
                raise TimeoutError(f"pid {pid} did not stop within {timeout:.0f} s")
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
            break
        time.sleep(0.1)
    pidfile.unlink(missing_ok=True)
    return pid
