# SPDX-License-Identifier: LGPL-2.1-only
"""Shared pieces of the benchmark (tests/bench/run.py): paths, the
workload names and sizes, the log line."""

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.dont_write_bytecode = True

import harness  # noqa: E402

PROTOS = ("pop3", "altpop")
POST_LOGIN = {"pop3": "pop3", "altpop": "altpop"}
LOGIN = {"pop3": "pop3-login", "altpop": "altpop-login"}

PROFILES = {
    "full": dict(
        rounds=5, idle_rounds=3, bulk_rounds=15,
        login_seq_sessions=400, login_conc=50, login_conc_sessions=3000,
        login_one_seq_sessions=200, login_one_conc_sessions=1000,
        login_msgs=10,
        bulk_messages=2000, bulk_min=1024, bulk_max=5 * 1024 * 1024,
        bulk_median=40 * 1024, bulk_sigma=1.6,
        big_messages=100000, big_median=2500, big_sigma=0.6,
        idle_sessions=1000, kpop_sessions=150,
    ),
    "quick": dict(
        rounds=1, idle_rounds=1, bulk_rounds=1,
        login_seq_sessions=10, login_conc=10, login_conc_sessions=40,
        login_one_seq_sessions=10, login_one_conc_sessions=30,
        login_msgs=3,
        bulk_messages=40, bulk_min=1024, bulk_max=512 * 1024,
        bulk_median=20 * 1024, bulk_sigma=1.2,
        big_messages=2000, big_median=2000, big_sigma=0.5,
        idle_sessions=40, kpop_sessions=10,
    ),
}

WORKLOADS = ("login", "loginhp", "bulk", "bulktls", "logintls", "big", "idle", "kpop")
# the workloads that need popbench built with TLS
TLS_WORKLOADS = ("bulktls", "logintls")
# A ratio this close to its target is reported as "par", not "BEHIND".
PAR = 0.005


class WorkloadError(RuntimeError):
    pass


def log(msg):
    print("[%7.1fs] %s" % (time.monotonic() - T_START, msg), flush=True)


T_START = time.monotonic()
