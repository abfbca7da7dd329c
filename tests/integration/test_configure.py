"""configure: which Dovecot versions it accepts, and what it says otherwise.

A copy of the generated configure script runs against a copy of this
machine's dovecot-config whose headers claim another Dovecot version; the
script must stop before compiling anything, naming the version."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOVECOT_CONFIG_DIRS = ("/usr/lib/dovecot", "/usr/local/lib/dovecot")


def real_dovecot_config():
    for d in DOVECOT_CONFIG_DIRS:
        if (Path(d) / "dovecot-config").is_file():
            return Path(d) / "dovecot-config"
    pytest.fail("dovecot-config not found: is dovecot-dev installed?")


def installed_version(include_dir):
    text = (Path(include_dir) / "config.h").read_text()
    return re.search(r'^#define DOVECOT_VERSION "(.*)"$', text, re.M).group(1)


def fake_dovecot(tmp_path, version):
    """A dovecot-config dir whose include dir is the real one, except that
    config.h says DOVECOT_VERSION is `version`."""
    config = real_dovecot_config().read_text()
    inc_real = re.search(r"^dovecot_pkgincludedir=(.*)$", config, re.M).group(1)
    inc = tmp_path / "include"
    inc.mkdir()
    for header in Path(inc_real).iterdir():
        if header.name != "config.h":
            (inc / header.name).symlink_to(header)
    text = (Path(inc_real) / "config.h").read_text()
    (inc / "config.h").write_text(re.sub(
        r'^#define DOVECOT_VERSION ".*"$',
        '#define DOVECOT_VERSION "%s"' % version, text, flags=re.M))
    config = re.sub(r"^dovecot_pkgincludedir=.*$",
                    "dovecot_pkgincludedir=%s" % inc, config, flags=re.M)
    config = re.sub(r"^LIBDOVECOT_INCLUDE=.*$",
                    "LIBDOVECOT_INCLUDE=-I%s" % inc, config, flags=re.M)
    dc = tmp_path / "dc"
    dc.mkdir()
    (dc / "dovecot-config").write_text(config)
    return dc


def run_configure(tmp_path, dc):
    if not (REPO / "configure").is_file():
        if os.environ.get("ALTPOP_IT_REQUIRE") == "1":
            pytest.fail("no configure script: run ./autogen.sh first")
        pytest.skip("no configure script (./autogen.sh not run)")
    src = tmp_path / "src"
    (src / "module" / "mail").mkdir(parents=True)
    for name in ("configure", "Makefile.in", "altpop-config.h.in"):
        shutil.copy(REPO / name, src / name)
    shutil.copytree(REPO / "build-aux", src / "build-aux")
    shutil.copy(REPO / "module" / "mail" / "main.c", src / "module" / "mail")
    return subprocess.run(["./configure", "--with-dovecot=%s" % dc], cwd=src,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=300, text=True)


@pytest.mark.parametrize("version", ["2.4.2", "2.3.17"])
def test_unsupported_dovecot_version_stops_configure(tmp_path, version):
    res = run_configure(tmp_path, fake_dovecot(tmp_path, version))
    assert res.returncode != 0, res.stdout[-2000:]
    error = [l for l in res.stdout.splitlines() if "error:" in l]
    assert error, res.stdout[-2000:]
    assert "Dovecot %s is not supported" % version in error[-1]
    # it tells the admin which versions do work
    assert "2.3" in error[-1] and "2.4.1" in error[-1]


def test_installed_dovecot_version_is_accepted(tmp_path):
    config = real_dovecot_config().read_text()
    inc = re.search(r"^dovecot_pkgincludedir=(.*)$", config, re.M).group(1)
    version = installed_version(inc)
    res = run_configure(tmp_path, fake_dovecot(tmp_path, version))
    assert "checking Dovecot version... %s" % version in res.stdout
    assert "is not supported" not in res.stdout
