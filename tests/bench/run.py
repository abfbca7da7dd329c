#!/usr/bin/python3
"""altpop benchmark: stock Dovecot pop3 against altpop, side by side.

One throw-away Dovecot instance (tests/integration/harness.py) serves both
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
  bulktls   the same over pop3s (TLS from the first byte)
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

WORKLOADS = ("login", "loginhp", "bulk", "bulktls", "big", "idle", "kpop")
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


CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    """CPU seconds of a process (user + system), or None when it is gone:
    from /proc/PID/schedstat (nanoseconds), else utime + stime of
    /proc/PID/stat (clock ticks)."""
    try:
        with open("/proc/%d/schedstat" % pid) as f:
            return int(f.read().split()[0]) / 1e9
    except (OSError, IndexError, ValueError):
        pass
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # fields[0] is the state (field 3): utime and stime are fields 14, 15
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def cpu_snapshot(inst, comms):
    """{pid: cpu seconds} of the instance's processes named in comms."""
    out = {}
    for comm in comms:
        for pid in instance_pids(inst, comm):
            cpu = proc_cpu(pid)
            if cpu is not None:
                out[pid] = cpu
    return out


def cpu_used(before, after):
    """CPU seconds spent between two snapshots by the processes of after
    (a process new in after counts from zero)."""
    return sum(max(0.0, cpu - before.get(pid, 0.0)) for pid, cpu in after.items())


# --------------------------------------------------------------------------
# the load generator


def build_popbench(workdir, krb5=False, tls=False):
    src = HERE / "popbench.c"
    out = Path(workdir) / ("popbench" + ("-krb5" if krb5 else "") +
                           ("-tls" if tls else ""))
    argv = ["gcc", "-O2", "-Wall", "-o", str(out), str(src)]
    if krb5:
        argv[1:1] = ["-DHAVE_KRB5"]
        argv.append("-lkrb5")
    if tls:
        argv[1:1] = ["-DHAVE_OPENSSL"]
        argv += ["-lssl", "-lcrypto"]
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


def paired_ratios(row):
    """altpop / stock per round (the two ran back to back), for the rounds
    where both have a value."""
    return [a / s for s, a in zip(row["stock"], row["altpop"])
            if s and a is not None and s is not None]


def target_ok(target, ratio):
    op, val = target[:2], float(target[2:])
    return ratio >= val if op == ">=" else ratio <= val


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
        """Medians of each side, and the median (min-max) of the paired
        per-round ratios: the ratio the targets are checked against."""
        lines = []
        hdr = "%-8s %-58s %11s %11s %7s %-13s %-7s %s" % (
            "workload", "metric", "stock", "altpop", "ratio", "(min-max)",
            "target", "")
        lines.append(hdr)
        lines.append("-" * len(hdr))
        for r in self.rows:
            s, a = median(r["stock"]), median(r["altpop"])
            ratios = paired_ratios(r)
            ratio = median(ratios)
            spread = ("%.2f-%.2f" % (min(ratios), max(ratios))) if len(ratios) > 1 else ""
            verdict = ""
            if r["target"] and ratio is not None:
                val = float(r["target"][2:])
                verdict = ("ok" if target_ok(r["target"], ratio) else
                           ("par" if abs(ratio - val) <= PAR else "BEHIND"))
            metric = "%s [%s]" % (r["metric"], r["unit"])
            if r.get("labels"):
                metric += " (%s | %s)" % tuple(r["labels"])
            lines.append("%-8s %-58s %11s %11s %7s %-13s %-7s %s" % (
                r["workload"], metric,
                fmt(s), fmt(a), "%.3f" % ratio if ratio is not None else "-",
                spread, r["target"] or "", verdict))
        return "\n".join(lines)

    def verdicts(self):
        out = []
        for r in self.rows:
            ratio = median(paired_ratios(r))
            if r["target"] and ratio is not None:
                out.append((r, ratio, target_ok(r["target"], ratio)))
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
        self.pb_tls = None
        if "bulktls" in self.args.only:
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
        if "login" in want or "kpop" in want:
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

    # ---- workloads ------------------------------------------------------

    def login_storms(self, inst, workload, mode):
        """Login storms against inst: many users (every session of a slot
        uses another maildrop than the one before) and one user (every
        session the same maildrop: with session locks on, a second session
        is answered -ERR [IN-USE], which counts as answered), each
        sequential and with login_conc sessions at once."""
        p = self.p
        uf_many = self.uf_login
        uf_one = self.pb.userfile("login-one", [(self.plan["login"][0],
                                                 self.passwords[self.plan["login"][0]])])
        runs = (("many users", uf_many, 1, p["login_seq_sessions"]),
                ("many users", uf_many, p["login_conc"], p["login_conc_sessions"]),
                ("one user", uf_one, 1, p["login_one_seq_sessions"]),
                ("one user", uf_one, p["login_conc"], p["login_one_conc_sessions"]))
        rate = {(i, x): [] for i in range(len(runs)) for x in PROTOS}
        got = {(i, x): [] for i in range(len(runs)) for x in PROTOS}
        for proto in PROTOS:  # warm-up
            self.pb.run(inst.port(proto), uf_many, 1, 10, "stat,quit", sources=50)
        for rnd in range(p["rounds"]):
            for proto in self.order(rnd):
                desc = []
                for i, (who, uf, conc, n) in enumerate(runs):
                    r = self.pb.run(inst.port(proto), uf, conc, n, "stat,quit",
                                    sources=50, extra=["-I"])
                    rate[(i, proto)].append(r["sessions_per_sec"])
                    got[(i, proto)].append((r["sessions_ok"] - r["sessions_in_use"])
                                           / r["elapsed"])
                    desc.append("%s/%d: %.1f/s (%d IN-USE)" % (
                        who, conc, r["sessions_per_sec"], r["sessions_in_use"]))
                log("%s round %d %-6s: %s" % (workload, rnd + 1, proto, ", ".join(desc)))
        for i, (who, uf, conc, n) in enumerate(runs):
            how = "sequential" if conc == 1 else "%d concurrent" % conc
            self.results.add(workload, "%s, %s, %s: answered" % (mode, who, how),
                             "sessions/s", "higher", ">=1.0",
                             rate[(i, "pop3")], rate[(i, "altpop")])
            if who == "one user":
                self.results.add(workload, "%s, %s, %s: logged in" % (mode, who, how),
                                 "sessions/s", "higher", None,
                                 got[(i, "pop3")], got[(i, "altpop")])

    def w_login(self):
        self.login_storms(self.inst, "login", "default")

    def w_loginhp(self):
        """The login storms in Dovecot's high-performance mode, on an
        instance of their own."""
        inst = self.make_instance({u: self.passwords[u] for u in self.plan["login"]},
                                  2 * self.p["login_conc"] + 100, hp=True,
                                  name="benchhp")
        try:
            inst.setup()
            self.login_maildrops(Maildrops(inst), MailFactory(seed=6))
            inst.start()
            self.login_storms(inst, "loginhp", "high-performance")
        finally:
            try:
                inst.stop()
            finally:
                if not self.args.keep:
                    inst.cleanup()

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
        # warm-up: page cache, index, \Seen flags set by the first QUIT
        for proto in PROTOS:
            pb.run(self.inst.port(proto, listener), uf, 1, 1, "stat,retrall,quit",
                   window=self.args.window, extra=["-T"] if tls else [])
        for rnd in range(self.p["bulk_rounds"]):
            if not tls:
                # the ceiling of this round, next to the transfers it bounds
                raw.append(self.raw_ceiling()["raw_mbps"])
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
                         ">=2.0" if tls else ">=2.5", mbps["pop3"], mbps["altpop"])
        self.results.add(workload, "server CPU per GB sent, %s" % how, "s/GB", "lower",
                         None, cpu["pop3"], cpu["altpop"])
        if not tls:
            self.results.add(workload, "share of raw loopback ceiling (same round)",
                             "%", "higher", None, share["pop3"], share["altpop"])
            self.results.add(workload, "raw loopback ceiling (same for both)", "MB/s",
                             "higher", None, raw, raw)
            self.info["bulk_raw_ceiling_mbps"] = median(raw)
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

    def big_session(self, proto, uf, kind):
        """One session that only lists (kind "list" or "uidl"): time from
        connect to the complete listing, peak RSS of the post-login
        process."""
        mem = {}

        def on_hold(n):
            pids = instance_pids(self.inst, POST_LOGIN[proto])
            for pid in pids:
                m = proc_memory(pid)
                if m:
                    mem[pid] = m
            return len(pids)

        r = self.pb.run(self.port(proto), uf, 1, 1, "%s,hold,quit" % kind,
                        on_hold=on_hold, timeout=900)
        if len(mem) != 1:
            raise WorkloadError("big: expected one %s process while holding, found %d"
                                % (POST_LOGIN[proto], len(mem)))
        m = list(mem.values())[0]
        # steps: 0 banner 1 user 2 pass 3 list/uidl 4 hold 5 quit; times
        # from connect
        return dict(done=r["step.3.%s.done" % kind], hwm=m["hwm"] / 1024.0)

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
    BIG_TARGETS = {"list": "<=1.0", "uidl": "<=0.7"}

    def w_big(self):
        n = self.p["big_messages"]
        for user, label in self.BIG_VARIANTS:
            if user == "bigraw" and self.args.quick:
                continue
            uf = self.pb.userfile(user, [(user, self.passwords[user])])
            kinds = ("cold", "warm") if user == "big" else ("cold",)
            res = {(cmd, kind, proto): [] for cmd in ("list", "uidl")
                   for kind in kinds for proto in PROTOS}
            # build the index once (moves nothing: files are in cur/)
            for proto in PROTOS:
                self.big_session(proto, uf, "list")
            for rnd in range(self.p["rounds"]):
                for proto in self.order(rnd):
                    desc = []
                    for cmd in ("list", "uidl"):
                        remove_index(self.inst, user, uidlist=(user == "bigraw"))
                        for kind in kinds:
                            x = self.big_session(proto, uf, cmd)
                            res[(cmd, kind, proto)].append(x)
                            desc.append("%s %s %.3fs %.1f MiB" % (
                                kind, cmd.upper(), x["done"], x["hwm"]))
                    log("big %s round %d %-6s: %s" % (user, rnd + 1, proto,
                                                      ", ".join(desc)))
            for cmd in ("list", "uidl"):
                for kind in kinds:
                    def col(key, proto):
                        return [x[key] for x in res[(cmd, kind, proto)]]
                    what = kind if user == "big" else "%s, %s" % (kind, label)
                    self.results.add(
                        "big", "%s: %s-only session, connect -> complete (%d msgs)"
                        % (what, cmd.upper(), n), "s", "lower", self.BIG_TARGETS[cmd],
                        col("done", "pop3"), col("done", "altpop"))
                    self.results.add(
                        "big", "%s: %s-only session, peak RSS post-login"
                        % (what, cmd.upper()), "MiB", "lower", "<=1.0",
                        col("hwm", "pop3"), col("hwm", "altpop"))

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
