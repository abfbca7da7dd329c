#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-only
"""altpop soak: hours of mixed traffic with faults, then a reckoning.

A front (altpop proxy tier, high-performance mode) and one altpop backend
(high-performance login processes), each in a network namespace of its
own (tests/integration/topology.py). For the given time:

  clients   worker threads run POP3 sessions of many users: USER/PASS,
            AUTH PLAIN, STLS, pop3s directly on the backend, USER/PASS
            and pop3s through the front, SDPS names (fred@host), and KPOP
            (tests/kpop-client, when a test KDC can be set up). Delete
            users fetch everything and delete it; leave-on-server users
            fetch what their UIDL list shows as new, re-check known UIDLs
            (TOP n 0) and now and then expire their oldest message.
  delivery  messages through the backend's LMTP all the time
  kills     kill -9 of random post-login (altpop) and login (altpop-login)
            processes of the backend
  restarts  the backend restarted under load, once gracefully (at 1/3 of
            the time) and once killed outright (at 2/3), while clients go
            on through the front

At the end, with the load stopped, every mailbox is listed and checked:
  - every delivered message was fetched or is still on the server (lost:
    neither);
  - no message was fetched again after a session that deleted it ended
    with QUIT +OK (duplicated), and no leave-on-server client fetched a
    message twice; a message fetched again after a session that was
    killed or cut before QUIT's +OK is POP3 working as specified (nothing
    is deleted before that +OK) and counted apart, as "re-fetched after a
    killed session";
  - no message deleted with QUIT +OK is still there;
  - no UIDL ever changed for a message, nor a message for a UIDL;
  - every fetched body is the one delivered;
  - the RSS of the long-lived processes (front and backend login
    processes in high-performance mode, auth, master, log, ...) is flat:
    start (after warm-up) and end of the processes alive throughout;
  - no fd is left open in the front's long-lived processes, no post-login
    process is left on the backend once the clients are gone, and no
    process, child or fd of the soak is left after stopping.
A summary is printed; the exit status is 1 on any violation.

Usage (as root, in a built tree):
  tests/bench/soak.py --minutes 2            the CI run
  tests/bench/soak.py --minutes 30 --json soak.json
Exit status: 0 clean, 1 violations, 2 set-up errors.
"""

import argparse
import collections
import contextlib
import json
import os
import random
import re
import shutil
import signal
import smtplib
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.dont_write_bytecode = True

from bench_common import REPO, harness, log  # noqa: E402
from bench_procs import CLK_TCK, proc_memory  # noqa: E402
import topology  # noqa: E402
from soak_clients import NET_ERRORS, Clients, Refused, SESSION_TIMEOUT  # noqa: E402
from soak_track import Tracker, body_digest, message_id  # noqa: E402

KPOP_CLIENT = REPO / "tests" / "kpop-client" / "kpop-client"
KPOP_PRINCIPAL = "soakkpop"
SDPS_VIEWS = ("fred", "jane")
# RSS growth of a long-lived process kind that counts as not flat: more
# than both of these
RSS_SLACK_KIB = 2048
RSS_SLACK_RATIO = 0.15
MONITOR_INTERVAL = 5.0
# Dovecot's own long-lived processes, and the login processes in
# high-performance mode
LONG_LIVED = ("dovecot", "altpop-login", "auth", "anvil", "log", "config",
              "stats", "lmtp")
DRAIN_TIMEOUT = 30
# sessions between the two idle fd counts of the front after the load
FD_ROUND_SESSIONS = 40


class Soak:
    def __init__(self, args):
        self.args = args
        self.rnd = random.Random(args.seed)
        self.t = Tracker()
        self.work = Path(tempfile.mkdtemp(prefix="altpop-soak-"))
        self.topo = None
        self.kdc = None
        self.stop_load = threading.Event()
        self.backend_up = threading.Event()
        self.kills = collections.Counter()
        self.samples = []        # (t, instance, {pid: (comm, rss)})
        self.restarts = []       # (t, how)
        self.masters = set()     # pids of every Dovecot master started
        self.stale_locks = []
        with open("/proc/uptime") as f:
            self.t_setup_ticks = float(f.read().split()[0]) * CLK_TCK - CLK_TCK
        self.outcomes = collections.Counter()
        self.threads = []
        self.seq = 0
        self.free = []
        self.free_lock = threading.Lock()

    # ---- set-up -----------------------------------------------------------

    def plan_users(self):
        a = self.args
        users = []
        for i in range(a.delete_users):
            users.append(dict(name="d%03d" % i, mode="delete"))
        for i in range(a.keep_users):
            users.append(dict(name="k%03d" % i, mode="keep"))
        for i in range(a.sdps_hosts):
            users.append(dict(name="h%02d" % i, mode="sdps", views=SDPS_VIEWS))
        for u in users:
            u["password"] = "pw-" + u["name"]
            u["mailbox"] = u["name"]
        return users

    def setup_kdc(self, stage):
        if self.args.no_kpop:
            return None, "--no-kpop"
        if not stage.has_kpop:
            return None, "libmech_kpop.so not staged"
        if not KPOP_CLIENT.exists():
            return None, "%s not built (make)" % KPOP_CLIENT
        reason = harness.kdc.available()
        if reason:
            return None, reason
        self.kdc = harness.kdc.KDC(users=(KPOP_PRINCIPAL,))
        self.kdc.start()
        ccache = self.kdc.kinit(KPOP_PRINCIPAL)
        env = dict(os.environ)
        env.update(self.kdc.env(ccache))
        # the clients run in the front's network namespace, where the KDC
        # (on this namespace's loopback) is out of reach: the service
        # ticket is fetched here beforehand and found in the cache
        subprocess.run(["kvno", self.kdc.service_principal], env=env, check=True,
                       stdout=subprocess.DEVNULL, timeout=60)
        return env, None

    def setup(self):
        a = self.args
        log("staging altpop (make install DESTDIR=...)")
        stage = harness.stage_altpop(self.work / "stage")
        if not stage.available:
            raise harness.HarnessError("altpop not staged: %s" % stage.reason)
        self.users = self.plan_users()
        kenv, self.kpop_skip = self.setup_kdc(stage)
        nproc = 4 * a.clients + 50
        common = (harness.settings([("default_process_limit", nproc),
                                    ("default_client_limit", 4 * nproc + 200),
                                    ("disable_plaintext_auth", "no"),
                                    ("auth_verbose", "no")])
                  + topology.performance_mode(["altpop-login"]))
        backend_extra = common + harness.setting("lmtp_hdr_delivery_address",
                                                 "original")
        fields = {}
        if kenv is not None:
            backend_extra += (self.kdc.dovecot_settings()
                              + harness.setting("auth_mechanisms", "plain login kpop"))
            for u in self.users:
                if u["mode"] == "keep":
                    fields[u["name"]] = "k5principals=%s" % self.kdc.principal(
                        KPOP_PRINCIPAL)
        self.topo = topology.Topology(
            stage, backends=("altpop",),
            users={u["name"]: (0, u["password"], "") for u in self.users},
            front_extra=common, backend_extra=backend_extra,
            backend_kwargs=dict(
                passdb_fields=fields,
                extra_altpop=harness.setting("altpop_sdps_listeners", "pop3 pop3s")))
        self.topo.start()
        self.backend = self.topo.backends[0]
        self.backend_up.set()
        self.masters |= {self.topo.front.pid, self.backend.pid}
        b = self.backend
        targets = dict(backend_host=self.topo.backend_address(0),
                       pop3=b.port("altpop", "pop3"), pop3s=b.port("altpop", "pop3s"),
                       front_host="127.0.0.1", front=self.topo.front_port(),
                       front_pop3s=self.topo.front.port("altpop", "pop3s"))
        kpop = None
        if kenv is not None:
            kpop = dict(argv=self.topo.front_ns.command(
                [str(KPOP_CLIENT), "-t", str(SESSION_TIMEOUT), "-H", self.kdc.host]),
                tail=[targets["backend_host"], str(b.port("altpop", "kpop"))],
                env=kenv)
        self.clients = Clients(self.t, targets, kpop)
        self.free = list(self.users)
        log("topology up: front %s, backend %s (%d users, KPOP %s)"
            % (self.topo.front.tmp, b.tmp, len(self.users),
               "on" if kpop else "off: %s" % self.kpop_skip))

    # ---- delivery ---------------------------------------------------------

    def message(self, user, view):
        self.seq += 1
        msgid = "soak.%d.%d@example.org" % (self.seq, self.rnd.randrange(1 << 30))
        to = "%s@%s" % (view, user["name"]) if view else user["name"]
        size = int(min(200000, max(300, self.rnd.lognormvariate(7.6, 1.0))))
        lines = []
        total = 0
        while total < size:
            line = "%s %d" % (msgid, total) + " x" * self.rnd.randrange(5, 35)
            if self.rnd.random() < 0.03:
                line = "." + line
            if self.rnd.random() < 0.01:
                line = "."
            lines.append(line.encode())
            total += len(line) + 2
        body = b"\r\n".join(lines) + b"\r\n"
        head = ("From: soak <soak@example.org>\r\nTo: %s\r\nSubject: soak %d\r\n"
                "Message-ID: <%s>\r\n\r\n" % (to, self.seq, msgid)).encode()
        return msgid, head + body, body_digest(head + body)

    def deliver_one(self):
        user = self.rnd.choice(self.users)
        view = self.rnd.choice(user["views"]) if user["mode"] == "sdps" else None
        msgid, raw, digest = self.message(user, view)
        self.t.delivery_attempt(msgid, user["mailbox"], view, digest)
        sock = str(self.backend.tmp / "run" / "lmtp")
        data_sent = False
        try:
            lmtp = smtplib.LMTP(sock, timeout=SESSION_TIMEOUT)
            try:
                lmtp.ehlo()
                lmtp.mail("sender@example.org")
                opts = ["ORCPT=rfc822;%s@%s" % (view, user["name"])] if view else []
                code, _ = lmtp.rcpt(user["name"], options=opts)
                if code != 250:
                    raise smtplib.SMTPException("RCPT %d" % code)
                data_sent = True
                code, _ = lmtp.data(raw)
                if code != 250:
                    raise smtplib.SMTPException("DATA %d" % code)
            finally:
                with contextlib.suppress(Exception):
                    lmtp.close()
        except (OSError, smtplib.SMTPException):
            if data_sent:
                self.t.delivery_done(msgid, False)
            else:
                self.t.count("deliveries refused")
            return
        self.t.delivery_done(msgid, True)

    def deliveries(self):
        while not self.stop_load.is_set():
            if self.backend_up.is_set():
                self.deliver_one()
            self.stop_load.wait(self.rnd.expovariate(self.args.deliver_rate))

    # ---- faults -----------------------------------------------------------

    def backend_pids(self, comm):
        ns = self.backend.ns
        out = []
        for pid in harness._pids_in_mnt_ns(ns) if ns else ():
            with contextlib.suppress(OSError):
                if Path("/proc/%d/comm" % pid).read_text().strip() == comm:
                    out.append(pid)
        return out

    def killer(self):
        rnd = random.Random(self.args.seed + 1)
        while not self.stop_load.wait(rnd.expovariate(1.0 / self.args.kill_interval)):
            if not self.backend_up.is_set():
                continue
            comm = "altpop" if rnd.random() < 0.7 else "altpop-login"
            # post-login processes live as long as a session: wait for one
            # (up to a second)
            pids = self.backend_pids(comm)
            for _ in range(10):
                if pids or self.stop_load.is_set():
                    break
                time.sleep(0.1)
                pids = self.backend_pids(comm)
            if not pids:
                self.kills[comm + " (none running)"] += 1
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(rnd.choice(pids), signal.SIGKILL)
                self.kills[comm] += 1

    def restart_backend(self, hard):
        log("backend restart (%s)" % ("kill -9 of every process" if hard else
                                      "graceful: SIGTERM to the master"))
        self.backend_up.clear()
        if hard:
            self.backend.kill()
        else:
            self.backend.stop()
        self.backend.start()
        self.masters.add(self.backend.pid)
        self.restarts.append((time.monotonic() - self.t0, "hard" if hard else "graceful"))
        self.backend_up.set()

    # ---- clients ----------------------------------------------------------

    def take_user(self, rnd):
        with self.free_lock:
            if not self.free:
                return None
            return self.free.pop(rnd.randrange(len(self.free)))

    def give_user(self, user):
        with self.free_lock:
            self.free.append(user)

    def worker(self, i):
        rnd = random.Random(self.args.seed * 1000 + i)
        with self.topo.front_ns.inside():
            while not self.stop_load.is_set():
                user = self.take_user(rnd)
                if user is None:
                    time.sleep(0.05)
                    continue
                try:
                    outcome = self.clients.run(user, rnd)
                finally:
                    self.give_user(user)
                with self.t.lock:
                    self.outcomes[outcome] += 1
                if outcome != "ok":
                    # refused during a restart: do not spin
                    time.sleep(0.2)
                time.sleep(rnd.uniform(0, self.args.think))

    # ---- monitoring -------------------------------------------------------

    def snapshot(self, inst):
        out = {}
        ns = inst.ns
        if ns is None:
            return out
        for pid in harness._pids_in_mnt_ns(ns):
            try:
                comm = Path("/proc/%d/comm" % pid).read_text().strip()
                nfd = len(os.listdir("/proc/%d/fd" % pid))
            except OSError:
                continue
            mem = proc_memory(pid)
            if mem is not None:
                out[pid] = (comm, mem.get("rss", 0), nfd)
        return out

    def monitor(self):
        while not self.stop_load.wait(MONITOR_INTERVAL):
            now = time.monotonic() - self.t0
            self.samples.append((now, "front", self.snapshot(self.topo.front)))
            if self.backend_up.is_set():
                self.samples.append((now, "backend", self.snapshot(self.backend)))

    def rss_report(self):
        """{(instance, comm): dict(pids, start, end)} of the long-lived
        processes alive from the baseline to the last sample."""
        warm = max(20.0, 0.1 * self.args.seconds)
        out = {}
        for inst in ("front", "backend"):
            since = warm
            if inst == "backend" and self.restarts:
                since = self.restarts[-1][0] + warm
            mine = [s for s in self.samples if s[1] == inst]
            base = next((s for s in mine if s[0] >= since), None)
            if base is None or base is mine[-1]:
                continue
            end = mine[-1]
            for comm in LONG_LIVED:
                pids = [p for p, v in base[2].items() if v[0] == comm and p in end[2]
                        and end[2][p][0] == comm]
                if not pids:
                    continue
                out[(inst, comm)] = dict(
                    pids=len(pids), start_s=round(base[0]), end_s=round(end[0]),
                    start_kib=sum(base[2][p][1] for p in pids),
                    end_kib=sum(end[2][p][1] for p in pids))
        return out

    def idle_fds(self, like=None):
        """The front's processes once their fd counts stop changing (up to
        DRAIN_TIMEOUT; with like, as soon as they are no more than there)."""
        deadline = time.monotonic() + DRAIN_TIMEOUT
        prev = None
        while True:
            time.sleep(1)
            snap = self.snapshot(self.topo.front)
            fds = {p: v[2] for p, v in snap.items()}
            if like is not None and all(n <= like[p][2] for p, n in fds.items()
                                        if p in like):
                return snap
            if (like is None and fds == prev) or time.monotonic() > deadline:
                return snap
            prev = fds

    # ---- the run ----------------------------------------------------------

    def warm_up(self):
        """One session of each kind (the login processes open what they
        open once), then the fds of the front's processes when idle."""
        with self.topo.front_ns.inside():
            for mode in ("delete", "keep", "sdps"):
                u = next(u for u in self.users if u["mode"] == mode)
                for _ in range(12):
                    self.clients.run(u, self.rnd)
        # the fds once they stop changing (sessions ending)
        prev = None
        for _ in range(20):
            time.sleep(1)
            snap = self.snapshot(self.topo.front)
            fds = {p: v[2] for p, v in snap.items()}
            if fds == prev:
                break
            prev = fds
        return snap

    def run(self):
        a = self.args
        self.idle_before = self.warm_up()
        self.t0 = time.monotonic()
        log("load: %d clients, %.1f deliveries/s, a kill every %.1fs on average, "
            "for %ds" % (a.clients, a.deliver_rate, a.kill_interval, a.seconds))
        for fn, name in ([(self.deliveries, "deliveries"), (self.killer, "killer"),
                          (self.monitor, "monitor")]
                         + [(lambda i=i: self.worker(i), "worker%d" % i)
                            for i in range(a.clients)]):
            th = threading.Thread(target=fn, name=name, daemon=True)
            th.start()
            self.threads.append(th)
        # the restarts run here: Dovecot is tied to the thread that
        # started it (harness: PR_SET_PDEATHSIG)
        plan = [(a.seconds / 3.0, False), (2 * a.seconds / 3.0, True)]
        for at, hard in plan:
            self.sleep_until(at)
            self.restart_backend(hard)
        self.sleep_until(a.seconds)
        log("stopping the load")
        self.stop_load.set()
        for th in self.threads:
            th.join(SESSION_TIMEOUT + 30)
            if th.is_alive():
                self.t.violation("hung session", "thread %s still running" % th.name)
        self.duration = time.monotonic() - self.t0

    def sleep_until(self, at):
        last = 0
        while True:
            now = time.monotonic() - self.t0
            if now >= at:
                return
            if now - last >= 60:
                last = now
                with self.t.lock:
                    c = dict(self.t.counts)
                log("%4.0fs: %d sessions ok, %d deliveries, %d kills, %d UIDL violations"
                    % (now, self.outcomes.get("ok", 0), c.get("deliveries", 0),
                       sum(v for k, v in self.kills.items() if "none" not in k),
                       self.t.vcount.get("uidl changed", 0)))
            time.sleep(min(1.0, at - now))

    # ---- the reckoning ----------------------------------------------------

    def final_listing(self, user):
        """msgids on the server for a mailbox (the whole SDPS host), the
        UIDLs checked once more. Retries while the maildrop is locked."""
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while True:
            try:
                c = self.clients.connect("user", user["name"], user["password"])
                try:
                    uidl = self.clients.uidl(c)
                    ids = set()
                    for n in sorted(uidl):
                        st, data = c.multi("TOP %d 0" % n)
                        if data is None:
                            raise Refused("TOP %r" % st)
                        msgid = message_id(data)
                        ids.add(msgid)
                        self.t.check_mapping(user["mailbox"], uidl[n], msgid,
                                             "final listing")
                    c.cmd("QUIT")
                    return ids
                finally:
                    c.close()
            except (Refused, *NET_ERRORS) as e:
                if time.monotonic() > deadline:
                    info, holder_alive = self.lock_info(user)
                    if holder_alive or "IN-USE" not in str(e):
                        self.t.violation("final listing failed", "%s: %s; %s"
                                         % (user["name"], e, info))
                        return None
                    # the session lock of a process that is gone: Dovecot's
                    # dotlock breaks it once the pid in it is no process
                    # (or, without a pid, after altpop's stale time, as
                    # stock pop3's); the files tell what is there
                    self.t.count("stale session locks")
                    self.stale_locks.append("%s: %s" % (user["name"], info))
                    return {message_id(p.read_bytes().replace(b"\n", b"\r\n"))
                            for p in self.maildir_files(user)}
                time.sleep(1)

    def lock_info(self, user):
        """What holds a maildrop's session lock (the diagnosis of a final
        listing answered [IN-USE])."""
        path = self.backend.home(user["name"]) / "Maildir" / "dovecot-pop3-session.lock"
        try:
            text = path.read_text().strip()
            age = time.time() - path.stat().st_mtime
        except OSError as e:
            return "no lock file (%s)" % e.strerror, False
        pid = text.split(":")[0]
        try:
            comm = Path("/proc/%s/comm" % pid).read_text().strip()
            cmd = Path("/proc/%s/cmdline" % pid).read_text().replace("\0", " ")
        except OSError:
            comm = cmd = "gone"
        alive = pid.isdigit() and int(pid) in self.backend_pids("altpop")
        info = ("lock %r, %.0fs old, pid %s: %s %s (post-login processes: %s)" % (
            text, age, pid, comm, cmd, self.backend_pids("altpop")))
        if alive:
            info += self.holder_state(int(pid))
        return info, alive

    def holder_state(self, pid):
        """What a live lock holder is doing: where it sleeps, what its fds
        are, its lines in the backend's log."""
        out = []
        for name in ("wchan", "stack"):
            try:
                out.append("%s: %s" % (name, Path("/proc/%d/%s" % (pid, name))
                                       .read_text().strip().replace("\n", " | ")))
            except OSError:
                pass
        fds = []
        try:
            for fd in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
                with contextlib.suppress(OSError):
                    fds.append("%s=%s" % (fd, os.readlink("/proc/%d/fd/%s" % (pid, fd))))
        except OSError:
            pass
        out.append("fds: " + " ".join(fds))
        lines = [line for line in self.backend.log_text().splitlines()
                 if "<%d>" % pid in line or "mpid=%d," % pid in line]
        out.append("log:\n      " + "\n      ".join(lines[-20:]))
        return "\n    " + "\n    ".join(out)

    def maildir_files(self, user):
        md = self.backend.home(user["name"]) / "Maildir"
        return [p for d in ("new", "cur") for p in (md / d).iterdir()]

    def inject(self):
        """--inject: faults behind the server's back, after the load, each
        of which the reckoning must report (a check of the checks): a
        message file removed (lost), a deleted message put back
        (undeleted), a leave-on-server maildrop's uidlist and index
        removed (its UIDLs change), an empty session lock (a stale lock,
        the maildrop listed from its files)."""
        done = []
        with self.t.lock:
            fetched = set(self.t.fetches)
            gone = {m for sid, ids in self.t.session_deletes.items()
                    if self.t.session_end.get(sid) == "committed" for m in ids}
        for u in self.users:
            if u["mode"] != "delete" or "lost" in done:
                continue
            for p in self.maildir_files(u):
                msgid = message_id(p.read_bytes().replace(b"\n", b"\r\n"))
                if msgid in self.t.delivered and msgid not in fetched:
                    p.unlink()
                    done.append("lost")
                    break
        for msgid in sorted(gone):
            mailbox = self.t.attempted[msgid][0]
            u = next(u for u in self.users if u["mailbox"] == mailbox)
            if u["mode"] == "delete":
                self.backend.deliver(mailbox, "Message-ID: <%s>\n\nback\n" % msgid)
                done.append("undeleted")
                break
        for u in self.users:
            known = self.t.msg_to_uid[u["mailbox"]]
            if u["mode"] == "keep" and any(
                    message_id(p.read_bytes().replace(b"\n", b"\r\n")) in known
                    for p in self.maildir_files(u)):
                md = self.backend.home(u["name"]) / "Maildir"
                for p in md.iterdir():
                    if p.name.startswith(("dovecot-uidlist", "dovecot.index")):
                        p.unlink()
                done.append("uidl")
                break
        # an empty session lock, as a post-login process killed between
        # creating it and writing its pid leaves (reported, not a violation)
        u = next(u for u in reversed(self.users) if u["mode"] == "delete")
        lock = self.backend.home(u["name"]) / "Maildir" / "dovecot-pop3-session.lock"
        lock.write_bytes(b"")
        os.chown(lock, self.backend.uid, self.backend.gid)
        done.append("empty session lock")
        log("injected: %s" % ", ".join(done))

    def reckon(self):
        if self.args.inject:
            self.inject()
        remaining = {}
        with self.topo.front_ns.inside():
            for u in self.users:
                ids = self.final_listing(u)
                if ids is not None:
                    remaining[u["mailbox"]] = ids
                else:
                    # not listed: its messages count neither lost nor kept
                    self.t.unlisted.add(u["mailbox"])
        self.summary = self.t.verdict(remaining)
        # no session left: post-login processes gone, the front's fds as
        # when idle before the load
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while self.backend_pids("altpop") and time.monotonic() < deadline:
            time.sleep(0.5)
        left = self.backend_pids("altpop")
        if left:
            self.t.violation("process left", "backend post-login processes with no "
                             "client: %s" % left)
        # fds: the front's processes when idle after the load, then after
        # another round of sessions (a connection a login process opens
        # once, to ipc or auth, is there in both; a leak grows)
        # a count taken while a connection to auth or stats is being
        # reopened can be one or two lower: a leak is what grows in each
        # of two rounds, not once
        idle = self.idle_fds()
        rounds = [idle]
        for _ in range(2):
            with self.topo.front_ns.inside():
                for u in self.users[:FD_ROUND_SESSIONS]:
                    self.clients.run(u, self.rnd)
            rounds.append(self.idle_fds(rounds[-1]))
        again = rounds[-1]
        for pid, v in again.items():
            counts = [r[pid][2] for r in rounds if pid in r and r[pid][0] == v[0]]
            if len(counts) == len(rounds) and counts[0] < counts[1] < counts[2]:
                self.t.violation("fd left", "front %s[%d] %s fds (idle after the "
                                 "load, then after each of two rounds of %d more "
                                 "sessions)" % (v[0], pid, " -> ".join(map(str, counts)),
                                                FD_ROUND_SESSIONS))
        self.fd_opened_once = ["%s[%d] %d -> %d" % (v[0], pid, self.idle_before[pid][2],
                                                    v[2])
                               for pid, v in idle.items() if pid in self.idle_before
                               and v[2] != self.idle_before[pid][2]]
        self.fd_checked = len([p for p in again if p in idle])

    def server_log_findings(self):
        """Panics (violations) and the kinds of errors in the Dovecot logs."""
        kinds = collections.Counter()
        for name, inst in (("front", self.topo.front), ("backend", self.backend)):
            for line in inst.log_text().splitlines():
                if "Panic:" in line:
                    self.t.violation("panic", "%s: %s" % (name, line))
                m = re.search(r"(Error|Fatal|Panic): (.*)", line)
                if m:
                    text = re.sub(r"\d+", "N", m.group(2))[:110]
                    kinds["%s %s: %s" % (name, m.group(1), text)] += 1
        self.log_kinds = kinds

    def close(self):
        fds_before = getattr(self, "own_fds", None)
        if self.topo is not None and self.topo.front is not None:
            with contextlib.suppress(OSError, AttributeError):
                self.server_log_findings()
        if self.topo is not None:
            try:
                self.topo.stop()
            except harness.HarnessError as e:
                self.t.violation("process left", str(e))
        if self.kdc is not None:
            self.kdc.stop()
            self.kdc.cleanup()
        # a process of one of our Dovecots: in the session its master led
        # (the harness starts each master as a session leader), started
        # before now (pids are reused: a later process may have a session
        # id of the same number)
        with open("/proc/uptime") as f:
            now_ticks = float(f.read().split()[0]) * CLK_TCK
        deadline = time.monotonic() + 10
        while True:
            left = []
            for entry in os.listdir("/proc"):
                start = harness._start_time(entry) if entry.isdigit() else None
                if (start is not None and self.t_setup_ticks <= start < now_ticks
                        and harness._session_id(entry) in self.masters
                        and not harness._is_zombie(entry)):
                    with contextlib.suppress(OSError):
                        left.append("%s (%s)" % (entry, Path(
                            "/proc/%s/comm" % entry).read_text().strip()))
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        for p in left:
            self.t.violation("process left", "%s of one of our Dovecots after stopping"
                             % p)
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
            self.t.violation("process left", "a child of the soak still runs")
        except ChildProcessError:
            pass
        if fds_before is not None:
            after = set(os.listdir("/proc/self/fd"))
            if len(after) > len(fds_before):
                self.t.violation("fd left", "the soak's own fds: %d before, %d after"
                                 % (len(fds_before), len(after)))
        if not self.args.keep:
            shutil.rmtree(self.work, ignore_errors=True)

    def report(self):
        a = self.args
        c = self.t.counts
        s = self.summary
        kills = {k: v for k, v in self.kills.items() if "none" not in k}
        out = collections.OrderedDict()
        out["dovecot"] = subprocess.run(["dovecot", "--version"], stdout=subprocess.PIPE,
                                        text=True).stdout.strip()
        out["seconds"] = round(self.duration)
        out["clients"] = a.clients
        out["users"] = dict(delete=a.delete_users, keep=a.keep_users,
                            sdps_hosts=a.sdps_hosts, kpop=self.kpop_skip is None)
        out["sessions"] = {k[len("sessions "):]: v for k, v in sorted(c.items())
                           if k.startswith("sessions ")}
        out["sessions_total"] = sum(out["sessions"].values())
        out["outcomes"] = dict(self.outcomes)
        out["session_ends"] = {k[len("ended "):]: v for k, v in c.items()
                               if k.startswith("ended ")}
        out["deliveries"] = c.get("deliveries", 0)
        out["deliveries_refused"] = c.get("deliveries refused", 0)
        out["deliveries_unanswered"] = c.get("deliveries unanswered", 0)
        out["messages_fetched"] = c.get("messages fetched", 0)
        out["uidls_rechecked"] = c.get("UIDLs re-checked", 0)
        out["uidls_rechecked_kpop"] = c.get("UIDLs re-checked over KPOP", 0)
        out["kills"] = kills
        out["restarts"] = self.restarts
        out["result"] = dict(s)
        out["rss_kib"] = {"%s %s" % k: v for k, v in self.rss_report().items()}
        out["fd_checked_processes"] = getattr(self, "fd_checked", 0)
        out["fds_opened_during_the_load"] = getattr(self, "fd_opened_once", [])
        for key, v in out["rss_kib"].items():
            growth = v["end_kib"] - v["start_kib"]
            if growth > RSS_SLACK_KIB and growth > RSS_SLACK_RATIO * v["start_kib"]:
                self.t.violation("rss grew", "%s: %d KiB -> %d KiB" % (
                    key, v["start_kib"], v["end_kib"]))
        out["stale_session_locks"] = self.stale_locks
        out["server_log"] = dict(getattr(self, "log_kinds", {}).most_common(15))
        out["violations"] = dict(self.t.vcount)
        out["violation_details"] = {k: v for k, v in self.t.violations.items()}
        return out


def print_summary(r):
    print()
    print("altpop soak: %s, %ds, %d clients" % (r["dovecot"], r["seconds"], r["clients"]))
    print("  sessions   %d (%s)" % (r["sessions_total"], ", ".join(
        "%s %d" % kv for kv in sorted(r["sessions"].items()))))
    print("  outcomes   %s" % ", ".join("%s %d" % kv for kv in sorted(r["outcomes"].items())))
    print("  ends       %s" % ", ".join("%s %d" % kv for kv in
                                       sorted(r["session_ends"].items())))
    print("  deliveries %d (refused while down %d, cut before the answer %d)"
          % (r["deliveries"], r["deliveries_refused"], r["deliveries_unanswered"]))
    print("  fetched    %d messages; UIDLs re-checked: %d with TOP, %d over KPOP"
          % (r["messages_fetched"], r["uidls_rechecked"], r["uidls_rechecked_kpop"]))
    print("  kills      %s; backend restarts %s" % (
        ", ".join("%s %d" % kv for kv in sorted(r["kills"].items())) or "none",
        ", ".join("%s at %.0fs" % (h, t) for t, h in r["restarts"])))
    res = r["result"]
    print("  result     lost %d, duplicated %d, UIDL changes %d, undeleted %d, "
          "re-fetched after a killed session %d"
          % (res.get("lost", 0), res.get("duplicated", 0),
             r["violations"].get("uidl changed", 0), res.get("undeleted", 0),
             res.get("re-fetched after a killed session", 0)))
    print("             (delivered %d, fetched %d distinct, %d on the server at the end)"
          % (res.get("delivered", 0), res.get("fetched (distinct)", 0),
             res.get("on the server at the end", 0)))
    print("  fds        %d long-lived front processes as many after %d more sessions "
          "as when idle after the load" % (r["fd_checked_processes"], FD_ROUND_SESSIONS))
    if r["fds_opened_during_the_load"]:
        print("             (opened during the load and kept: %s)"
              % ", ".join(r["fds_opened_during_the_load"]))
    print("  RSS (KiB, processes alive from the baseline to the end):")
    for key, v in sorted(r["rss_kib"].items()):
        print("    %-22s %2d process(es)  %7d at %4ds -> %7d at %4ds"
              % (key, v["pids"], v["start_kib"], v["start_s"], v["end_kib"], v["end_s"]))
    for lock in r["stale_session_locks"]:
        print("  stale session lock at the end (listed from the files): %s" % lock)
    if r["server_log"]:
        print("  Dovecot log errors (most frequent kinds):")
        for k, n in r["server_log"].items():
            print("    %5d  %s" % (n, k))
    if r["violations"]:
        print("  VIOLATIONS: %s" % ", ".join("%s %d" % kv for kv in
                                            sorted(r["violations"].items())))
        for kind, details in sorted(r["violation_details"].items()):
            for d in details:
                print("    %s: %s" % (kind, d))
    else:
        print("  no violations")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--minutes", type=float, default=2.0, help="run time (default 2)")
    ap.add_argument("--clients", type=int, default=6,
                    help="concurrent client threads (default 6)")
    ap.add_argument("--delete-users", type=int, default=40)
    ap.add_argument("--keep-users", type=int, default=30)
    ap.add_argument("--sdps-hosts", type=int, default=6)
    ap.add_argument("--deliver-rate", type=float, default=4.0,
                    help="LMTP deliveries per second (default 4)")
    ap.add_argument("--kill-interval", type=float, default=4.0,
                    help="mean seconds between two kill -9 (default 4)")
    ap.add_argument("--think", type=float, default=0.3,
                    help="a client's pause after a session, up to this (default 0.3s)")
    ap.add_argument("--seed", type=int, default=27)
    ap.add_argument("--no-kpop", action="store_true", help="no KPOP clients")
    ap.add_argument("--inject", action="store_true",
                    help="check the checks: after the load, remove a message file, "
                    "put a deleted message back, reset a maildrop's UIDLs and leave "
                    "an empty session lock behind the server's back (the run must "
                    "then report lost 1, undeleted 1, UIDL changes and the stale "
                    "lock)")
    ap.add_argument("--json", metavar="FILE", help="write the summary as JSON")
    ap.add_argument("--keep", action="store_true", help="keep the work directory")
    args = ap.parse_args()
    args.seconds = int(args.minutes * 60)
    if os.geteuid() != 0:
        print("soak.py: run as root (network namespaces, Dovecot)", file=sys.stderr)
        return 2
    soak = Soak(args)
    soak.own_fds = set(os.listdir("/proc/self/fd"))
    try:
        try:
            soak.setup()
        except (harness.HarnessError, subprocess.SubprocessError, OSError) as e:
            print("soak.py: set-up failed: %s" % e, file=sys.stderr)
            return 2
        soak.run()
        soak.reckon()
    finally:
        soak.close()
    r = soak.report()
    print_summary(r)
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=1) + "\n")
    return 1 if r["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
