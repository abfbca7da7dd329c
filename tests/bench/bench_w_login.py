# SPDX-License-Identifier: LGPL-2.1-only
"""Workloads login and loginhp: login storms (tests/bench/run.py)."""

from bench_common import PROTOS, log
from bench_maildrops import MailFactory, Maildrops


class LoginWorkloads:
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

    def w_logintls(self):
        """The many-user login storms over pop3s: every session a full TLS
        handshake (no session resumption: popbench starts each session
        without a cached one), in the default process mode."""
        p = self.p
        runs = ((1, p["login_seq_sessions"]), (p["login_conc"], p["login_conc_sessions"]))
        rate = {(i, x): [] for i in range(len(runs)) for x in PROTOS}
        for proto in PROTOS:  # warm-up
            self.pb_tls.run(self.inst.port(proto, "pop3s"), self.uf_login, 1, 10,
                            "stat,quit", sources=50, extra=["-T"])
        for rnd in range(p["rounds"]):
            for proto in self.order(rnd):
                desc = []
                for i, (conc, n) in enumerate(runs):
                    r = self.pb_tls.run(self.inst.port(proto, "pop3s"), self.uf_login,
                                        conc, n, "stat,quit", sources=50, extra=["-T"])
                    rate[(i, proto)].append(r["sessions_per_sec"])
                    desc.append("%d at once: %.1f/s" % (conc, r["sessions_per_sec"]))
                log("logintls round %d %-6s: %s" % (rnd + 1, proto, ", ".join(desc)))
        for i, (conc, n) in enumerate(runs):
            how = "sequential" if conc == 1 else "%d concurrent" % conc
            self.results.add("logintls", "pop3s, many users, %s: answered" % how,
                             "sessions/s", "higher", ">=1.0",
                             rate[(i, "pop3")], rate[(i, "altpop")])

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
