# SPDX-License-Identifier: LGPL-2.1-only
"""A throw-away Dovecot instance to try by hand:
    python3 tests/integration/harness.py [--altpop STAGE_DIR] [--user NAME:PW]
(scripts/demo.py is the fuller demo, with mail and a Kerberos realm)."""

import argparse
import signal

from harness_instance import DovecotInstance
from harness_staging import Stage


def print_instance(inst):
    """Where an instance's files and listeners are, for a human."""
    print("instance dir: %s" % inst.tmp)
    print("config:       %s" % inst.conf)
    print("log:          %s" % (inst.tmp / "dovecot.log"))
    for (proto, listener), port in sorted(inst.ports.items()):
        print("%-8s %-13s 127.0.0.1:%d" % (proto, listener, port))
    print("users: %s" % ", ".join("%s/%s" % kv for kv in inst.users.items()))


def main(argv=None):
    ap = argparse.ArgumentParser(description="start a throw-away Dovecot instance")
    ap.add_argument("--altpop", metavar="STAGE_DIR",
                    help="DESTDIR of `make install` to enable altpop")
    ap.add_argument("--user", action="append", default=[], metavar="NAME:PW")
    ap.add_argument("--extra", default="", help="extra settings text")
    args = ap.parse_args(argv)
    protocols, stage = ["pop3"], None
    if args.altpop:
        stage = Stage(args.altpop, available=True)
        if not stage.available:
            raise SystemExit(stage.reason)
        protocols.append("altpop")
    users = dict(u.split(":", 1) for u in args.user)
    with DovecotInstance(protocols, users=users, stage=stage, extra=args.extra) as inst:
        print_instance(inst)
        print("Ctrl-C stops and removes the instance.")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
