# SPDX-License-Identifier: LGPL-2.1-only
"""Workload kpop: KPOP logins against plain logins on altpop
(tests/bench/run.py)."""

import os

from bench_common import WorkloadError, harness, log
from bench_popbench import Popbench, build_popbench


class KpopWorkload:
    def w_kpop(self):
        return self.kpop_run()

    # ---- KPOP -----------------------------------------------------------

    KPOP_PRINCIPAL = "kpopbench"

    def setup_kdc(self):
        """A private realm (scripts/altpop_instance/kdc.py) when the stage has the
        KPOP mechanism; returns the Dovecot settings it needs."""
        if not self.stage.has_kpop:
            self.kpop_skip = ("the stage has no libmech_kpop.so (KPOP mechanism "
                              "not built)")
            return ""
        kdcmod = harness.kdc
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
