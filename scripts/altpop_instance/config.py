# SPDX-License-Identifier: LGPL-2.1-only
"""Configuration of throw-away instances: the passwd-file, private copies of
the module directories with the staged modules, and dovecot.conf /
altpop.conf generated from dovecot-conf/instance/<major>/*.conf.in (ports
filled in, the caller's settings added, a sanitizer build's settings last)."""

import os
import re
import shutil

from .dovecot import (DOVECOT_LIBEXECDIR, IS_24, SYS_MODULEDIR,
                             HarnessError, template_dir)
from .ports import free_ports, port_is_free
from .settings import setting

# Listener names per protocol, with the placeholder that carries the port
# (altpop's kpop listener is in service altpop-kpop-login, the others in
# altpop-login).
LISTENERS = {
    "pop3": {
        "pop3": "PORT_POP3",
        "pop3s": "PORT_POP3S",
        "pop3-haproxy": "PORT_POP3_HAPROXY",
    },
    "altpop": {
        "pop3": "PORT_ALTPOP",
        "pop3s": "PORT_ALTPOP_POP3S",
        "kpop": "PORT_ALTPOP_KPOP",
        "pop3-haproxy": "PORT_ALTPOP_HAPROXY",
    },
}


class InstanceConfig:
    """The configuration part of a DovecotInstance (needs self.tmp,
    self.users, self.passdb_fields, self.stage, self.protocols, the extra*
    texts, self.fixed_ports and self.sanitize; fills self.ports and
    self.conf)."""

    _seq = 0

    def _write_passwd(self):
        lines = []
        for user, password in self.users.items():
            if ":" in user or ":" in password or "\n" in user + password:
                raise HarnessError("passwd-file cannot hold %r/%r" % (user, password))
            lines.append("%s:{PLAIN}%s::::::%s\n"
                         % (user, password, self.passdb_fields.get(user, "")))
        path = self.tmp / "passwd"
        path.write_text("".join(lines))
        os.chmod(path, 0o644)

    def _prepare_modules(self):
        for kind in ("settings", "auth"):
            dst = self.tmp / "modules" / kind
            shutil.copytree(os.path.join(SYS_MODULEDIR, kind), dst, symlinks=True)
            if self.stage is not None and self.stage.available:
                mods = (self.stage.settings_modules if kind == "settings"
                        else self.stage.auth_modules)
                for mod in mods:
                    shutil.copy2(mod, dst / mod.name)
            os.chmod(dst, 0o755)

    def _subst(self, text, values):
        for key, value in values.items():
            text = text.replace("@%s@" % key, str(value))
        left = re.findall(r"^[^#\n]*?(@[A-Z][A-Z0-9_]*@)", text, re.M)
        if left:
            raise HarnessError("unsubstituted placeholders: %s" % sorted(set(left)))
        return text

    def _write_conf(self):
        want = []
        for proto in ("pop3", "altpop"):
            want += [(proto, listener, ph) for listener, ph in LISTENERS[proto].items()]
        ports = free_ports(len(want))
        # preferred fixed ports (the demo), used when they are free
        fixed = self.fixed_ports or {}
        free_fixed = {ph: port for ph, port in fixed.items() if port_is_free(port)}
        ports = [free_fixed.get(ph, port) for (_, _, ph), port in zip(want, ports)]
        values = {}
        for (proto, listener, ph), port in zip(want, ports):
            values[ph] = port
            if proto in self.protocols:
                self.ports[(proto, listener)] = port
        InstanceConfig._seq += 1
        values.update({
            "TMP": self.tmp,
            "INSTANCE": "altpop-it-%d-%d" % (os.getpid(), InstanceConfig._seq),
            "PROTOCOLS": " ".join(self.protocols),
            "EXTRA": self.extra,
            "EXTRA_POP3": self.extra_pop3,
            "EXTRA_ALTPOP": self.extra_altpop,
            "ALTPOP_INCLUDE": "# altpop not enabled",
        })
        if "altpop" in self.protocols:
            values.update({
                "ALTPOP_LOGIN": self.stage.login,
                "ALTPOP_KPOP_LOGIN": self.stage.kpop_login,
                "ALTPOP_MAIL": self.stage.mail,
                "ALTPOP_INCLUDE": "!include %s/altpop.conf" % self.tmp,
            })
            alt = (template_dir() / "altpop.conf.in").read_text()
            (self.tmp / "altpop.conf").write_text(self._subst(alt, values))
        main = (template_dir() / "dovecot.conf.in").read_text()
        self.conf = self.tmp / "dovecot.conf"
        self.conf.write_text(self._subst(main, values) + self._sanitizer_conf())

    def _sanitizer_conf(self):
        """Settings a sanitizer build needs, after everything else."""
        if not self.sanitize:
            return ""
        names = ["ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS",
                 "PR_SET_DUMPABLE", "GDB"]
        if IS_24:
            env = " ".join(names)
        else:
            # 2.3: the last import_environment wins: keep a test's own
            m = re.findall(r"^\s*import_environment\s*=(.*)$", self.extra, re.M)
            env = " ".join([m[-1].strip() if m else "TZ CORE_OUTOFMEM CORE_ERROR"]
                           + names)
        preload = "LD_PRELOAD=" + ":".join(self.stage.sanitizer_runtimes)
        text = ("\n# sanitizer build: the report settings reach every process\n"
                "# (PR_SET_DUMPABLE keeps the post-login process traceable\n"
                "# for LeakSanitizer after it drops privileges); the\n"
                "# processes that load altpop's modules get the runtime\n"
                "# preloaded; altpop-login is not chrooted (its report files;\n"
                "# its leak check: module/login/login-sanitizer.c)\n"
                + setting("default_vsz_limit", "unlimited" if IS_24 else "0")
                + setting("import_environment", env))
        for svc, exe in (("config", "config"), ("auth", "auth"),
                         ("auth-worker", "auth -w")):
            text += ("service %s {\n  executable = /usr/bin/env %s %s/%s\n}\n"
                     % (svc, preload, DOVECOT_LIBEXECDIR, exe))
        if "altpop" in self.protocols:
            text += ("service altpop-login {\n  chroot =\n}\n"
                     "service altpop-kpop-login {\n  chroot =\n}\n")
        return text
