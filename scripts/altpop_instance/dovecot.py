# SPDX-License-Identifier: LGPL-2.1-only
"""The installed Dovecot and this repository, as the instances see them:
paths, the Dovecot version (2.3 or 2.4) and what differs with it (instance
templates, a config file's first lines), the default users and timeouts,
and HarnessError, which every module of altpop_instance raises."""

import re
import subprocess
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "dovecot-conf" / "instance"
DOVECOT_LIBEXECDIR = "/usr/lib/dovecot"
SYS_MODULEDIR = "/usr/lib/dovecot/modules"
DOVECOT = "/usr/sbin/dovecot"
DOVECONF = "/usr/bin/doveconf"
DOVECOT_CONFIG_H = "/usr/include/dovecot/config.h"

DEFAULT_USERS = {"alice": "alicepw", "bob": "bobpw"}
START_TIMEOUT = 20.0
# start-ups tried, each on new ports, when a listener's port was taken by
# another program between the harness's check and Dovecot's bind
START_PORT_ATTEMPTS = 3
STOP_TIMEOUT = 10.0


class HarnessError(RuntimeError):
    pass


def _detect_version():
    """(major, minor, micro) of the Dovecot that is installed: from
    `dovecot --version` ("2.3.19.1 (9b53102964)", "2.4.1-4 (7d8c0e5759)"),
    else from the headers' config.h."""
    try:
        out = subprocess.run([DOVECOT, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout.decode()
        m = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", out)
        if m:
            return tuple(int(x or 0) for x in m.groups())
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        text = Path(DOVECOT_CONFIG_H).read_text()
        parts = [re.search(r"#define DOVECOT_VERSION_%s (\d+)" % k, text)
                 for k in ("MAJOR", "MINOR", "MICRO")]
        if all(parts):
            return tuple(int(p.group(1)) for p in parts)
    except OSError:
        pass
    return None


DOVECOT_VERSION = _detect_version()
# "2.3" or "2.4": picks dovecot-conf/instance/<major>/ and the settings syntax
DOVECOT_MAJOR = "%d.%d" % DOVECOT_VERSION[:2] if DOVECOT_VERSION else None
SUPPORTED_MAJORS = ("2.3", "2.4")
IS_24 = DOVECOT_MAJOR == "2.4"


def template_dir():
    """dovecot-conf/instance/<major>: the instance templates for the
    installed Dovecot."""
    if DOVECOT_MAJOR not in SUPPORTED_MAJORS:
        raise HarnessError("no instance templates for Dovecot %s (have %s)"
                           % (DOVECOT_MAJOR or "(not found: %s --version failed)"
                              % DOVECOT, ", ".join(SUPPORTED_MAJORS)))
    return TEMPLATES / DOVECOT_MAJOR


def config_header():
    """What a configuration file of the installed Dovecot must start with
    (2.4: the config and storage versions the settings are written for)."""
    if IS_24:
        return "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n"
    return ""
