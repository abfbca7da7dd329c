# SPDX-License-Identifier: LGPL-2.1-only
"""The installed Dovecot and this repository, as the integration harness
sees them: paths, the Dovecot version (2.3 or 2.4) and what differs with it
(log wording, instance templates, a config file's first lines), and
HarnessError, which every harness module raises."""

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


# Log wording that Dovecot changed in 2.4 (login-common writes these lines
# for altpop-login too): the successful login ("Login: user=<...>" became
# "Logged in: user=<...>") and a session that ends before login
# ("Disconnected: <reason>" became "Login aborted: <reason>").
LOG_LOGGED_IN = "Logged in" if IS_24 else "Login"
LOG_LOGIN_ABORTED = "Login aborted" if IS_24 else "Disconnected"
# ... and QUIT before login: "Disconnected: Aborted login by logging out"
# became "Login aborted: Logged out"
LOG_LOGOUT_BEFORE_LOGIN = "Logged out" if IS_24 else "Aborted login by logging out"


def auth_log_rx(level, mech, user=r"[^,]*", rip=r"[^,]*"):
    """Regex for the start of a line the auth process logs about a request
    of mechanism mech, up to the message: 2.3 writes
    "auth: Info: kpop(bob,127.0.0.12,<session>): ...", 2.4 writes
    "auth(bob,127.0.0.12,sasl:kpop)<session>: Info: kpop: ..." (2.4.2 and
    later "... Info: sasl(kpop): ...")."""
    if IS_24:
        return (r"auth\(%s,%s,sasl:%s\)<[^>]*>: %s: (?:%s|sasl\(%s\)): "
                % (user, rip, mech, level, mech, mech))
    return r"auth: %s: %s\(%s,%s,[^)]*\): " % (level, mech, user, rip)


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
