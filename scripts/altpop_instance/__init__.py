# SPDX-License-Identifier: LGPL-2.1-only
"""Throw-away Dovecot instances with this tree's altpop build staged, and
throw-away Kerberos realms: for the demo (scripts/demo.py), the integration
tests (tests/integration/harness.py re-exports it) and the benchmark.  A
development helper, not an installed tool.  Its modules, named by their job:

  dovecot    the installed Dovecot (paths, version, IS_24, templates) and
             HarnessError, which every module here raises
  settings   settings text: setting()/settings() write 2.3 names and values
             in the installed version's syntax
  staging    `make install DESTDIR=...` of the build (Stage, stage_altpop,
             check_stage)
  sanitizer  sanitizer builds: runtimes, environment, reports
  ports      free ports, listening ports
  certs      self-signed certificates
  processes  /proc helpers, pid files, reaping killed runs' instances
  config     an instance's passwd-file, modules and dovecot.conf (from
             dovecot-conf/instance/<major>/*.conf.in)
  delivery   the vmail user, maildirs, delivery as files or by LMTP
  instance   DovecotInstance: set-up, start in a private mount namespace,
             stop by PID, logs, doveconf
  kdc        KDC: a throw-away MIT Kerberos realm on loopback
  __main__   an instance or a realm to try by hand:
             python3 scripts/altpop_instance --help

Import it with scripts/ on sys.path (scripts/demo.py has it there):
    from altpop_instance import kdc
    from altpop_instance.instance import DovecotInstance
"""
