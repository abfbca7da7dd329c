#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-only
"""Start or stop the altpop demo: a throw-away Dovecot on 127.0.0.1 with
altpop loaded beside Dovecot's own pop3, and a demo account with mail.
The configuration comes from dovecot-conf/instance/<2.3|2.4>/ (the templates
of the installed Dovecot, through scripts/altpop_instance).

  scripts/demo.sh          build, then start (runs in the background)
  scripts/demo.sh stop     stop it and remove its files
"""

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

from altpop_instance import kdc
from altpop_instance.instance import DovecotInstance
from altpop_instance.settings import setting
from altpop_instance.staging import stage_altpop

REPO = Path(__file__).resolve().parents[1]

STATE = REPO / "demo-run"
PIDFILE = STATE / "dovecot.pid"
KDC_PIDFILE = STATE / "krb5kdc.pid"
KDC_DIR = STATE / "kdc-dir"
INFO = STATE / "instance-dir"
PORTS = {
    "PORT_ALTPOP": 11110, "PORT_ALTPOP_POP3S": 11995,
    "PORT_ALTPOP_KPOP": 11109, "PORT_ALTPOP_HAPROXY": 11111,
    "PORT_POP3": 12110, "PORT_POP3S": 12995, "PORT_POP3_HAPROXY": 12111,
}
MESSAGES = [
    b"From: Dovecot Demo <demo@example.org>\r\nTo: demo@example.org\r\n"
    b"Subject: Welcome to altpop\r\n\r\nThis message was delivered to the "
    b"demo account.\r\nFetch it with any POP3 client.\r\n",
    b"From: sender@example.org\r\nTo: demo@example.org\r\n"
    b"Subject: Lines that start with a dot\r\n\r\n.one dot\r\n..two dots\r\n"
    b"done\r\n",
    b"From: sender@example.org\nTo: demo@example.org\nSubject: Stored "
    b"with bare LF line ends\n\nPOP3 still sends CRLF.\n",
]


def stop():
    if not PIDFILE.exists():
        print("demo: not running")
        return 0
    pid = int(PIDFILE.read_text())
    try:
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):
            os.kill(pid, 0)
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    if KDC_PIDFILE.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(KDC_PIDFILE.read_text()), signal.SIGTERM)
    if KDC_DIR.exists():
        shutil.rmtree(KDC_DIR.read_text().strip(), ignore_errors=True)
    if INFO.exists():
        shutil.rmtree(INFO.read_text().strip(), ignore_errors=True)
    shutil.rmtree(STATE, ignore_errors=True)
    print("demo: stopped")
    return 0


def start():
    if PIDFILE.exists():
        try:
            os.kill(int(PIDFILE.read_text()), 0)
            print("demo: already running (scripts/demo.sh stop first)")
            return 1
        except ProcessLookupError:
            shutil.rmtree(STATE, ignore_errors=True)
    STATE.mkdir(exist_ok=True)
    stage = stage_altpop(str(STATE / "stage"))
    if not stage.available:
        print("demo: altpop is not usable: %s" % stage.reason)
        return 1
    # KPOP with a throw-away Kerberos realm, when the KDC tools are there
    realm, extra, kpop_help = None, "", ""
    if stage.has_kpop and kdc.available() is None:
        try:
            realm = kdc.KDC(users=("demo",), keep=True)
            realm.start()
            ccache = realm.kinit("demo")
            KDC_PIDFILE.write_text(str(realm.proc.pid))
            KDC_DIR.write_text(str(realm.dir))
            extra = (setting("auth_mechanisms",
                             "plain login cram-md5 apop kpop")
                     + realm.dovecot_settings())
        except kdc.KDCError as exc:
            print("demo: no KPOP realm (%s)" % exc)
            realm, extra, kpop_help = None, "", ""
    inst = DovecotInstance(["pop3", "altpop"], users={"demo": "demo"},
                           stage=stage, keep=True, name="demo",
                           default_users=False, extra=extra,
                           fixed_ports=PORTS)
    inst.setup()
    inst.start()
    for raw in MESSAGES:
        inst.deliver("demo", raw)
    PIDFILE.write_text(str(inst.pid))
    if realm is not None:
        client = REPO / "tests" / "kpop-client" / "kpop-client"
        # the address the demo listens on, and -H for the host of the
        # service principal (pop/localhost): "localhost" may resolve to
        # ::1 first (Debian 13), where nothing listens
        kpop_help = ("\nKPOP (Kerberos V5 POP, realm %s) on 127.0.0.1:%d, with a "
                     "ticket for demo ready:\n  %s \\\n    %s -u demo -c STAT "
                     "-c 'RETR 1' -H %s 127.0.0.1 %d\n"
                     % (realm.realm, inst.port("altpop", "kpop"),
                        " ".join("%s=%s" % kv for kv in
                                 sorted(realm.env(ccache).items())),
                        client, realm.host, inst.port("altpop", "kpop")))
        realm.proc = None       # keep the KDC running
    INFO.write_text(str(inst.tmp))
    alt = inst.port("altpop", "pop3")
    alts = inst.port("altpop", "pop3s")
    print("""
altpop demo is running (Dovecot pid %d, files in %s).

  altpop:        pop3 127.0.0.1:%d   pop3s 127.0.0.1:%d
  stock pop3:    pop3 127.0.0.1:%d   (the same mail, for comparison)
  account:       demo / demo  (%d messages)

Try:
  curl -u demo:demo pop3://127.0.0.1:%d/          # list
  curl -u demo:demo pop3://127.0.0.1:%d/1         # message 1
  curl -k -u demo:demo pop3s://127.0.0.1:%d/2     # message 2 over TLS
  fetchmail -p pop3 -P %d -u demo -a -k --nodetach --sslproto '' \\
      --mda 'cat' 127.0.0.1                      # (password: demo)

%s
The log is %s/dovecot.log.
Stop it with: scripts/demo.sh stop
""" % (inst.pid, inst.tmp, alt, alts, inst.port("pop3", "pop3"),
       len(MESSAGES), alt, alt, alts, alt, kpop_help, inst.tmp))
    # leave Dovecot running: the instance is stopped by "demo.sh stop"
    inst.detach()
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "stop":
        sys.exit(stop())
    sys.exit(start())
