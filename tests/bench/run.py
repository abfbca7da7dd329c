#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-only
"""altpop benchmark: stock Dovecot pop3 against altpop, side by side.

One throw-away Dovecot instance (scripts/altpop_instance) serves both
protocols at once (protocols = pop3 altpop) from the same maildrops. Every
workload runs alternately against stock pop3 and altpop for several rounds
(the order flips every round) and the medians and the ratio altpop / stock
are printed:

  login     sessions/s of USER/PASS + STAT + QUIT, sequential and with
            50 concurrent clients, many users and one user (a second
            session on a locked maildrop: -ERR [IN-USE] counts as answered)
  loginhp   the same in Dovecot's high-performance process mode (login
            processes reused, post-login processes serve 100 sessions)
  bulk      MB/s of RETR of every message of a 2,000-message maildrop
            (1 KB .. 5 MB, lognormal), server CPU seconds per GB, and the
            raw loopback ceiling of the same round: the same files sent
            with read()+send() to the same receive path
  bulktls   the same over pop3s (TLS from the first byte), and altpop's
            pop3s rate against its own plain-TCP rate of the same round
  logintls  the many-user login storms over pop3s (TLS handshake, then
            USER/PASS + STAT + QUIT), sequential and 50 concurrent
  big       100,000-message maildrop: UIDL-only and LIST-only sessions,
            time from connect to the complete listing and peak RSS
            (VmHWM) of the post-login process, cold (dovecot.index*
            removed) and warm
  idle      PSS/RSS of the post-login (and login) processes with 1,000
            logged-in idle sessions
  kpop      KPOP logins/s against plain logins/s on altpop (only when the
            stage has libmech_kpop.so and a KDC can be set up)

Ratios are paired: altpop / stock of each round (the two ran back to
back), reported as median (min-max).

The load generator is tests/bench/popbench.c (built here with gcc).

Usage (as root, in a built tree):
  tests/bench/run.py                 full run (about 6 minutes on 2 CPUs)
  tests/bench/run.py --quick         smoke run (1 round, tiny sizes)
  tests/bench/run.py --only login,bulk --rounds 3
Exit status: 0 when every workload ran, 1 when one failed to run, 2 on
set-up errors. Ratios are reported, not asserted (see --strict).
"""

import argparse
import json
import os
import subprocess
import sys

# no __pycache__ next to the bench modules (as the harness's own imports)
sys.dont_write_bytecode = True

from bench_common import (LOGIN, POST_LOGIN, PROFILES,  # noqa: E402,F401
                          WORKLOADS, WorkloadError, harness)
from bench_core import BenchCore  # noqa: E402
from bench_popbench import Popbench, build_popbench  # noqa: E402,F401
from bench_results import paired_ratios  # noqa: E402,F401
from bench_w_big import BigWorkload  # noqa: E402
from bench_w_bulk import BulkWorkloads  # noqa: E402
from bench_w_idle import IdleWorkload  # noqa: E402
from bench_w_kpop import KpopWorkload  # noqa: E402
from bench_w_login import LoginWorkloads  # noqa: E402

# The modules by job (LOGIN, POST_LOGIN, PROFILES, Popbench, build_popbench
# and paired_ratios are imported from here by profile.py and proxy.py):
#   bench_common.py     paths, workload names, sizes (PROFILES), log()
#   bench_maildrops.py  maildir files written directly
#   bench_procs.py      the instance's processes: PIDs, memory, CPU time
#   bench_popbench.py   the load generator popbench.c: build and run it
#   bench_results.py    paired ratios, targets, the result table
#   bench_core.py       set-up, instance, maildrops, the driver
#   bench_w_*.py        the workloads, one module per family


class Bench(BenchCore, LoginWorkloads, BulkWorkloads, BigWorkload,
            IdleWorkload, KpopWorkload):
    """The benchmark: BenchCore runs the workloads w_<name> of the
    mixins."""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--quick", action="store_true",
                    help="smoke mode: tiny maildrops, one round")
    ap.add_argument("--only", default=",".join(WORKLOADS),
                    help="comma separated workloads (default: all): %s"
                    % ",".join(WORKLOADS))
    ap.add_argument("--rounds", type=int, help="rounds per workload")
    ap.add_argument("--big-messages", type=int, help="messages of the big maildrop")
    ap.add_argument("--bulk-messages", type=int, help="messages of the bulk maildrop")
    ap.add_argument("--idle-sessions", type=int, help="idle sessions")
    ap.add_argument("--login-sessions", type=int,
                    help="sessions of the concurrent many-user login storm "
                    "(the others scale with it)")
    ap.add_argument("--lock-session", choices=("yes", "no"), default="yes",
                    help="pop3_lock_session and altpop_lock_session (default yes, "
                    "altpop's default)")
    ap.add_argument("--login-min-avail", type=int, default=0,
                    help="process_min_avail of both login services (default 0)")
    ap.add_argument("--window", type=int, default=8,
                    help="RETR commands in flight in bulk (default 8)")
    ap.add_argument("--no-sizes-in-names", action="store_true",
                    help="maildir file names without ,S=,W= (sizes must be read)")
    ap.add_argument("--tree", metavar="DIR",
                    help="stage altpop from this configured build tree instead of "
                    "the repository's own (before/after comparisons)")
    ap.add_argument("--json", metavar="FILE", help="write all results as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the instance directory")
    ap.add_argument("--strict", action="store_true",
                    help="exit 3 when a target is missed (full runs)")
    args = ap.parse_args()
    args.only = [w.strip() for w in args.only.split(",") if w.strip()]
    bad = [w for w in args.only if w not in WORKLOADS]
    if bad:
        ap.error("unknown workload(s): %s" % ", ".join(bad))
    if os.geteuid() != 0:
        print("run.py: run as root (starts Dovecot in a private mount namespace)",
              file=sys.stderr)
        return 2

    prof = dict(PROFILES["quick" if args.quick else "full"])
    for key, opt in (("rounds", args.rounds), ("big_messages", args.big_messages),
                     ("bulk_messages", args.bulk_messages),
                     ("idle_sessions", args.idle_sessions)):
        if opt is not None:
            prof[key] = opt
    if args.login_sessions is not None:
        scale = args.login_sessions / prof["login_conc_sessions"]
        for key in ("login_seq_sessions", "login_conc_sessions",
                    "login_one_seq_sessions", "login_one_conc_sessions"):
            prof[key] = max(10, int(prof[key] * scale))
    if args.rounds is not None:
        prof["idle_rounds"] = min(prof["idle_rounds"], args.rounds)
        prof["bulk_rounds"] = 3 * args.rounds

    bench = Bench(args, prof)
    try:
        try:
            bench.setup()
        except (WorkloadError, harness.HarnessError, subprocess.SubprocessError,
                OSError) as e:
            print("run.py: set-up failed: %s" % e, file=sys.stderr)
            return 2
        bench.run()
    finally:
        bench.close()

    res = bench.results
    print()
    print("altpop benchmark (%s): %s rounds; medians of each side; ratio = median "
          "(min-max) of the paired per-round ratios altpop / stock"
          % (bench.info.get("profile"), prof["rounds"]))
    print("machine: %s CPUs (%s), %.1f GiB, kernel %s, Dovecot %s"
          % (bench.info.get("nproc"), bench.info.get("cpu", "?"),
             bench.info.get("memtotal_kib", 0) / 1048576.0, bench.info.get("kernel"),
             bench.info.get("dovecot")))
    print("session locks: pop3_lock_session = altpop_lock_session = %s"
          % args.lock_session)
    print()
    print(res.table())
    for w, status, secs in bench.ran:
        print("  %-6s %-8s %6.1fs" % (w, status, secs))
    for note in res.notes:
        print("note: %s" % note)
    for w, msg in res.failures:
        print("FAILED %s: %s" % (w, msg.splitlines()[0] if msg else ""))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(info=bench.info, rows=res.rows, notes=res.notes,
                           failures=res.failures, ran=bench.ran), f, indent=1)
    if res.failures:
        return 1
    if args.strict and not args.quick and any(not ok for _, _, ok in res.verdicts()):
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
