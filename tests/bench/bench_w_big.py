# SPDX-License-Identifier: LGPL-2.1-only
"""Workload big: UIDL-only and LIST-only sessions on a large maildrop
(tests/bench/run.py)."""

from bench_common import POST_LOGIN, PROTOS, WorkloadError, log
from bench_maildrops import remove_index
from bench_procs import instance_pids, proc_memory


class BigWorkload:
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
