# SPDX-License-Identifier: LGPL-2.1-only
"""The benchmark's set-up, instance and driver (tests/bench/run.py)."""

import os
import platform
import resource
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from bench_common import PROTOS, REPO, TLS_WORKLOADS, WORKLOADS, WorkloadError, harness, log
from bench_maildrops import MailFactory, Maildrops, lognormal_sizes
from bench_popbench import Popbench, build_popbench
from bench_results import Results


class BenchCore:
    """The instance, maildrops and driver of the benchmark; the workloads
    are mixed in (bench_w_*.py) by run.py's Bench."""

    def __init__(self, args, prof):
        self.args = args
        self.p = prof
        self.results = Results()
        self.work = Path(tempfile.mkdtemp(prefix="altpop-bench-"))
        self.inst = None
        self.stage = None
        self.info = {}

    # ---- set-up ---------------------------------------------------------

    def users_plan(self):
        p = self.p
        plan = {}
        plan["login"] = ["login%03d" % i for i in range(max(2, 2 * p["login_conc"]))]
        plan["bulk"] = ["bulk", "bulk2"]
        plan["big"] = ["big", "bigraw"]
        plan["idle"] = ["idle%04d" % i for i in range(p["idle_sessions"])]
        return plan

    def setup(self):
        p = self.p
        log("building popbench, staging altpop (make install DESTDIR=...)")
        self.popbench_bin = build_popbench(self.work)
        if self.args.tree:
            self.stage = harness.stage_altpop(self.work / "stage", repo=self.args.tree)
        else:
            self.stage = harness.stage_altpop(self.work / "stage")
        if not self.stage.available:
            raise WorkloadError("altpop not staged: %s" % self.stage.reason)
        self.pb = Popbench(self.popbench_bin, self.work)
        self.pb_tls = None
        if any(w in self.args.only for w in TLS_WORKLOADS):
            self.pb_tls = Popbench(build_popbench(self.work, tls=True), self.work)

        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65536 if hard == resource.RLIM_INFINITY else min(65536, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), max(hard, want)))
        except (ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.info["nofile"] = resource.getrlimit(resource.RLIMIT_NOFILE)[0]

        plan = self.users_plan()
        self.plan = plan
        users = {}
        for group in plan.values():
            for u in group:
                users[u] = "pw-" + u
        self.passwords = users
        self.kdc = None
        self.kpop_skip = None
        kdc_settings = ""
        if "kpop" in self.args.only:
            kdc_settings = self.setup_kdc()
        self.inst = self.make_instance(users, p["idle_sessions"] + 100,
                                       extra=kdc_settings)
        if self.kdc is not None:
            self.kpop_passdb_fields()
        self.inst.setup()
        if self.kdc is not None:
            self.kpop_passdb_fields(written=True)
        self.config_text = self.inst.conf.read_text()
        self.generate()
        self.inst.start()
        log("instance up: %s (pop3 port %d, altpop port %d)" % (
            self.inst.tmp, self.inst.port("pop3"), self.inst.port("altpop")))
        for name, group in plan.items():
            setattr(self, "uf_" + name, self.pb.userfile(
                name, [(u, users[u]) for u in group]))
        self.machine_info()

    def make_instance(self, users, nproc, hp=False, extra="", name="bench"):
        """An instance serving stock pop3 and altpop with the same
        settings. hp: Dovecot's high-performance process mode (login
        processes serve many connections, one per CPU kept running;
        post-login processes serve up to 100 sessions one after the other)
        instead of the default one-process-per-connection mode."""
        lock = "yes" if self.args.lock_session == "yes" else "no"
        unlimited = "unlimited" if harness.IS_24 else "0"
        count = "restart_request_count" if harness.IS_24 else "service_count"
        services = []
        for svc in ("pop3-login", "altpop-login"):
            if hp:
                services.append("service %s {\n  process_limit = %d\n"
                                "  process_min_avail = %d\n  %s = %s\n"
                                "  client_limit = %d\n}\n"
                                % (svc, nproc, os.cpu_count() or 1, count,
                                   unlimited, 4 * nproc + 1000))
            else:
                services.append("service %s {\n  process_limit = %d\n"
                                "  process_min_avail = %d\n}\n"
                                % (svc, nproc, self.args.login_min_avail))
        for svc in ("pop3", "altpop"):
            services.append("service %s {\n  process_limit = %d\n%s}\n"
                            % (svc, nproc, "  %s = 100\n" % count if hp else ""))
        extra = (harness.settings([("default_process_limit", nproc),
                                   ("default_client_limit", 4 * nproc + 1000),
                                   ("auth_verbose", "no")])
                 + "# popbench binds 127.0.1.x source addresses (TIME_WAIT spread),\n"
                 "# which are not \"secured\" like 127.0.0.1\n"
                 + harness.setting("disable_plaintext_auth", "no") + "".join(services)
                 + extra)
        return harness.DovecotInstance(
            ["pop3", "altpop"], users=users, stage=self.stage, extra=extra,
            extra_pop3=harness.setting("pop3_lock_session", lock),
            extra_altpop=harness.setting("altpop_lock_session", lock),
            lmtp=False, default_users=False, name=name)

    def login_maildrops(self, md, mf):
        tmpl = [mf.message(s, "login") for s in
                lognormal_sizes(self.p["login_msgs"], 3000, 0.5, 1024, 20000, 1)]
        first = None
        for u in self.plan["login"]:
            if first is None:
                first = (u, md.write(u, tmpl))
            else:
                md.link(u, first[1])

    def generate(self):
        p = self.p
        t0 = time.monotonic()
        mf = MailFactory(seed=6)
        md = Maildrops(self.inst, sizes_in_names=not self.args.no_sizes_in_names)
        want = set(self.args.only)
        if "login" in want or "kpop" in want or "logintls" in want:
            self.login_maildrops(md, mf)
        if "bulk" in want or "bulktls" in want:
            sizes = lognormal_sizes(p["bulk_messages"], p["bulk_median"],
                                    p["bulk_sigma"], p["bulk_min"], p["bulk_max"], 2)
            paths = []
            for s in sizes:
                paths += md.write("bulk", [mf.message(s, "bulk")])
            md.link("bulk2", paths)
            self.info["bulk_total_bytes"] = sum(os.path.getsize(x) for x in paths)
            self.info["bulk_sizes"] = dict(
                count=len(sizes), min=min(sizes), max=max(sizes),
                median=int(statistics.median(sizes)), mean=int(statistics.mean(sizes)))
        if "big" in want:
            sizes = lognormal_sizes(p["big_messages"], p["big_median"],
                                    p["big_sigma"], 1024, 64 * 1024, 3)
            batch = []
            paths = []
            for s in sizes:
                batch.append(mf.message(s, "big"))
                if len(batch) >= 2000:
                    paths += md.write("big", batch)
                    batch = []
            paths += md.write("big", batch)
            if not self.args.quick:
                md.link("bigraw", paths, strip_sizes=True)
            self.info["big_sizes"] = dict(
                count=len(sizes), min=min(sizes), max=max(sizes),
                median=int(statistics.median(sizes)),
                total=sum(sizes))
        if "idle" in want:
            tmpl = [mf.message(s, "idle") for s in (1500, 3000, 6000)]
            first = None
            for u in self.plan["idle"]:
                if first is None:
                    first = md.write(u, tmpl)
                else:
                    md.link(u, first)
        log("maildrops written in %.1fs" % (time.monotonic() - t0))

    @staticmethod
    def load_snapshot():
        """Load average and other Dovecot masters running on the machine
        (noise the ratios do not cancel)."""
        with open("/proc/loadavg") as f:
            load = f.read().split()[:3]
        masters = 0
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open("/proc/%s/comm" % entry) as f:
                        if f.read().strip() == "dovecot":
                            masters += 1
                except OSError:
                    pass
        return dict(loadavg=" ".join(load), dovecot_masters=masters)

    def machine_info(self):
        info = self.info
        info["nproc"] = os.cpu_count()
        with open("/proc/meminfo") as f:
            info["memtotal_kib"] = int(f.readline().split()[1])
        info["kernel"] = platform.release()
        try:
            with open("/proc/cpuinfo") as f:
                for line in f:
                    if line.startswith("model name"):
                        info["cpu"] = line.split(":", 1)[1].strip()
                        break
        except OSError:
            pass
        res = subprocess.run(["/usr/sbin/dovecot", "--version"],
                             stdout=subprocess.PIPE, text=True)
        info["dovecot"] = res.stdout.strip()
        try:
            res = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "dovecot-core"],
                                 stdout=subprocess.PIPE, text=True)
            info["dovecot_package"] = res.stdout.strip()
        except OSError:
            pass
        # git may be missing (a copied tree in a Debian 13 chroot)
        try:
            res = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True)
            info["altpop_commit"] = res.stdout.strip()
            res = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "module"],
                                 stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                 text=True)
            info["altpop_tree_dirty"] = bool(res.stdout.strip())
        except OSError:
            info["altpop_commit"] = "?"
        info["lock_session"] = self.args.lock_session
        info["profile"] = "quick" if self.args.quick else "full"
        info["params"] = self.p

    def close(self):
        if self.inst is not None:
            try:
                self.inst.stop()
            except Exception as e:  # noqa: BLE001
                log("stopping the instance: %s" % e)
            if self.args.keep:
                log("kept: %s" % self.inst.tmp)
            else:
                self.inst.cleanup()
        if getattr(self, "kdc", None) is not None:
            self.kdc.stop()
            if not self.args.keep:
                self.kdc.cleanup()
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    # ---- helpers --------------------------------------------------------

    def port(self, proto):
        return self.inst.port(proto)

    def order(self, rnd):
        return PROTOS if rnd % 2 == 0 else PROTOS[::-1]

    def check_instance(self):
        if not self.inst.running:
            raise WorkloadError("dovecot died:\n" + self.inst.diagnostics())


    # ---- driver ---------------------------------------------------------

    def run(self):
        ran = []
        self.info["load"] = {}
        for w in WORKLOADS:
            if w not in self.args.only:
                continue
            snap = self.load_snapshot()
            self.info["load"][w] = snap
            log("== %s (load average %s, %d Dovecot masters running incl. ours)"
                % (w, snap["loadavg"], snap["dovecot_masters"]))
            t0 = time.monotonic()
            try:
                self.check_instance()
                status = getattr(self, "w_" + w)()
                self.check_instance()
                ran.append((w, status or "ok", time.monotonic() - t0))
            except (WorkloadError, harness.HarnessError, subprocess.SubprocessError,
                    OSError) as e:
                log("%s FAILED: %s" % (w, e))
                self.results.fail(w, str(e))
                ran.append((w, "FAILED", time.monotonic() - t0))
        self.ran = ran
