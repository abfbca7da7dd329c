# SPDX-License-Identifier: LGPL-2.1-only
"""Throw-away Dovecot instances for the altpop integration tests.

This module is the one the tests import (`import harness`, `harness.X`); the
work is done in modules named by their job:

  harness_dovecot    the installed Dovecot (paths, version, IS_24, log
                     wording, templates) and HarnessError
  harness_settings   settings text: setting()/settings() write 2.3 names
                     and values in the installed version's syntax
  harness_staging    `make install DESTDIR=...` of the build (Stage,
                     stage_altpop, check_stage)
  harness_sanitizer  sanitizer builds: runtimes, environment, reports
  harness_ports      free ports, listening ports, loopback source addresses
  harness_certs      self-signed certificates
  harness_processes  /proc helpers, pid files, reaping killed runs' instances
  harness_config     an instance's passwd-file, modules and dovecot.conf
                     (from dovecot-conf/instance/<major>/*.conf.in)
  harness_delivery   the vmail user, maildirs, delivery as files or by LMTP
  harness_instance   DovecotInstance: set-up, start in a private mount
                     namespace, stop by PID, logs, doveconf
  harness_demo       the demo instance of `python3 harness.py`

A DovecotInstance owns a private directory under /tmp with its own base_dir,
state_dir, log file, passwd-file, self-signed certificate, mail homes and
configuration.  Dovecot is started in the foreground inside a private mount
namespace, where private copies of $moduledir/settings and $moduledir/auth
(the system's modules plus the staged altpop modules) are bind-mounted over
the system directories, so uninstalled modules load without touching the
system.

Run as a script for a demo instance:
    python3 tests/integration/harness.py [--altpop STAGE_DIR] [--user NAME:PW]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

# Every name tests, scripts and the benchmark use, as before the split
# (some of them private helpers that tests call directly).
from harness_certs import make_cert  # noqa: E402
from harness_config import LISTENERS, InstanceConfig  # noqa: E402
from harness_delivery import Maildrops, ensure_vmail  # noqa: E402
from harness_demo import main as demo_main, print_instance  # noqa: E402
from harness_dovecot import (  # noqa: E402
    DEFAULT_USERS, DOVECONF, DOVECOT, DOVECOT_CONFIG_H, DOVECOT_LIBEXECDIR,
    DOVECOT_MAJOR, DOVECOT_VERSION, IS_24, LOG_LOGGED_IN, LOG_LOGIN_ABORTED,
    LOG_LOGOUT_BEFORE_LOGIN, REPO_ROOT, START_TIMEOUT, STOP_TIMEOUT,
    SUPPORTED_MAJORS, SYS_MODULEDIR, TEMPLATES, HarnessError, auth_log_rx,
    config_header, template_dir)
from harness_instance import DovecotInstance  # noqa: E402
from harness_ports import (  # noqa: E402
    PORT_RANGE_LOW, free_ports, listening_tcp_ports, next_source_ip,
    port_is_free)
from harness_processes import (  # noqa: E402
    INSTANCE_PREFIX, StartStopContext, _die_with_parent, _is_zombie, _mnt_ns, _pid_file_alive,
    _pids_in_mnt_ns, _session_id, _start_time, _stat_fields, _write_pid_file,
    reap_stale_instances, stop_child)
from harness_sanitizer import (  # noqa: E402
    SANITIZER_DIR, SANITIZER_LOG_RX, SANITIZER_SUPPRESSIONS,
    sanitizer_environment, sanitizer_reports, sanitizer_runtimes)
from harness_settings import (  # noqa: E402
    SETTINGS_24, metric, setting, settings, stats_http_listener, vars_to_24)
from harness_staging import (  # noqa: E402
    STAGE_LOCK, Stage, check_stage, stage_altpop)

__all__ = [
    "DEFAULT_USERS", "DOVECONF", "DOVECOT", "DOVECOT_CONFIG_H",
    "DOVECOT_LIBEXECDIR", "DOVECOT_MAJOR", "DOVECOT_VERSION", "DovecotInstance",
    "HarnessError", "INSTANCE_PREFIX", "IS_24", "InstanceConfig", "LISTENERS",
    "LOG_LOGGED_IN", "LOG_LOGIN_ABORTED", "LOG_LOGOUT_BEFORE_LOGIN",
    "Maildrops", "PORT_RANGE_LOW", "REPO_ROOT", "SANITIZER_DIR",
    "SANITIZER_LOG_RX", "SANITIZER_SUPPRESSIONS", "SETTINGS_24",
    "StartStopContext",
    "START_TIMEOUT", "STAGE_LOCK", "STOP_TIMEOUT", "SUPPORTED_MAJORS",
    "SYS_MODULEDIR", "Stage", "TEMPLATES", "_die_with_parent", "_is_zombie",
    "_mnt_ns", "_pid_file_alive", "_pids_in_mnt_ns", "_session_id",
    "_start_time", "_stat_fields", "_write_pid_file", "auth_log_rx",
    "check_stage", "config_header", "demo_main", "ensure_vmail", "free_ports",
    "listening_tcp_ports", "make_cert", "metric", "next_source_ip", "port_is_free",
    "print_instance", "reap_stale_instances", "sanitizer_environment",
    "sanitizer_reports", "sanitizer_runtimes", "setting", "settings",
    "stage_altpop", "stats_http_listener", "stop_child", "template_dir",
    "vars_to_24",
]

if __name__ == "__main__":
    demo_main()
