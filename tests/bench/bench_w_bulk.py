# SPDX-License-Identifier: LGPL-2.1-only
"""Workloads bulk and bulktls: RETR throughput, CPU per GB, the raw ceiling
(tests/bench/run.py)."""

import subprocess
import time

from bench_common import LOGIN, POST_LOGIN, PROTOS, WorkloadError, log
from bench_popbench import parse_kv
from bench_procs import cpu_snapshot, cpu_used
from bench_results import median


class BulkWorkloads:
    def raw_ceiling(self):
        lst = self.work / "bulk.files"
        # the current names: RETR + QUIT of the warm-up set \Seen (renames)
        lst.write_text("".join("%s\n" % x for x in self.inst.messages("bulk")))
        res = subprocess.run([str(self.popbench_bin), "-R", str(lst)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode != 0:
            raise WorkloadError("raw ceiling failed: %s" % res.stderr.decode())
        return parse_kv(res.stdout.decode())

    def bulk_session(self, proto, pb, port, uf):
        """One bulk session (STAT, RETR all, QUIT); the CPU the server's
        processes (post-login, and the login process that proxies TLS)
        spent on it is read while the session holds after the last RETR."""
        comms = (POST_LOGIN[proto], LOGIN[proto])
        before = cpu_snapshot(self.inst, comms)
        used = {}

        def on_hold(n):
            used["cpu"] = cpu_used(before, cpu_snapshot(self.inst, comms))

        r = pb.run(port, uf, 1, 1, "stat,retrall,hold,quit", window=self.args.window,
                   on_hold=on_hold, extra=["-T"] if pb is self.pb_tls else [])
        r["server_cpu"] = used.get("cpu")
        return r

    def bulk_rounds(self, workload, tls):
        uf = self.pb.userfile("bulk1", [("bulk", self.passwords["bulk"])])
        pb = self.pb_tls if tls else self.pb
        listener = "pop3s" if tls else "pop3"
        mbps = {x: [] for x in PROTOS}
        cpu = {x: [] for x in PROTOS}
        gen = {x: [] for x in PROTOS}
        share = {x: [] for x in PROTOS}
        raw = []
        body = {}
        # over TLS: altpop's plain-TCP rate of the same round, for what
        # TLS costs altpop itself
        plain = []
        # warm-up: page cache, index, \Seen flags set by the first QUIT
        for proto in PROTOS:
            pb.run(self.inst.port(proto, listener), uf, 1, 1, "stat,retrall,quit",
                   window=self.args.window, extra=["-T"] if tls else [])
        for rnd in range(self.p["bulk_rounds"]):
            if not tls:
                # the ceiling of this round, next to the transfers it bounds
                raw.append(self.raw_ceiling()["raw_mbps"])
            if tls:
                r = self.bulk_session("altpop", self.pb, self.inst.port("altpop"), uf)
                plain.append(r["retr_mbps"])
            for proto in self.order(rnd):
                r = self.bulk_session(proto, pb, self.inst.port(proto, listener), uf)
                mbps[proto].append(r["retr_mbps"])
                gen[proto].append((r["cpu_user"] + r["cpu_sys"]) / r["retr_elapsed"])
                cpu[proto].append(r["server_cpu"] / (r["retr_body"] / 1e9)
                                  if r["server_cpu"] is not None else None)
                if not tls:
                    share[proto].append(100 * r["retr_mbps"] / raw[-1])
                body.setdefault(proto, set()).add(int(r["retr_body"]))
                log("%s round %d %-6s: %.1f MB/s (%d bytes in %.3fs), server CPU "
                    "%.2f s/GB, generator CPU %.0f%%%s"
                    % (workload, rnd + 1, proto, r["retr_mbps"], r["retr_body"],
                       r["retr_elapsed"], cpu[proto][-1] or -1, 100 * gen[proto][-1],
                       "" if tls else ", raw ceiling %.1f MB/s" % raw[-1]))
        if body.get("pop3") != body.get("altpop"):
            self.results.note("%s: stock and altpop sent different byte counts: %s"
                              % (workload, body))
        self.info["%s_retr_bytes" % workload] = sorted(body.get("altpop", []))
        how = "over TLS (pop3s)" if tls else "plain TCP"
        self.results.add(workload, "RETR all, 1 session, %s" % how, "MB/s", "higher",
                         ">=3.0" if tls else ">=2.5", mbps["pop3"], mbps["altpop"])
        self.results.add(workload, "server CPU per GB sent, %s" % how, "s/GB", "lower",
                         None, cpu["pop3"], cpu["altpop"])
        if not tls:
            self.results.add(workload, "share of raw loopback ceiling (same round)",
                             "%", "higher", None, share["pop3"], share["altpop"])
            self.results.add(workload, "raw loopback ceiling (same for both)", "MB/s",
                             "higher", None, raw, raw)
            self.info["bulk_raw_ceiling_mbps"] = median(raw)
        if tls:
            self.results.add(workload, "altpop RETR all, over TLS against plain TCP",
                             "MB/s", "higher", ">=0.6", plain, mbps["altpop"],
                             labels=("altpop plain", "altpop pop3s"))
        self.results.add(workload, "generator CPU share during RETR", "%", "lower", None,
                         [100 * c for c in gen["pop3"]], [100 * c for c in gen["altpop"]])

    def w_bulk(self):
        self.bulk_rounds("bulk", tls=False)
        if not self.args.quick:
            self.saturation_check()

    def w_bulktls(self):
        self.bulk_rounds("bulktls", tls=True)

    def saturation_check(self):
        """Two generators at once against stock (two maildrops with the
        same files): if one generator were the limit, two would get about
        twice as far."""
        uf1 = self.pb.userfile("bulk1", [("bulk", self.passwords["bulk"])])
        uf2 = self.pb.userfile("bulk2", [("bulk2", self.passwords["bulk2"])])
        out = {}
        for proto in PROTOS:
            self.pb.run(self.port(proto), uf2, 1, 1, "stat,retrall,quit")
            procs = []
            for uf in (uf1, uf2):
                argv = self.pb.argv(self.port(proto), uf, 1, 1, "stat,retrall,quit",
                                    window=self.args.window)
                procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE,
                                              stderr=subprocess.PIPE))
            t0 = time.monotonic()
            rs = []
            for pr in procs:
                o, e = pr.communicate()
                if pr.returncode != 0:
                    raise WorkloadError("saturation check: %s" % e.decode())
                rs.append(parse_kv(o.decode()))
            wall = time.monotonic() - t0
            total = sum(r["retr_body"] for r in rs)
            agg = total / max(r["retr_elapsed"] for r in rs) / 1e6
            out[proto] = dict(aggregate_mbps=agg, each=[r["retr_mbps"] for r in rs],
                              wall=wall)
            log("saturation %-6s: two generators at once: %.1f MB/s together (%s)"
                % (proto, agg, ", ".join("%.1f" % r["retr_mbps"] for r in rs)))
        self.info["saturation"] = out
