# SPDX-License-Identifier: LGPL-2.1-only
"""Faulty file systems under a running instance's users (doc/testing.md,
*Faults*).

SmallDisk mounts a size-limited tmpfs over a user's home inside the
instance's own mount namespace (entered with nsenter through the Dovecot
master's PID), so nothing outside the instance sees it and it goes away
with the instance.  fill() writes a filler file until the file system says
ENOSPC; free() removes it.  The test reads and writes the user's files
through /proc/<master pid>/root, which resolves paths in that namespace.

deny_writes() takes write permission on a directory away from the mail
user (the storage then fails to remove or rename files there, as after an
I/O error turned a file system read-only), allow_writes() gives it back.
"""

import errno
import os
import subprocess
from pathlib import Path

# small enough to fill at once, large enough for Dovecot's indexes and a
# few messages
SMALL_DISK_SIZE = "2m"
FILL_CHUNK = 64 * 1024


def in_instance_ns(inst, argv):
    """argv to run in inst's mount namespace, with the root directory of
    its master and its working directory (entering a mount namespace
    resets both to the namespace's: inside a chroot, the host's)."""
    return ["nsenter", "-t", str(inst.pid), "-m", "-r", "-w", "--"] + list(argv)


class SmallDisk:
    def __init__(self, inst, user, size=SMALL_DISK_SIZE):
        self.inst = inst
        self.user = user
        self.home = inst.home(user)
        self.filler = None
        self.nsenter(["mount", "-t", "tmpfs", "-o",
                      "size=%s,mode=0700,uid=%d,gid=%d"
                      % (size, inst.uid, inst.gid), "altpop-small-disk",
                      str(self.home)])
        for d in ("Maildir", "Maildir/cur", "Maildir/new", "Maildir/tmp"):
            p = self.path(d)
            p.mkdir()
            os.chown(p, inst.uid, inst.gid)
            os.chmod(p, 0o700)

    def nsenter(self, argv):
        """argv run in the instance's mount namespace."""
        return subprocess.run(in_instance_ns(self.inst, argv), check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=60)

    def path(self, rel=""):
        """A path under the user's home as the instance sees it."""
        return Path("/proc/%d/root" % self.inst.pid) / str(self.home).lstrip("/") / rel

    def maildir(self):
        return self.path("Maildir")

    def messages(self):
        md = self.maildir()
        return sorted(p.name for d in ("new", "cur") for p in (md / d).iterdir())

    def fill(self):
        """Fill the file system to its last block."""
        self.filler = self.path("filler")
        chunk = b"\0" * FILL_CHUNK
        with open(self.filler, "wb", buffering=0) as f:
            size = len(chunk)
            while size > 0:
                try:
                    f.write(chunk[:size])
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    size //= 2
        st = os.statvfs(self.path())
        assert st.f_bavail == 0, "filled but %d blocks free" % st.f_bavail

    def free(self):
        if self.filler is not None:
            self.filler.unlink()
            self.filler = None


def deny_writes(directory):
    os.chmod(directory, 0o500)


def allow_writes(directory):
    os.chmod(directory, 0o700)
