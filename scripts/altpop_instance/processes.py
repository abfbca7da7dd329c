# SPDX-License-Identifier: LGPL-2.1-only
"""Processes of throw-away instances and realms: what /proc says about a
process (mount namespace, start time, session), pid files that survive pid
reuse, stopping a child by its PID, `with` for start/stop objects, and
reaping of instances whose (test) run was killed."""

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .dovecot import STOP_TIMEOUT

def _mnt_ns(pid):
    try:
        return os.readlink("/proc/%s/ns/mnt" % pid)
    except OSError:
        return None


def _stat_fields(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its ')'.
    return data[data.rindex(")") + 2:].split()


def _start_time(pid):
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _session_id(pid):
    fields = _stat_fields(pid)
    return int(fields[3]) if fields else None


def _is_zombie(pid):
    fields = _stat_fields(pid)
    return fields is None or fields[0] in ("Z", "X")


def _pids_in_mnt_ns(ns):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _mnt_ns(entry) == ns:
            pids.append(int(entry))
    return pids


INSTANCE_PREFIX = "altpop-it-"


def _die_with_parent():
    """In the child before exec: SIGTERM when the harness process dies, so a
    killed test run leaves no Dovecot behind (dovecot keeps it across exec)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)      # PR_SET_PDEATHSIG


def _write_pid_file(path, pid):
    Path(path).write_text("%d %s\n" % (pid, _start_time(pid)))


def _pid_file_alive(path):
    """(pid, alive) for a file of _write_pid_file; alive means the very
    process that wrote it (same start time) still runs."""
    try:
        pid_s, st_s = Path(path).read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return None, False
    st = _start_time(pid)
    return pid, st is not None and str(st) == st_s and not _is_zombie(pid)


def reap_stale_instances(tmpdir="/tmp"):
    """Remove instance directories whose harness process is gone (a test run
    killed with SIGKILL), stopping their Dovecot first if it still runs.
    Directories of live harness processes are never touched."""
    reaped = []
    for d in Path(tmpdir).glob(INSTANCE_PREFIX + "*"):
        owner = d / "owner.pid"
        if not owner.exists():
            continue
        _, owner_alive = _pid_file_alive(owner)
        if owner_alive:
            continue
        master, master_alive = _pid_file_alive(d / "master.pid")
        if master_alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(master, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while _pid_file_alive(d / "master.pid")[1] and time.monotonic() < deadline:
                time.sleep(0.1)
            if _pid_file_alive(d / "master.pid")[1]:
                continue
        shutil.rmtree(d, ignore_errors=True)
        reaped.append(d)
    return reaped


def stop_child(proc, timeout=STOP_TIMEOUT):
    """Stop a child process started by us (a subprocess.Popen) by its PID:
    SIGTERM, and SIGKILL when it has not exited after timeout seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout)


class StartStopContext:
    """`with obj:` for a test server object with start(), stop() and
    cleanup(): started on entry, stopped and cleaned up on exit, and also
    when start() fails half-way (stop() must accept a server that never
    started)."""

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.cleanup()
        return False
