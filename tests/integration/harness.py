# SPDX-License-Identifier: LGPL-2.1-only
"""Throw-away Dovecot instances for the altpop integration tests.

This module is the one the tests import (`import harness`, `harness.X`,
`from harness import kdc`).  The instances themselves are built by the
package scripts/altpop_instance (put on sys.path here), which the demo
(scripts/demo.py) uses as well; see its __init__ for its modules: the
installed Dovecot, settings text, staging of the build, sanitizer builds,
ports, certificates, processes, an instance's configuration and mail,
DovecotInstance, and kdc (a throw-away Kerberos realm).  What only the
tests need is here: the log wording of the installed Dovecot that tests
match (LOG_*, auth_log_rx()) and fresh loopback source addresses for
clients (next_source_ip()).

A DovecotInstance owns a private directory under /tmp with its own base_dir,
state_dir, log file, passwd-file, self-signed certificate, mail homes and
configuration.  Dovecot is started in the foreground inside a private mount
namespace, where private copies of $moduledir/settings and $moduledir/auth
(the system's modules plus the staged altpop modules) are bind-mounted over
the system directories, so uninstalled modules load without touching the
system.

To start an instance by hand: python3 scripts/altpop_instance --help
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

# Every name the tests and the benchmark use (some of them private
# helpers that tests call directly).
from altpop_instance import kdc  # noqa: E402
from altpop_instance.certs import make_cert  # noqa: E402
from altpop_instance.config import LISTENERS, InstanceConfig  # noqa: E402
from altpop_instance.delivery import Maildrops, ensure_vmail  # noqa: E402
from altpop_instance.dovecot import (  # noqa: E402
    DEFAULT_USERS, DOVECONF, DOVECOT, DOVECOT_CONFIG_H, DOVECOT_LIBEXECDIR,
    DOVECOT_MAJOR, DOVECOT_VERSION, IS_24, REPO_ROOT, START_PORT_ATTEMPTS,
    START_TIMEOUT,
    STOP_TIMEOUT, SUPPORTED_MAJORS, SYS_MODULEDIR, TEMPLATES, HarnessError,
    config_header, template_dir)
from altpop_instance.instance import DovecotInstance  # noqa: E402
from altpop_instance.ports import (  # noqa: E402
    PORT_RANGE_LOW, free_ports, listening_tcp_ports, listening_tcp_sockets,
    port_is_free)
from altpop_instance.processes import (  # noqa: E402
    INSTANCE_PREFIX, StartStopContext, _die_with_parent, _is_zombie, _mnt_ns, _pid_file_alive,
    _pids_in_mnt_ns, _session_id, _start_time, _stat_fields, _write_pid_file,
    reap_stale_instances, stop_child)
from altpop_instance.sanitizer import (  # noqa: E402
    SANITIZER_DIR, SANITIZER_LOG_RX, SANITIZER_SUPPRESSIONS,
    sanitizer_environment, sanitizer_reports, sanitizer_runtimes)
from altpop_instance.settings import (  # noqa: E402
    SETTINGS_24, metric, setting, settings, stats_http_listener, vars_to_24)
from altpop_instance.staging import (  # noqa: E402
    STAGE_LOCK, Stage, check_stage, stage_altpop)

__all__ = [
    "DEFAULT_USERS", "DOVECONF", "DOVECOT", "DOVECOT_CONFIG_H",
    "DOVECOT_LIBEXECDIR", "DOVECOT_MAJOR", "DOVECOT_VERSION", "DovecotInstance",
    "HarnessError", "INSTANCE_PREFIX", "IS_24", "InstanceConfig", "LISTENERS",
    "LOG_LOGGED_IN", "LOG_LOGIN_ABORTED", "LOG_LOGOUT_BEFORE_LOGIN",
    "Maildrops", "PORT_RANGE_LOW", "REPO_ROOT", "SANITIZER_DIR",
    "SANITIZER_LOG_RX", "SANITIZER_SUPPRESSIONS", "SETTINGS_24",
    "StartStopContext",
    "START_PORT_ATTEMPTS", "START_TIMEOUT", "STAGE_LOCK", "STOP_TIMEOUT", "SUPPORTED_MAJORS",
    "SYS_MODULEDIR", "Stage", "TEMPLATES", "_die_with_parent", "_is_zombie",
    "_mnt_ns", "_pid_file_alive", "_pids_in_mnt_ns", "_session_id",
    "_start_time", "_stat_fields", "_write_pid_file", "auth_log_rx",
    "check_stage", "config_header", "ensure_vmail", "free_ports",
    "kdc", "listening_tcp_ports", "listening_tcp_sockets", "make_cert",
    "metric", "next_source_ip",
    "port_is_free", "reap_stale_instances", "sanitizer_environment",
    "sanitizer_reports", "sanitizer_runtimes", "setting", "settings",
    "stage_altpop", "stats_http_listener", "stop_child", "template_dir",
    "vars_to_24",
]


# ---- what only the tests need ----------------------------------------

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


_source_counter = [1]


def next_source_ip():
    """A loopback address not handed out before in this process (127.0.0.2..)."""
    _source_counter[0] += 1
    n = _source_counter[0]
    if n > 250 * 250:
        raise HarnessError("out of loopback source addresses")
    return "127.0.%d.%d" % (n // 250, 2 + n % 250)
