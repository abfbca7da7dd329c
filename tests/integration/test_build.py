# SPDX-License-Identifier: LGPL-2.1-only
"""Install layout: what `make install` puts where, and `make uninstall`."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.altpop_only


def make(*args, destdir):
    return subprocess.run(["make", "-s", *args, "DESTDIR=%s" % destdir],
                          cwd=REPO, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=600)


def files_under(root):
    return sorted(str(p.relative_to(root)) for p in Path(root).rglob("*")
                  if p.is_file() or p.is_symlink())


def test_install_layout_and_uninstall(tmp_path):
    dest = tmp_path / "dest"
    res = make("install", destdir=dest)
    assert res.returncode == 0, res.stdout.decode()
    installed = files_under(dest)
    assert "usr/lib/dovecot/altpop-login" in installed
    assert "usr/lib/dovecot/altpop" in installed
    assert "usr/lib/dovecot/modules/settings/libaltpop_settings.so" in installed
    # no libtool archives or static leftovers in Dovecot's module dir
    assert not [f for f in installed if f.endswith((".la", ".a"))]
    for binary in ("altpop-login", "altpop"):
        out = subprocess.run(["readelf", "-d", str(dest / "usr/lib/dovecot" / binary)],
                             stdout=subprocess.PIPE, check=True).stdout.decode()
        # binaries find libdovecot without ld.so.conf changes
        assert "/usr/lib/dovecot" in out and ("RUNPATH" in out or "RPATH" in out)
    res = make("uninstall", destdir=dest)
    assert res.returncode == 0, res.stdout.decode()
    assert files_under(dest) == []


def test_settings_module_exports_only_altpop_symbols(stage):
    so = [m for m in stage.settings_modules if m.name == "libaltpop_settings.so"][0]
    out = subprocess.run(["nm", "-D", "--defined-only", str(so)],
                         stdout=subprocess.PIPE, check=True).stdout.decode()
    names = [line.split()[-1] for line in out.splitlines() if line.strip()]
    # the config executable's own symbols win: ours must not clash
    assert names and all(n.startswith("altpop_") for n in names), names
    assert "altpop_settings_version" in names
