# SPDX-License-Identifier: LGPL-2.1-only
"""configure: which Dovecots it accepts, and what it says otherwise.

A copy of the generated configure script runs against a copy of this
machine's dovecot-config whose headers claim another Dovecot version, or
lack an API altpop uses: configure decides by the headers, not by the
version number, warns above the newest tested Dovecot, falls back (with a
warning) where a feature is missing, and stops before compiling anything,
naming the header and API, where an API it cannot do without is missing."""

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


def fake_dovecot(tmp_path, version, drop=(), edit=None):
    """A dovecot-config dir whose include dir is the real one, except that
    config.h says DOVECOT_VERSION is `version`, the headers named in drop
    are missing and edit maps a header name to a function that rewrites
    its text."""
    config = real_dovecot_config().read_text()
    inc_real = re.search(r"^dovecot_pkgincludedir=(.*)$", config, re.M).group(1)
    inc = tmp_path / "include"
    inc.mkdir()
    edit = edit or {}
    for header in Path(inc_real).iterdir():
        if header.name == "config.h" or header.name in drop:
            continue
        if header.name in edit:
            (inc / header.name).write_text(edit[header.name](header.read_text()))
        else:
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


def run_configure(tmp_path, dc, args=(), env=None):
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
    return subprocess.run(["./configure", "--with-dovecot=%s" % dc] + list(args),
                          cwd=src, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=300, text=True)


def _errors(res):
    return [l for l in res.stdout.splitlines() if "error:" in l]


def _installed():
    config = real_dovecot_config().read_text()
    inc = re.search(r"^dovecot_pkgincludedir=(.*)$", config, re.M).group(1)
    return installed_version(inc)


def test_installed_dovecot_version_is_accepted(tmp_path):
    version = _installed()
    res = run_configure(tmp_path, fake_dovecot(tmp_path, version))
    assert res.returncode == 0, res.stdout[-2000:]
    assert "checking Dovecot version... %s" % version in res.stdout
    assert not _errors(res), res.stdout[-2000:]


def test_newer_than_tested_builds_with_a_warning(tmp_path):
    # a version number alone never stops configure: the headers decide
    res = run_configure(tmp_path, fake_dovecot(tmp_path, "2.9.0"))
    assert res.returncode == 0, res.stdout[-2000:]
    warning = [l for l in res.stdout.splitlines() if "WARNING:" in l
               and "newer than the newest Dovecot altpop was tested with" in l]
    assert warning, res.stdout[-2000:]
    assert "2.9.0" in warning[0] and "tests/run.sh" in warning[0]


def test_older_version_number_with_a_current_api_is_accepted(tmp_path):
    res = run_configure(tmp_path, fake_dovecot(tmp_path, "2.3.17"))
    assert res.returncode == 0, res.stdout[-2000:]
    assert re.search(r"^checking whether Dovecot 2\.3\.17 is newer than the "
                     r"newest tested \([0-9.]+\)\.\.\. no$", res.stdout, re.M), \
        res.stdout[-2000:]


def test_missing_post_login_api_stops_configure(tmp_path):
    # neither 2.4's login-server.h nor 2.3's master-login.h: no glue fits
    res = run_configure(tmp_path, fake_dovecot(
        tmp_path, "2.2.36", drop=("login-server.h", "master-login.h")))
    assert res.returncode != 0, res.stdout[-2000:]
    error = _errors(res)
    assert error, res.stdout[-2000:]
    assert "login-server.h" in error[-1] and "master-login.h" in error[-1]
    assert "Dovecot 2.3.18 or later" in error[-1]
    # nothing was compiled
    assert "config.status: creating Makefile" not in res.stdout


def test_missing_mechanism_api_stops_configure(tmp_path):
    # no way for the KPOP mechanism to register with auth
    res = run_configure(tmp_path, fake_dovecot(
        tmp_path, _installed(), drop=("mech.h", "auth-sasl.h",
                                      "sasl-server-protected.h")))
    if "checking for krb5... no" in res.stdout:
        pytest.skip("no libkrb5-dev: the KPOP mechanism is not built")
    assert res.returncode != 0, res.stdout[-2000:]
    error = _errors(res)
    assert error and "KPOP mechanism cannot register" in error[-1], \
        res.stdout[-2000:]
    assert "mech.h" in error[-1] and "auth_sasl_mech_register_module" in error[-1]


def test_missing_xclient_forward_decoding_falls_back(tmp_path):
    # as upstream Dovecot without the XCLIENT FORWARD fix
    def strip(text):
        return "\n".join(l for l in text.splitlines()
                         if "client_forward_decode_base64" not in l) + "\n"
    res = run_configure(tmp_path, fake_dovecot(
        tmp_path, _installed(), edit={"client-common.h": strip}))
    assert res.returncode == 0, res.stdout[-2000:]
    assert "checking for client_forward_decode_base64... no" in res.stdout
    assert any("WARNING:" in l and "ignores XCLIENT FORWARD" in l
               for l in res.stdout.splitlines()), res.stdout[-2000:]
    assert re.search(r"^  not available: +xclient-forward", res.stdout, re.M)


# ---- the cyrussasl passdb: built when libsasl2 is found ----

def _have_libsasl2():
    return subprocess.run(["pkg-config", "--exists", "libsasl2"]).returncode == 0


def test_cyrus_sasl_built_when_found_and_left_out_on_request(tmp_path):
    if not _have_libsasl2():
        pytest.skip("no libsasl2-dev")
    dc = fake_dovecot(tmp_path, _installed())
    res = run_configure(tmp_path / "default", dc)
    assert res.returncode == 0, res.stdout[-2000:]
    assert re.search(r"^  cyrussasl passdb: yes$", res.stdout, re.M), res.stdout[-2000:]
    res = run_configure(tmp_path / "without", dc, ["--without-cyrus-sasl"])
    assert res.returncode == 0, res.stdout[-2000:]
    assert re.search(r"^  cyrussasl passdb: no$", res.stdout, re.M), res.stdout[-2000:]
    assert "libsasl2 not found" not in res.stdout


def test_cyrus_sasl_required_but_missing_stops_configure(tmp_path):
    # pkg-config finds nothing: libsasl2 is missing (so is krb5, which only
    # warns; configure stops at libsasl2, before libidn)
    empty = tmp_path / "pkgconfig"
    empty.mkdir()
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(empty), PKG_CONFIG_PATH="")
    dc = fake_dovecot(tmp_path, _installed())
    res = run_configure(tmp_path / "with", dc, ["--with-cyrus-sasl"], env=env)
    assert res.returncode != 0, res.stdout[-2000:]
    error = _errors(res)
    assert error and "--with-cyrus-sasl: libsasl2 not found" in error[-1], \
        res.stdout[-2000:]
    assert "libsasl2-dev" in error[-1]
    # without the option, a missing libsasl2 only warns
    res = run_configure(tmp_path / "check", dc, env=env)
    assert any("WARNING:" in l and "cyrussasl passdb is not built" in l
               for l in res.stdout.splitlines()), res.stdout[-2000:]
