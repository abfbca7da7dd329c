#!/usr/bin/python3
"""altpop benchmark: stock Dovecot pop3 against altpop, side by side.

One throw-away Dovecot instance (tests/integration/harness.py) serves both
protocols at once (protocols = pop3 altpop) from the same maildrops. Every
workload runs alternately against stock pop3 and altpop for several rounds
(the order flips every round) and the medians and the ratio altpop / stock
are printed:

  login     sessions/s of USER/PASS + STAT + QUIT, sequential and with
            50 concurrent clients
  bulk      MB/s of RETR of every message of a 2,000-message maildrop
            (1 KB .. 5 MB, lognormal), and the raw loopback ceiling: the
            same files sent with read()+send() to the same receive path
  big       100,000-message maildrop: time to the +OK of the first LIST
            (counted from connect: login reads the maildrop) and of UIDL,
            cold (dovecot.index* removed) and warm, and peak RSS (VmHWM)
            of the post-login process
  idle      PSS/RSS of the post-login (and login) processes with 1,000
            logged-in idle sessions
  kpop      KPOP logins/s against plain logins/s on altpop (only when the
            stage has libmech_kpop.so and a KDC can be set up)

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
import math
import os
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
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
        login_msgs=10,
        bulk_messages=2000, bulk_min=1024, bulk_max=5 * 1024 * 1024,
        bulk_median=40 * 1024, bulk_sigma=1.6,
        big_messages=100000, big_median=2500, big_sigma=0.6,
        idle_sessions=1000, kpop_sessions=150,
    ),
    "quick": dict(
        rounds=1, idle_rounds=1, bulk_rounds=1,
        login_seq_sessions=20, login_conc=10, login_conc_sessions=60,
        login_msgs=3,
        bulk_messages=40, bulk_min=1024, bulk_max=512 * 1024,
        bulk_median=20 * 1024, bulk_sigma=1.2,
        big_messages=2000, big_median=2000, big_sigma=0.5,
        idle_sessions=40, kpop_sessions=10,
    ),
}

WORKLOADS = ("login", "bulk", "big", "idle", "kpop")
# A ratio this close to its target is reported as "par", not "BEHIND".
PAR = 0.005


class WorkloadError(RuntimeError):
    pass


def log(msg):
    print("[%7.1fs] %s" % (time.monotonic() - T_START, msg), flush=True)


T_START = time.monotonic()


# --------------------------------------------------------------------------
# maildrops: maildir files written directly


class MailFactory:
    """Deterministic message text: headers + text lines (LF line ends, as
    Dovecot's LDA/LMTP store them), base64 attachments for larger
    messages, and now and then a line starting with '.' (dot-stuffing)."""

    WORDS = (b"the of and to in is that for it with as was on be by this are "
             b"from at or have an they which one you had not but what all "
             b"were when we there can been has more if will would each "
             b"mailbox message server client session delivery report "
             b"invoice meeting tomorrow attached please regards thanks "
             b"project update schedule review budget quarter").split()

    def __init__(self, seed=1):
        rnd = random.Random(seed)
        lines = []
        total = 0
        while total < 4 * 1024 * 1024:
            n = rnd.randint(4, 13)
            line = b" ".join(rnd.choice(self.WORDS) for _ in range(n))
            if rnd.random() < 0.004:
                line = b"." + line
            if rnd.random() < 0.05:
                line = b""
            lines.append(line + b"\n")
            total += len(lines[-1])
        self.text = b"".join(lines)
        import base64
        b64 = base64.b64encode(rnd.randbytes(3 * 1024 * 1024))
        self.b64 = b"".join(b64[i:i + 76] + b"\n" for i in range(0, len(b64), 76))
        self.rnd = rnd
        self.seq = 0

    def _slice(self, block, size):
        """About size bytes of block, starting and ending on a line."""
        if size <= 0:
            return b""
        out = []
        while size > 0:
            start = self.rnd.randrange(0, max(1, len(block) - 1))
            start = block.find(b"\n", start) + 1
            end = min(len(block), start + size)
            nl = block.rfind(b"\n", start, end)
            if nl < start:
                nl = block.find(b"\n", end)
                if nl < 0:
                    continue
            chunk = block[start:nl + 1]
            out.append(chunk)
            size -= len(chunk)
        return b"".join(out)

    def message(self, size, user="user"):
        self.seq += 1
        hdr = (b"Return-Path: <sender%d@example.org>\n"
               b"Delivered-To: %s@example.com\n"
               b"From: Sender %d <sender%d@example.org>\n"
               b"To: %s@example.com\n"
               b"Subject: benchmark message %d\n"
               b"Date: Mon, 02 Jan 2023 10:%02d:%02d +0000\n"
               b"Message-ID: <bench.%d@example.org>\n"
               b"MIME-Version: 1.0\n"
               % (self.seq % 97, user.encode(), self.seq % 97, self.seq % 97,
                  user.encode(), self.seq, self.seq // 60 % 60, self.seq % 60,
                  self.seq))
        if size < 64 * 1024:
            hdr += b"Content-Type: text/plain; charset=us-ascii\n\n"
            body = self._slice(self.text, size - len(hdr))
            return hdr + body
        hdr += (b"Content-Type: multipart/mixed; boundary=\"b1\"\n\n"
                b"--b1\nContent-Type: text/plain\n\n")
        text = self._slice(self.text, 2000)
        mid = (b"\n--b1\nContent-Type: application/octet-stream\n"
               b"Content-Transfer-Encoding: base64\n\n")
        tail = b"--b1--\n"
        body = self._slice(self.b64, size - len(hdr) - len(text) - len(mid) - len(tail))
        return hdr + text + mid + body + tail


def lognormal_sizes(count, median, sigma, lo, hi, seed):
    rnd = random.Random(seed)
    sizes = [int(min(hi, max(lo, rnd.lognormvariate(math.log(median), sigma))))
             for _ in range(count)]
    if count >= 4:
        # the whole range is present
        sizes[rnd.randrange(count)] = lo
        sizes[rnd.randrange(count)] = hi
    return sizes


class Maildrops:
    """Writes messages into an instance's maildirs (cur/, no flags), with
    Dovecot's ,S=<size>,W=<virtual size> in the file names unless told not
    to (as Dovecot's own delivery names them)."""

    def __init__(self, inst, sizes_in_names=True):
        self.inst = inst
        self.sizes_in_names = sizes_in_names
        self.stamp = 1700000000
        self.n = 0

    def _name(self, data):
        self.n += 1
        base = "%d.M%dP%d.bench" % (self.stamp + self.n // 1000000,
                                    self.n % 1000000, 4242)
        if self.sizes_in_names:
            base += ",S=%d,W=%d" % (len(data), len(data) + data.count(b"\n"))
        return base + ":2,"

    def write(self, user, messages):
        md = self.inst.maildir(user)
        cur = md / "cur"
        uid, gid = self.inst.uid, self.inst.gid
        paths = []
        for data in messages:
            path = cur / self._name(data)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
                os.fchown(fd, uid, gid)
            finally:
                os.close(fd)
            paths.append(path)
        return paths

    def link(self, user, paths, strip_sizes=False):
        """The same files (hard links) in another user's maildir; without
        the ,S=,W= parts of the names when strip_sizes."""
        cur = self.inst.maildir(user) / "cur"
        for p in paths:
            name = p.name
            if strip_sizes:
                base, _, flags = name.partition(":")
                name = base.split(",", 1)[0] + ":" + flags
            os.link(p, cur / name)


def remove_index(inst, user, uidlist=False):
    """Cold start: remove dovecot.index* (and dovecot-uidlist too when
    uidlist: the maildrop as Dovecot never saw it, new UIDs and
    UIDVALIDITY, every message read for its size unless the file name
    carries it)."""
    md = inst.maildir(user)
    removed = 0
    for p in md.iterdir():
        if p.name.startswith("dovecot.index") or (uidlist and p.name == "dovecot-uidlist"):
            p.unlink()
            removed += 1
    return removed


# --------------------------------------------------------------------------
# processes of the instance


def instance_pids(inst, comm):
    """Pids of the instance (its mount namespace) whose comm is comm."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink("/proc/%s/ns/mnt" % entry) != inst.ns:
                continue
            with open("/proc/%s/comm" % entry) as f:
                if f.read().strip() != comm:
                    continue
        except OSError:
            continue
        out.append(int(entry))
    return out


def proc_memory(pid):
    """dict with pss, rss, uss (Private_Clean + Private_Dirty, from
    smaps_rollup) and hwm (VmHWM), in KiB."""
    mem = {"uss": 0}
    try:
        with open("/proc/%d/smaps_rollup" % pid) as f:
            for line in f:
                key, _, rest = line.partition(":")
                if key in ("Pss", "Rss"):
                    mem[key.lower()] = int(rest.split()[0])
                elif key in ("Private_Clean", "Private_Dirty"):
                    mem["uss"] += int(rest.split()[0])
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    mem["hwm"] = int(line.split()[1])
    except (OSError, ValueError):
        return None
    return mem


# --------------------------------------------------------------------------
# the load generator


def build_popbench(workdir, krb5=False):
    src = HERE / "popbench.c"
    out = Path(workdir) / ("popbench-krb5" if krb5 else "popbench")
    argv = ["gcc", "-O2", "-Wall", "-o", str(out), str(src)]
    if krb5:
        argv[1:1] = ["-DHAVE_KRB5"]
        argv.append("-lkrb5")
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        raise WorkloadError("building popbench failed:\n" + res.stdout.decode())
    return out


def parse_kv(text):
    out = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        try:
            out[key] = float(value)
        except ValueError:
            out[key] = value
    return out


class Popbench:
    def __init__(self, binary, userdir):
        self.binary = str(binary)
        self.userdir = Path(userdir)

    def userfile(self, name, users):
        path = self.userdir / ("%s.users" % name)
        path.write_text("".join("%s %s\n" % u for u in users))
        return path

    def argv(self, port, userfile, conc=1, sessions=None, steps="stat,quit",
             window=8, sources=0, timeout=600, extra=()):
        argv = [self.binary, "-p", str(port), "-u", str(userfile),
                "-c", str(conc), "-s", steps, "-w", str(window),
                "-t", str(timeout)]
        if sessions is not None:
            argv += ["-n", str(sessions)]
        if sources:
            argv += ["-b", str(sources)]
        return argv + list(extra)

    def run(self, *args, on_hold=None, env=None, **kwargs):
        """Run popbench; on_hold() is called while it holds (HOLD step).
        Returns the parsed results; raises WorkloadError on failures."""
        argv = self.argv(*args, **kwargs)
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                env=env)
        held = None
        out = b""
        if on_hold is not None:
            while True:
                line = proc.stdout.readline()
                if not line:
                    break
                out += line
                if line.startswith(b"holding="):
                    try:
                        held = on_hold(int(line.split(b"=")[1]))
                    finally:
                        proc.stdin.write(b"\n")
                        proc.stdin.flush()
                    break
        rest, err = proc.communicate(timeout=kwargs.get("timeout", 600) + 60)
        out += rest
        res = parse_kv(out.decode())
        res["held"] = held
        if proc.returncode != 0:
            raise WorkloadError("popbench %s failed (exit %d): %s\n%s" % (
                " ".join(argv[1:]), proc.returncode, err.decode()[-2000:],
                out.decode()[-1000:]))
        return res


# --------------------------------------------------------------------------
# results


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


class Results:
    def __init__(self):
        self.rows = []       # (workload, metric, unit, better, target, values)
        self.failures = []   # (workload, message)
        self.notes = []

    def add(self, workload, metric, unit, better, target, stock, alt, labels=None):
        """stock/alt: the values of all rounds; labels: names of the two
        columns when they are not stock pop3 and altpop (kpop)."""
        self.rows.append(dict(workload=workload, metric=metric, unit=unit,
                              better=better, target=target, labels=labels,
                              stock=list(stock), altpop=list(alt)))

    def fail(self, workload, msg):
        self.failures.append((workload, msg))

    def note(self, text):
        self.notes.append(text)

    def table(self):
        lines = []
        hdr = "%-8s %-58s %12s %12s %7s %-7s %s" % (
            "workload", "metric", "stock", "altpop", "ratio", "target", "")
        lines.append(hdr)
        lines.append("-" * len(hdr))
        for r in self.rows:
            s, a = median(r["stock"]), median(r["altpop"])
            ratio = (a / s) if (s and a is not None) else None
            verdict = ""
            if r["target"] and ratio is not None:
                op, val = r["target"][:2], float(r["target"][2:])
                ok = ratio >= val if op == ">=" else ratio <= val
                verdict = "ok" if ok else ("par" if abs(ratio - val) <= PAR else "BEHIND")
            metric = "%s [%s]" % (r["metric"], r["unit"])
            if r.get("labels"):
                metric += " (%s | %s)" % tuple(r["labels"])
            lines.append("%-8s %-58s %12s %12s %7s %-7s %s" % (
                r["workload"], metric,
                fmt(s), fmt(a), "%.3f" % ratio if ratio is not None else "-",
                r["target"] or "", verdict))
        return "\n".join(lines)

    def verdicts(self):
        out = []
        for r in self.rows:
            s, a = median(r["stock"]), median(r["altpop"])
            if r["target"] and s and a is not None:
                op, val = r["target"][:2], float(r["target"][2:])
                ratio = a / s
                ok = ratio >= val if op == ">=" else ratio <= val
                out.append((r, ratio, ok))
        return out


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 1000:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    if abs(v) >= 0.1:
        return "%.3f" % v
    return "%.4f" % v


# --------------------------------------------------------------------------
# the benchmark


class Bench:
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
        nproc = p["idle_sessions"] + 100
        lock = "yes" if self.args.lock_session == "yes" else "no"
        services = []
        for svc in ("pop3-login", "altpop-login"):
            services.append("service %s {\n  process_limit = %d\n"
                            "  process_min_avail = %d\n}\n"
                            % (svc, nproc, self.args.login_min_avail))
        for svc in ("pop3", "altpop"):
            services.append("service %s {\n  process_limit = %d\n}\n" % (svc, nproc))
        extra = (harness.settings([("default_process_limit", nproc),
                                   ("default_client_limit", 4 * nproc + 1000),
                                   ("auth_verbose", "no")])
                 + "# popbench binds 127.0.1.x source addresses (TIME_WAIT spread),\n"
                 "# which are not \"secured\" like 127.0.0.1\n"
                 + harness.setting("disable_plaintext_auth", "no") + "".join(services))
        self.kdc = None
        self.kpop_skip = None
        if "kpop" in self.args.only:
            extra += self.setup_kdc()
        self.inst = harness.DovecotInstance(
            ["pop3", "altpop"], users=users, stage=self.stage, extra=extra,
            extra_pop3=harness.setting("pop3_lock_session", lock),
            extra_altpop=harness.setting("altpop_lock_session", lock),
            lmtp=False, default_users=False, name="bench")
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

    def generate(self):
        p = self.p
        t0 = time.monotonic()
        mf = MailFactory(seed=6)
        md = Maildrops(self.inst, sizes_in_names=not self.args.no_sizes_in_names)
        want = set(self.args.only)
        if "login" in want or "kpop" in want:
            tmpl = [mf.message(s, "login") for s in
                    lognormal_sizes(p["login_msgs"], 3000, 0.5, 1024, 20000, 1)]
            first = None
            for u in self.plan["login"]:
                if first is None:
                    first = (u, md.write(u, tmpl))
                else:
                    md.link(u, first[1])
        if "bulk" in want:
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

    # ---- workloads ------------------------------------------------------

    def w_login(self):
        p = self.p
        uf = self.uf_login
        seq, conc = {x: [] for x in PROTOS}, {x: [] for x in PROTOS}
        for proto in PROTOS:  # warm-up
            self.pb.run(self.port(proto), uf, 1, 10, "stat,quit", sources=50)
        for rnd in range(self.p["rounds"]):
            for proto in self.order(rnd):
                r = self.pb.run(self.port(proto), uf, 1, p["login_seq_sessions"],
                                "stat,quit", sources=50)
                seq[proto].append(r["sessions_per_sec"])
                r = self.pb.run(self.port(proto), uf, p["login_conc"],
                                p["login_conc_sessions"], "stat,quit", sources=50)
                conc[proto].append(r["sessions_per_sec"])
                log("login round %d %-6s: sequential %.1f/s, %d concurrent %.1f/s"
                    % (rnd + 1, proto, seq[proto][-1], p["login_conc"], conc[proto][-1]))
        self.results.add("login", "sequential USER/PASS+STAT+QUIT", "sessions/s",
                         "higher", ">=1.0", seq["pop3"], seq["altpop"])
        self.results.add("login", "%d concurrent USER/PASS+STAT+QUIT" % p["login_conc"],
                         "sessions/s", "higher", ">=1.0", conc["pop3"], conc["altpop"])

    def raw_ceiling(self):
        lst = self.work / "bulk.files"
        # the current names: RETR + QUIT of the warm-up set \Seen (renames)
        lst.write_text("".join("%s\n" % x for x in self.inst.messages("bulk")))
        res = subprocess.run([str(self.popbench_bin), "-R", str(lst)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode != 0:
            raise WorkloadError("raw ceiling failed: %s" % res.stderr.decode())
        return parse_kv(res.stdout.decode())

    def w_bulk(self):
        uf = self.pb.userfile("bulk1", [("bulk", self.passwords["bulk"])])
        mbps = {x: [] for x in PROTOS}
        cpu = {x: [] for x in PROTOS}
        raw = []
        body = {}
        # warm-up: page cache, index, \Seen flags set by the first QUIT
        for proto in PROTOS:
            self.pb.run(self.port(proto), uf, 1, 1, "stat,retrall,quit",
                        window=self.args.window)
        for rnd in range(self.p["bulk_rounds"]):
            r = self.raw_ceiling()
            raw.append(r["raw_mbps"])
            for proto in self.order(rnd):
                r = self.pb.run(self.port(proto), uf, 1, 1, "stat,retrall,quit",
                                window=self.args.window)
                mbps[proto].append(r["retr_mbps"])
                cpu[proto].append((r["cpu_user"] + r["cpu_sys"]) / r["retr_elapsed"])
                body.setdefault(proto, set()).add(int(r["retr_body"]))
                log("bulk round %d %-6s: %.1f MB/s (%d bytes in %.3fs, "
                    "generator CPU %.0f%%) raw ceiling %.1f MB/s"
                    % (rnd + 1, proto, r["retr_mbps"], r["retr_body"],
                       r["retr_elapsed"], 100 * cpu[proto][-1], raw[-1]))
        if body.get("pop3") != body.get("altpop"):
            self.results.note("bulk: stock and altpop sent different byte counts: %s"
                              % body)
        self.info["bulk_retr_bytes"] = sorted(body.get("altpop", []))
        self.results.add("bulk", "RETR all, 1 session", "MB/s", "higher", ">=1.1",
                         mbps["pop3"], mbps["altpop"])
        self.results.add("bulk", "share of raw loopback ceiling", "%", "higher", None,
                         [100 * m / median(raw) for m in mbps["pop3"]],
                         [100 * m / median(raw) for m in mbps["altpop"]])
        self.results.add("bulk", "raw loopback ceiling (same for both)", "MB/s",
                         "higher", None, raw, raw)
        self.results.add("bulk", "generator CPU share during RETR", "%", "lower", None,
                         [100 * c for c in cpu["pop3"]], [100 * c for c in cpu["altpop"]])
        self.info["bulk_raw_ceiling_mbps"] = median(raw)
        if not self.args.quick:
            self.saturation_check()

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

    def big_session(self, proto, uf):
        mem = {}

        def on_hold(n):
            pids = instance_pids(self.inst, POST_LOGIN[proto])
            for pid in pids:
                m = proc_memory(pid)
                if m:
                    mem[pid] = m
            return len(pids)

        r = self.pb.run(self.port(proto), uf, 1, 1, "list,uidl,hold,quit",
                        on_hold=on_hold, timeout=900)
        if len(mem) != 1:
            raise WorkloadError("big: expected one %s process while holding, found %d"
                                % (POST_LOGIN[proto], len(mem)))
        m = list(mem.values())[0]
        # steps: 0 banner 1 user 2 pass 3 list 4 uidl 5 hold 6 quit
        return dict(login=r["step.2.pass.first"],
                    list_ok=r["step.3.list.first"],
                    list_done=r["step.3.list.done"],
                    uidl_ok=r["step.4.uidl.first"] - r["step.3.list.done"],
                    uidl_done=r["step.4.uidl.done"] - r["step.3.list.done"],
                    hwm=m["hwm"] / 1024.0, pss=m["pss"] / 1024.0)

    BIG_VARIANTS = (
        # user, label: "big" has Dovecot's ,S=,W= in its file names (as
        # Dovecot's own delivery writes them), cold = dovecot.index*
        # removed; "bigraw" holds the same files without sizes in their
        # names, cold = never seen by Dovecot (dovecot-uidlist removed too:
        # new UIDs, every message read for its size), as on the first
        # login after a migration
        ("big", "index removed"),
        ("bigraw", "first login: no uidlist, no sizes in names"),
    )

    def w_big(self):
        n = self.p["big_messages"]
        for user, label in self.BIG_VARIANTS:
            if user == "bigraw" and self.args.quick:
                continue
            uf = self.pb.userfile(user, [(user, self.passwords[user])])
            res = {(kind, proto): [] for kind in ("cold", "warm") for proto in PROTOS}
            # build the index once (moves nothing: files are in cur/)
            for proto in PROTOS:
                self.big_session(proto, uf)
            for rnd in range(self.p["rounds"]):
                for proto in self.order(rnd):
                    remove_index(self.inst, user, uidlist=(user == "bigraw"))
                    cold = self.big_session(proto, uf)
                    warm = self.big_session(proto, uf)
                    res[("cold", proto)].append(cold)
                    res[("warm", proto)].append(warm)
                    log("big %s round %d %-6s: cold LIST +OK %.3fs UIDL +OK %.3fs "
                        "HWM %.1f MiB | warm LIST +OK %.3fs UIDL +OK %.3fs HWM %.1f MiB"
                        % (user, rnd + 1, proto, cold["list_ok"], cold["uidl_ok"],
                           cold["hwm"], warm["list_ok"], warm["uidl_ok"], warm["hwm"]))
            kinds = ("cold", "warm") if user == "big" else ("cold",)
            for kind in kinds:
                def col(key, proto):
                    return [x[key] for x in res[(kind, proto)]]
                what = "%s" % kind if user == "big" else "%s, %s" % (kind, label)
                self.results.add("big", "%s: connect -> LIST +OK (%d msgs)" % (what, n),
                                 "s", "lower", "<=1.0",
                                 col("list_ok", "pop3"), col("list_ok", "altpop"))
                self.results.add("big", "%s: connect -> LIST complete" % what, "s",
                                 "lower", None,
                                 col("list_done", "pop3"), col("list_done", "altpop"))
                self.results.add("big", "%s: UIDL sent -> +OK" % what, "s",
                                 "lower", "<=1.0",
                                 col("uidl_ok", "pop3"), col("uidl_ok", "altpop"))
                self.results.add("big", "%s: UIDL sent -> complete" % what, "s",
                                 "lower", None,
                                 col("uidl_done", "pop3"), col("uidl_done", "altpop"))
                self.results.add("big", "%s: peak RSS (VmHWM) post-login" % what, "MiB",
                                 "lower", "<=1.0", col("hwm", "pop3"), col("hwm", "altpop"))

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

    def w_kpop(self):
        return self.kpop_run()

    # ---- KPOP -----------------------------------------------------------

    KPOP_PRINCIPAL = "kpopbench"

    def setup_kdc(self):
        """A private realm (tests/integration/kdc.py) when the stage has the
        KPOP mechanism; returns the Dovecot settings it needs."""
        if not self.stage.has_kpop:
            self.kpop_skip = ("the stage has no libmech_kpop.so (KPOP mechanism "
                              "not built)")
            return ""
        try:
            import kdc as kdcmod
        except ImportError as e:
            self.kpop_skip = "no KDC helper: %s" % e
            return ""
        reason = kdcmod.available()
        if reason:
            self.kpop_skip = reason
            return ""
        try:
            self.kdc = kdcmod.KDC(users=(self.KPOP_PRINCIPAL,))
            self.kdc.start()
            self.kpop_ccache = self.kdc.kinit(self.KPOP_PRINCIPAL)
            self.popbench_krb5 = build_popbench(self.work, krb5=True)
        except Exception as e:  # noqa: BLE001 - reported as a failed workload
            if self.kdc is not None:
                self.kdc.stop()
                self.kdc.cleanup()
            self.kdc = None
            self.kpop_error = "KDC / KPOP client set-up failed: %s" % e
            return ""
        return (self.kdc.dovecot_settings() +
                harness.setting("auth_mechanisms", "plain login kpop"))

    def kpop_passdb_fields(self, written=False):
        """Every login user may be reached with the one principal
        (passdb extra field k5principals)."""
        field = "k5principals=%s" % self.kdc.principal(self.KPOP_PRINCIPAL)
        if not written:
            fields = getattr(self.inst, "passdb_fields", None)
            if fields is None:
                self.inst.passdb_fields = fields = {}
            for u in self.plan["login"]:
                fields[u] = field
            return
        path = self.inst.tmp / "passwd"
        text = path.read_text()
        if field not in text:
            # a harness without passdb_fields: add the field ourselves
            lines = []
            for line in text.splitlines():
                if (line.split(":", 1)[0] in self.plan["login"]
                        and line.endswith("::::::")):
                    line += field
                lines.append(line + "\n")
            path.write_text("".join(lines))

    def kpop_run(self):
        if getattr(self, "kpop_error", None):
            raise WorkloadError(self.kpop_error)
        if self.kdc is None:
            self.results.note("kpop: skipped: %s" % self.kpop_skip)
            return "skipped"
        p = self.p
        pb = Popbench(self.popbench_krb5, self.work)
        uf = self.uf_login
        env = dict(os.environ)
        env.update(self.kdc.env(self.kpop_ccache))
        kport = self.inst.port("altpop", "kpop")
        pport = self.inst.port("altpop")
        n_seq = max(10, p["kpop_sessions"])
        n_conc = max(20, 2 * p["kpop_sessions"])
        res = {(m, k): [] for m in ("seq", "conc") for k in ("plain", "kpop")}
        kpop_args = ["-K", "-S", "pop", "-H", self.kdc.host]
        pb.run(kport, uf, 1, 5, "stat,quit", sources=50, env=env, extra=kpop_args)
        for rnd in range(p["rounds"]):
            for kind in (("plain", "kpop") if rnd % 2 == 0 else ("kpop", "plain")):
                port, extra = (kport, kpop_args) if kind == "kpop" else (pport, [])
                r = pb.run(port, uf, 1, n_seq, "stat,quit", sources=50, env=env,
                           extra=extra)
                res[("seq", kind)].append(r["sessions_per_sec"])
                r = pb.run(port, uf, p["login_conc"], n_conc, "stat,quit", sources=50,
                           env=env, extra=extra)
                res[("conc", kind)].append(r["sessions_per_sec"])
                log("kpop round %d %-6s: sequential %.1f/s, %d concurrent %.1f/s"
                    % (rnd + 1, kind, res[("seq", kind)][-1], p["login_conc"],
                       res[("conc", kind)][-1]))
        self.results.add("kpop", "altpop sequential logins", "sessions/s", "higher",
                         None, res[("seq", "plain")], res[("seq", "kpop")],
                         labels=("USER/PASS", "KPOP"))
        self.results.add("kpop", "altpop %d concurrent logins" % p["login_conc"],
                         "sessions/s", "higher", None, res[("conc", "plain")],
                         res[("conc", "kpop")], labels=("USER/PASS", "KPOP"))

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
    print("altpop benchmark (%s): %s rounds, medians; ratio = altpop / stock"
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
