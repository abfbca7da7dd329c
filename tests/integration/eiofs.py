# SPDX-License-Identifier: LGPL-2.1-only
"""I/O errors under a running instance's users (doc/testing.md, *Faults*).

EioFs mounts tests/eiofs/eiofs (a FUSE pass-through that fails chosen
operations with EIO) over a user's home inside the instance's own mount
namespace (faultfs.in_instance_ns), the home itself as the backing
directory: the user's files stay where they are, and this process, outside
that namespace, sees them as they are on disk (inst.home(user)), not
through the layer.  fail(rules) turns faults on at run time (eiofs re-reads
its control file when it changes), ok() turns them off, faults() tells
which were injected since the last fail().
"""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

import harness
from faultfs import in_instance_ns

EIOFS = Path(harness.REPO_ROOT) / "tests" / "eiofs" / "eiofs"
MOUNT_TIMEOUT = 10
STOP_TIMEOUT = 10


def eiofs_available():
    """None, or why the layer can't be used here."""
    if not EIOFS.exists():
        return "%s not built (configure found no fuse3: apt-get install libfuse3-dev)" % EIOFS
    if not os.path.exists("/dev/fuse"):
        return "no /dev/fuse"
    with open("/proc/filesystems") as f:
        if "fuse" not in f.read().split():
            return "the kernel has no fuse file system"
    return None


def require_eiofs():
    why = eiofs_available()
    if why is None:
        return
    if os.environ.get("ALTPOP_IT_REQUIRE") == "1":
        pytest.fail(why, pytrace=False)
    pytest.skip(why)


def _mounted(pid, path):
    """Is an eiofs mounted at path in the mount namespace of pid?"""
    with open("/proc/%d/mountinfo" % pid) as f:
        for line in f:
            fields = line.split()
            sep = fields.index("-")
            if fields[4] == str(path) and fields[sep + 1] == "fuse.eiofs":
                return True
    return False


class EioFs:
    """The user's home of inst behind eiofs until stop()."""

    def __init__(self, inst, user):
        require_eiofs()
        self.inst = inst
        self.home = inst.home(user)
        inst.maildir(user)
        self.control = inst.tmp / ("eiofs-%s.rules" % user)
        self.fault_log = inst.tmp / ("eiofs-%s.log" % user)
        self.stderr = open(inst.tmp / ("eiofs-%s.stderr" % user), "wb")
        self.fault_log.touch()
        self._write_control("")
        self.proc = subprocess.Popen(
            in_instance_ns(inst, [str(EIOFS), "-c", str(self.control),
                                  "-l", str(self.fault_log)] +
                           (["-t"] if os.environ.get("ALTPOP_EIOFS_TRACE") == "1" else []) +
                           [str(self.home)]),
            stdout=self.stderr, stderr=subprocess.STDOUT,
            start_new_session=True)
        deadline = time.monotonic() + MOUNT_TIMEOUT
        while not _mounted(inst.pid, self.home):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise harness.HarnessError(
                    "eiofs did not mount %s: %s" % (self.home, self.stderr_text()))
            time.sleep(0.05)
        self._log_start = 0

    def _write_control(self, text):
        tmp = self.control.with_name(self.control.name + ".new")
        tmp.write_text(text)
        os.replace(tmp, self.control)

    def fail(self, *rules):
        """Fail with EIO what the rules name ("OP GLOB [FROM]", see
        tests/eiofs/eiofs.c), from now on."""
        self._log_start = self.fault_log.stat().st_size
        self._write_control("".join(r + "\n" for r in rules))

    def ok(self):
        """No more faults."""
        self._write_control("")

    def faults(self):
        """The faults injected since the last fail(): ["OP PATH", ...]."""
        with open(self.fault_log) as f:
            f.seek(self._log_start)
            return [line[len("EIO "):].rstrip("\n") for line in f
                    if line.startswith("EIO ")]

    def stderr_text(self):
        return (self.inst.tmp / Path(self.stderr.name).name).read_text(errors="replace")

    def stop(self):
        """Unmount (eiofs unmounts when it gets SIGTERM) and wait for it."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT)
        self.stderr.close()
