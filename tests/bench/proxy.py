#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-only
"""altpop as a proxy front (issue 14): what the extra hop costs.

Builds the topology of tests/integration/topology.py (a front and one
altpop backend, each in a network namespace of its own, joined by a veth
pair) and measures:

  bulk     MB/s of RETR of every message of one maildrop by popbench
           (tests/bench/popbench.c) in the front's namespace, directly from the backend and through
           the front (alternating, several rounds; medians and the ratio
           proxied / direct)
  bulktls  the same over pop3s to the front, which proxies in plain TCP
           to the backend: stock pop3-login as the front against
           altpop-login as the front, back to back in each round (paired
           ratio altpop / stock), and the CPU seconds the front's login
           processes spent per GB (both in high-performance mode, so
           their CPU time is read from the same long-lived processes)
  memory   the front's memory per proxied session: PSS of all its
           altpop-login processes with N idle proxied sessions, minus the
           same with none, divided by N; with the login service in
           Dovecot's default high-security mode (a process per session)
           and in high-performance mode (one process, many sessions)

Usage (as root, in a built tree):
  tests/bench/proxy.py [--rounds 5] [--messages 200] [--size 262144]
                       [--sessions 100] [--json FILE]
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests" / "integration"))
sys.dont_write_bytecode = True

sys.path.insert(0, str(HERE))

import harness  # noqa: E402
import popclient  # noqa: E402
from bench_procs import cpu_snapshot, cpu_used  # noqa: E402
import run as bench  # noqa: E402  (popbench and its runner)
import topology  # noqa: E402

USER, PASSWORD = "bulk", "bulkpw"
IDLE_USERS = "idle%03d"


def message(i, size):
    head = b"From: bench@example.org\r\nSubject: bulk %d\r\n\r\n" % i
    line = b"0123456789abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstu\r\n"
    body = line * max(1, (size - len(head)) // len(line))
    return head + body


def bulk(topo, pb, userfile, rounds, window):
    """RETR of every message by popbench (pipelined, window commands in
    flight) from the front's namespace, direct and proxied alternately."""
    targets = {"direct": topo.direct_port(USER),
               "proxied": ("127.0.0.1", topo.front_port())}
    rates = {k: [] for k in targets}
    body = set()
    # round -1 warms up (index, page cache) and is not counted
    for r in range(-1, rounds):
        order = list(targets) if r % 2 == 0 else list(reversed(targets))
        for kind in order:
            host, port = targets[kind]
            with topo.front_ns.inside():
                res = pb.run(port, userfile, 1, 1, "stat,retrall,quit",
                             window=window, extra=["-h", host])
            if r >= 0:
                rates[kind].append(res["retr_mbps"])
                body.add(int(res["retr_body"]))
    med = {k: statistics.median(v) for k, v in rates.items()}
    # paired: the two ran back to back in each round
    ratios = bench.paired_ratios({"stock": rates["direct"],
                                  "altpop": rates["proxied"]})
    return {"direct_MBps": round(med["direct"], 1),
            "proxied_MBps": round(med["proxied"], 1),
            "ratio_proxied_direct": round(statistics.median(ratios), 3),
            "ratio_min_max": [round(min(ratios), 3), round(max(ratios), 3)],
            "same_bytes": len(body) == 1,
            "rounds": {k: [round(x, 1) for x in v] for k, v in rates.items()}}


FRONT_LOGINS = {"stock": "pop3-login", "altpop": "altpop-login"}


def bulktls(topo, pb, userfile, rounds, window):
    """RETR of every message over pop3s through the front: stock's and
    altpop's login process as the TLS end, alternately."""
    ports = {kind: topo.front.port("pop3" if kind == "stock" else "altpop", "pop3s")
             for kind in FRONT_LOGINS}
    rates = {k: [] for k in ports}
    cpu_gb = {k: [] for k in ports}
    body = set()
    for r in range(-1, rounds):
        order = list(ports) if r % 2 == 0 else list(reversed(ports))
        for kind in order:
            before = cpu_snapshot(topo.front, [FRONT_LOGINS[kind]])
            with topo.front_ns.inside():
                res = pb.run(ports[kind], userfile, 1, 1, "stat,retrall,quit",
                             window=window, extra=["-h", "127.0.0.1", "-T"])
            used = cpu_used(before, cpu_snapshot(topo.front, [FRONT_LOGINS[kind]]))
            if r >= 0:
                rates[kind].append(res["retr_mbps"])
                cpu_gb[kind].append(used / (res["retr_body"] / 1e9))
                body.add(int(res["retr_body"]))
    ratios = bench.paired_ratios({"stock": rates["stock"], "altpop": rates["altpop"]})
    return {"stock_MBps": round(statistics.median(rates["stock"]), 1),
            "altpop_MBps": round(statistics.median(rates["altpop"]), 1),
            "ratio_altpop_stock": round(statistics.median(ratios), 3),
            "ratio_min_max": [round(min(ratios), 3), round(max(ratios), 3)],
            "front_cpu_s_per_GB": {k: round(statistics.median(v), 3)
                                   for k, v in cpu_gb.items()},
            "same_bytes": len(body) == 1,
            "rounds": {k: [round(x, 1) for x in v] for k, v in rates.items()}}


def front_login_pss_kb(topo):
    total = 0
    for pid in harness._pids_in_mnt_ns(topo.front.ns):
        try:
            if Path("/proc/%d/comm" % pid).read_text().strip() != "altpop-login":
                continue
            for line in Path("/proc/%d/smaps_rollup" % pid).read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def settle(topo, prev=None):
    """PSS once it stopped changing (processes started or gone)."""
    time.sleep(1.0)
    value = front_login_pss_kb(topo)
    for _ in range(10):
        time.sleep(0.5)
        again = front_login_pss_kb(topo)
        if again == value:
            break
        value = again
    return value


def memory(stage, sessions, performance):
    users = {IDLE_USERS % i: (0, "pw", "") for i in range(sessions)}
    limits = harness.setting("default_process_limit", sessions + 20)
    extra = limits
    if performance:
        extra += topology.performance_mode(["altpop-login"])
    with topology.Topology(stage, backends=("altpop",), users=users,
                           front_extra=extra,
                           backend_extra=limits) as topo:
        base = settle(topo)
        clients = []
        with topo.front_ns.inside():
            for i in range(sessions):
                src = "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)
                clients.append(popclient.RawPop3(topo.front_port(), source=src,
                                                 timeout=60))
        for i, c in enumerate(clients):
            c.login(IDLE_USERS % i, "pw")
        loaded = settle(topo)
        for c in clients:
            c.quit()
    return {"sessions": sessions, "idle_pss_kb": base,
            "loaded_pss_kb": loaded,
            "kb_per_session": round((loaded - base) / sessions, 1)}


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--size", type=int, default=256 * 1024)
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="altpop-bench-proxy-"))
    try:
        stage = harness.stage_altpop(work / "stage")
        if not stage.available:
            print("altpop not staged: %s" % stage.reason, file=sys.stderr)
            return 2
        result = {"dovecot": ".".join(map(str, harness.DOVECOT_VERSION))}
        with topology.Topology(stage, backends=("altpop",),
                               users={USER: (0, PASSWORD, "")}) as topo:
            b = topo.backend_of(USER)
            for i in range(args.messages):
                b.deliver(USER, message(i, args.size))
            pb = bench.Popbench(bench.build_popbench(work), work)
            uf = pb.userfile("bulk", [(USER, PASSWORD)])
            result["bulk"] = bulk(topo, pb, uf, args.rounds, args.window)
        print(json.dumps(result["bulk"]), flush=True)
        with topology.Topology(stage, backends=("altpop",),
                               users={USER: (0, PASSWORD, "")},
                               front_extra=topology.performance_mode(
                                   list(FRONT_LOGINS.values()))) as topo:
            b = topo.backend_of(USER)
            for i in range(args.messages):
                b.deliver(USER, message(i, args.size))
            pb = bench.Popbench(bench.build_popbench(work, tls=True), work)
            uf = pb.userfile("bulk", [(USER, PASSWORD)])
            result["bulktls"] = bulktls(topo, pb, uf, args.rounds, args.window)
        print("bulktls", json.dumps(result["bulktls"]), flush=True)
        for name, perf in (("high_security", False), ("high_performance", True)):
            result["memory_" + name] = memory(stage, args.sessions, perf)
            print(name, json.dumps(result["memory_" + name]), flush=True)
        result["bulk_mb"] = round(args.messages * args.size / 1e6, 1)
        text = json.dumps(result, indent=2)
        print(text)
        if args.json:
            Path(args.json).write_text(text + "\n")
        return 0
    finally:
        import shutil
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
