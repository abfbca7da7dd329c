# SPDX-License-Identifier: LGPL-2.1-only
"""Staging of the altpop build: `make install DESTDIR=...` of the
configured tree, what it installed (Stage), and a check that Dovecot
accepts the staged modules."""

import fcntl
import shutil
import subprocess
from pathlib import Path

from .dovecot import DOVECOT_LIBEXECDIR, REPO_ROOT, SYS_MODULEDIR
from .sanitizer import sanitizer_runtimes

STAGE_LOCK = "/tmp/altpop-stage.lock"


class Stage:
    """Files of altpop installed with `make install DESTDIR=root`.

    available is False (with reason) when there is nothing to use; failed is
    True when the build tree exists but installing it did not work.
    """

    def __init__(self, root=None, available=False, reason="", failed=False):
        self.root = Path(root) if root else None
        self.available = available
        self.reason = reason
        self.failed = failed
        self.login = None
        self.kpop_login = None
        self.mail = None
        self.settings_modules = []
        self.auth_modules = []
        # ASan/UBSan runtimes the build links (configure --enable-sanitizers)
        self.sanitizer_runtimes = []
        if self.root is not None and available:
            self._scan()

    def _find(self, name):
        expected = self.root / DOVECOT_LIBEXECDIR.lstrip("/") / name
        if expected.exists():
            return expected
        hits = [p for p in self.root.rglob(name) if p.is_file()]
        return hits[0] if hits else None

    def _scan(self):
        self.login = self._find("altpop-login")
        self.kpop_login = self._find("altpop-kpop-login")
        self.mail = self._find("altpop")
        sdir = self.root / SYS_MODULEDIR.lstrip("/") / "settings"
        adir = self.root / SYS_MODULEDIR.lstrip("/") / "auth"
        self.settings_modules = sorted(sdir.glob("*.so")) if sdir.is_dir() else []
        self.auth_modules = sorted(adir.glob("*.so")) if adir.is_dir() else []
        missing = []
        if self.login is None:
            missing.append("altpop-login")
        if self.kpop_login is None:
            missing.append("altpop-kpop-login")
        if self.mail is None:
            missing.append("altpop")
        if not any(p.name == "libaltpop_settings.so" for p in self.settings_modules):
            missing.append("modules/settings/libaltpop_settings.so")
        if missing:
            self.available = False
            self.failed = True
            self.reason = ("make install did not stage: " + ", ".join(missing)
                           + " (under %s)" % self.root)
            return
        self.sanitizer_runtimes = sanitizer_runtimes(self.mail)

    @property
    def has_kpop(self):
        return any(p.name == "libmech_kpop.so" for p in self.auth_modules)

    @property
    def has_cyrussasl(self):
        return any(p.name == "libauthdb_cyrussasl.so" for p in self.auth_modules)

    def __repr__(self):
        return "Stage(root=%s, available=%s, reason=%r)" % (
            self.root, self.available, self.reason)


def stage_altpop(destdir, repo=REPO_ROOT, timeout=600):
    """Run `make install DESTDIR=destdir` in an already configured tree."""
    repo = Path(repo)
    if not (repo / "Makefile").exists():
        return Stage(available=False,
                     reason="altpop is not configured/built (no Makefile in the "
                            "repository root): run ./autogen.sh && ./configure && make")
    destdir = Path(destdir)
    if destdir.exists():
        shutil.rmtree(destdir)
    try:
        # Concurrent test sessions must not run make in the same tree at once.
        with open(STAGE_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            res = subprocess.run(["make", "-C", str(repo), "install",
                                  "DESTDIR=%s" % destdir],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=timeout)
    except subprocess.TimeoutExpired:
        return Stage(available=False, failed=True,
                     reason="make install timed out after %ss" % timeout)
    if res.returncode != 0:
        out = res.stdout.decode("utf-8", "replace")
        return Stage(available=False, failed=True,
                     reason="make install DESTDIR=... failed (exit %d):\n%s"
                            % (res.returncode, out[-4000:]))
    stage = Stage(destdir, available=True)
    if stage.available:
        check_stage(stage)
    return stage


def check_stage(stage):
    """Make sure doveconf accepts an instance config with the staged modules;
    otherwise mark the stage failed (so stock tests still run without it)."""
    from .instance import DovecotInstance
    inst = DovecotInstance(["pop3", "altpop"], stage=stage)
    try:
        inst.setup()
        res = inst.doveconf(["-n"])
        if res.returncode != 0:
            what = ("killed by signal %d" % -res.returncode if res.returncode < 0
                    else "exit %d" % res.returncode)
            stage.available = False
            stage.failed = True
            stage.reason = ("doveconf -n with the staged altpop modules failed (%s):\n%s"
                            % (what, (res.stderr or res.stdout)[-3000:]))
    finally:
        inst.cleanup()
    return stage
