# SPDX-License-Identifier: LGPL-2.1-only
"""A throw-away Dovecot instance to try by hand:
    python3 scripts/altpop_instance [--altpop STAGE_DIR] [--user NAME:PW]
or a throw-away Kerberos realm: python3 scripts/altpop_instance --kdc
(scripts/demo.py is the fuller demo, with mail and a Kerberos realm)."""

import argparse
import signal
import sys
from pathlib import Path

if not __package__:
    # run as `python3 scripts/altpop_instance`: import it as the package
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from altpop_instance import kdc  # noqa: E402
from altpop_instance.instance import DovecotInstance  # noqa: E402
from altpop_instance.staging import Stage  # noqa: E402


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
    ap.add_argument("--kdc", action="store_true",
                    help="start a throw-away Kerberos realm instead")
    args = ap.parse_args(argv)
    if args.kdc:
        return kdc.demo()
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


if __name__ == "__main__":
    main()
