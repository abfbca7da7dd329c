# SPDX-License-Identifier: LGPL-2.1-only
"""Workload idle: memory of many logged-in idle sessions
(tests/bench/run.py)."""

import time

from bench_common import LOGIN, POST_LOGIN, PROTOS, WorkloadError, log
from bench_procs import instance_pids, proc_memory


class IdleWorkload:
    def w_idle(self):
        n = self.p["idle_sessions"]
        uf = self.uf_idle
        per = {(k, proto): [] for k in ("pss", "rss", "uss", "login_pss", "total_pss")
               for proto in PROTOS}
        # warm-up: the first login of a maildrop creates its index, which
        # leaves a bigger heap behind; log every user in once with each
        for proto in PROTOS:
            self.pb.run(self.port(proto), uf, min(n, 50), n, "stat,quit", sources=50)
        for rnd in range(self.p["idle_rounds"]):
            for proto in self.order(rnd):
                snap = {}

                def on_hold(held):
                    time.sleep(1.0)
                    post = instance_pids(self.inst, POST_LOGIN[proto])
                    logins = instance_pids(self.inst, LOGIN[proto])
                    mems = [proc_memory(pid) for pid in post]
                    mems = [m for m in mems if m]
                    lmems = [proc_memory(pid) for pid in logins]
                    lmems = [m for m in lmems if m]
                    snap.update(held=held, nproc=len(mems), nlogin=len(lmems),
                                pss=sum(m["pss"] for m in mems),
                                rss=sum(m["rss"] for m in mems),
                                uss=sum(m["uss"] for m in mems),
                                login_pss=sum(m["pss"] for m in lmems),
                                login_rss=sum(m["rss"] for m in lmems))
                    return held

                self.pb.run(self.port(proto), uf, n, n, "stat,hold,quit",
                            on_hold=on_hold, sources=50, timeout=600,
                            extra=["-v"])
                if snap.get("nproc") != n:
                    raise WorkloadError("idle: %d sessions held but %s post-login "
                                        "processes found" % (n, snap.get("nproc")))
                per[("pss", proto)].append(snap["pss"] / n)
                per[("rss", proto)].append(snap["rss"] / n)
                per[("uss", proto)].append(snap["uss"] / n)
                per[("login_pss", proto)].append(snap["login_pss"] / 1024.0)
                per[("total_pss", proto)].append((snap["pss"] + snap["login_pss"]) / 1024.0)
                log("idle round %d %-6s: %d sessions, post-login PSS %.0f KiB/session "
                    "(USS %.0f, RSS %.0f KiB), %d login processes PSS %.1f MiB"
                    % (rnd + 1, proto, n, snap["pss"] / n, snap["uss"] / n, snap["rss"] / n,
                       snap["nlogin"], snap["login_pss"] / 1024.0))
        self.results.add("idle", "PSS per idle session (post-login)", "KiB", "lower",
                         "<=1.0", per[("pss", "pop3")], per[("pss", "altpop")])
        self.results.add("idle", "USS (private) per idle session (post-login)", "KiB",
                         "lower", None, per[("uss", "pop3")], per[("uss", "altpop")])
        self.results.add("idle", "RSS per idle session (post-login)", "KiB", "lower",
                         None, per[("rss", "pop3")], per[("rss", "altpop")])
        self.results.add("idle", "PSS of login processes (sum)", "MiB", "lower",
                         None, per[("login_pss", "pop3")], per[("login_pss", "altpop")])
        self.results.add("idle", "PSS total, %d sessions" % n, "MiB", "lower",
                         None, per[("total_pss", "pop3")], per[("total_pss", "altpop")])
