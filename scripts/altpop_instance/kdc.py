# SPDX-License-Identifier: LGPL-2.1-only
"""A throw-away MIT Kerberos realm on loopback, for the KPOP and GSSAPI
tests, the demo's KPOP and the benchmark.

KDC(...) creates a private directory with its own krb5.conf and kdc.conf
(used through KRB5_CONFIG / KRB5_KDC_PROFILE, the system files are never
read or written), a database made with kdb5_util, a user principal per user
(with a keytab for password-less kinit), the service principal pop/<host>
in a keytab readable by Dovecot's auth process only (root:dovecot 0640),
and runs krb5kdc -n on a free loopback port.  Everything is removed again
by stop()/cleanup(); the KDC is stopped by its PID.

    with KDC() as kdc:
        ccache = kdc.kinit("alice")
        env = kdc.env(ccache)               # for clients
        extra = kdc.dovecot_settings()      # for the Dovecot instance
"""

import contextlib
import grp
import os
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from .ports import free_ports
from .processes import StartStopContext, stop_child
from .settings import settings

REALM = "ALTPOP.TEST"
# The host part of the service principal.  Clients name the server by the
# host they connect to: "localhost" resolves to 127.0.0.1 everywhere.
SERVICE_HOST = "localhost"
SERVICE = "pop"

KDB5_UTIL = "/usr/sbin/kdb5_util"
KADMIN_LOCAL = "/usr/sbin/kadmin.local"
KRB5KDC = "/usr/sbin/krb5kdc"
KINIT = "/usr/bin/kinit"
KDESTROY = "/usr/bin/kdestroy"

CMD_TIMEOUT = 60
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


class KDCError(RuntimeError):
    pass


def available():
    """None when the MIT KDC tools are installed, else the reason."""
    missing = [p for p in (KDB5_UTIL, KADMIN_LOCAL, KRB5KDC, KINIT)
               if not os.path.exists(p)]
    if missing:
        return ("MIT Kerberos tools missing: %s (Debian: apt-get install "
                "krb5-kdc krb5-admin-server krb5-user)" % ", ".join(missing))
    return None


def _free_port():
    """A port free for both TCP and UDP on 127.0.0.1."""
    for _ in range(50):
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            # below the ephemeral range, as the instances' listeners
            port = free_ports(1)[0]
            try:
                t.bind(("127.0.0.1", port))
                u.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
        finally:
            t.close()
            u.close()
    raise KDCError("no free port for the KDC")


class KDC(StartStopContext):
    def __init__(self, realm=REALM, host=SERVICE_HOST, users=("alice", "bob"),
                 services=(), keep=None, clockskew=300):
        self.realm = realm
        self.host = host
        self.users = list(users)
        # further service principals "service/host" (in services.keytab,
        # not in the one Dovecot reads)
        self.extra_services = list(services)
        self.clockskew = clockskew
        self.keep = (os.environ.get("ALTPOP_IT_KEEP") == "1") if keep is None else keep
        self.dir = None
        self.port = None
        self.proc = None
        self.keytab = None

    # ---- paths and environment -----------------------------------------

    @property
    def krb5_conf(self):
        return self.dir / "krb5.conf"

    @property
    def kdc_conf(self):
        return self.dir / "kdc.conf"

    @property
    def rcache_dir(self):
        return self.dir / "rcache"

    def principal(self, name):
        return "%s@%s" % (name, self.realm)

    @property
    def service_principal(self):
        return "%s/%s@%s" % (SERVICE, self.host, self.realm)

    def env(self, ccache=None):
        """Environment for Kerberos clients (and the admin tools)."""
        env = {
            "KRB5_CONFIG": str(self.krb5_conf),
            "KRB5_KDC_PROFILE": str(self.kdc_conf),
            "KRB5RCACHEDIR": str(self.dir / "client-rcache"),
        }
        if ccache is not None:
            env["KRB5CCNAME"] = "FILE:%s" % ccache
        return env

    def _run(self, argv, input=None, check=True):
        env = dict(os.environ)
        env.update(self.env())
        env.pop("KRB5CCNAME", None)
        res = subprocess.run(argv, input=input, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, timeout=CMD_TIMEOUT)
        text = res.stdout.decode("utf-8", "replace")
        if check and res.returncode != 0:
            raise KDCError("%s failed (%d):\n%s" % (" ".join(argv), res.returncode, text))
        return text

    def kadmin(self, query):
        return self._run([KADMIN_LOCAL, "-r", self.realm, "-q", query])

    # ---- set-up ---------------------------------------------------------

    def _write_confs(self):
        d = self.dir
        self.krb5_conf.write_text(
            "[libdefaults]\n"
            "  default_realm = %(realm)s\n"
            "  dns_lookup_realm = false\n"
            "  dns_lookup_kdc = false\n"
            "  dns_canonicalize_hostname = false\n"
            "  rdns = false\n"
            "  udp_preference_limit = 1\n"
            "  clockskew = %(skew)d\n"
            "  ticket_lifetime = 1h\n"
            "  forwardable = false\n"
            "[realms]\n"
            "  %(realm)s = {\n"
            "    kdc = 127.0.0.1:%(port)d\n"
            "  }\n"
            "[domain_realm]\n"
            "  %(host)s = %(realm)s\n"
            % {"realm": self.realm, "port": self.port, "host": self.host,
               "skew": self.clockskew})
        self.kdc_conf.write_text(
            "[kdcdefaults]\n"
            "  kdc_ports = %(port)d\n"
            "  kdc_tcp_ports = %(port)d\n"
            "[realms]\n"
            "  %(realm)s = {\n"
            "    database_name = %(dir)s/principal\n"
            "    key_stash_file = %(dir)s/stash\n"
            "    acl_file = %(dir)s/kadm5.acl\n"
            "    kdc_ports = %(port)d\n"
            "    kdc_tcp_ports = %(port)d\n"
            "    max_life = 1h\n"
            "    max_renewable_life = 0\n"
            "    supported_enctypes = aes256-cts-hmac-sha1-96:normal "
            "aes128-cts-hmac-sha1-96:normal\n"
            "  }\n"
            "[logging]\n"
            "  kdc = FILE:%(dir)s/kdc.log\n"
            "  admin_server = FILE:%(dir)s/kadmin.log\n"
            "  default = FILE:%(dir)s/krb5lib.log\n"
            % {"realm": self.realm, "port": self.port, "dir": d})
        (d / "kadm5.acl").write_text("")
        for p in (self.krb5_conf, self.kdc_conf):
            os.chmod(p, 0o644)

    def user_keytab(self, user):
        return self.dir / ("%s.keytab" % user)

    def add_user(self, user):
        """A user principal with a keytab for kinit (no password prompts)."""
        self.kadmin("addprinc -randkey %s" % self.principal(user))
        self.kadmin("ktadd -k %s -norandkey %s" % (self.user_keytab(user),
                                                   self.principal(user)))

    def add_service(self, name, keytab):
        """A random-key service principal "service/host" added to keytab."""
        self.kadmin("addprinc -randkey %s@%s" % (name, self.realm))
        self.kadmin("ktadd -k %s -norandkey %s@%s" % (keytab, name, self.realm))

    def setup(self):
        reason = available()
        if reason:
            raise KDCError(reason)
        # Dovecot's auth process (user dovecot) reads krb5.conf and the
        # keytab here: the temporary directory's parent must be traversable
        self.dir = Path(tempfile.mkdtemp(prefix="altpop-kdc-"))
        os.chmod(self.dir, 0o755)
        self.port = _free_port()
        self._write_confs()
        self._run([KDB5_UTIL, "-r", self.realm, "create", "-s", "-W",
                   "-P", secrets.token_hex(16)])
        for user in self.users:
            self.add_user(user)
        # the service key Dovecot uses: readable by its auth process only
        self.keytab = self.dir / "pop.keytab"
        self.add_service("%s/%s" % (SERVICE, self.host), self.keytab)
        self.make_auth_readable(self.keytab)
        self.services_keytab = self.dir / "services.keytab"
        for name in self.extra_services:
            self.add_service(name, self.services_keytab)
        # replay cache of the auth process
        self.rcache_dir.mkdir()
        self.make_auth_owned(self.rcache_dir, 0o700)
        (self.dir / "client-rcache").mkdir(mode=0o700)
        return self

    @staticmethod
    def auth_group():
        try:
            return grp.getgrnam("dovecot").gr_gid
        except KeyError:
            raise KDCError("group dovecot missing (install dovecot-core)") from None

    def make_auth_readable(self, path):
        os.chown(path, 0, self.auth_group())
        os.chmod(path, 0o640)

    def server_keytab(self, name, principals):
        """A keytab for Dovecot's auth process in the realm's directory
        holding the existing keys of principals ("service/host" or full
        names); returns its path."""
        path = self.dir / name
        for p in principals:
            full = p if "@" in p else "%s@%s" % (p, self.realm)
            self.kadmin("ktadd -k %s -norandkey %s" % (path, full))
        self.make_auth_readable(path)
        return path

    def make_auth_owned(self, path, mode):
        import pwd
        pw = pwd.getpwnam("dovecot")
        os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(path, mode)

    # ---- the KDC process ------------------------------------------------

    def start(self):
        if self.dir is None:
            self.setup()
        env = dict(os.environ)
        env.update(self.env())
        self._out = open(self.dir / "krb5kdc.out", "wb")
        self.proc = subprocess.Popen([KRB5KDC, "-n", "-r", self.realm],
                                     env=env, stdin=subprocess.DEVNULL,
                                     stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True, cwd=str(self.dir))
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                raise KDCError("krb5kdc exited (%s):\n%s" % (self.proc.returncode,
                                                            self.diagnostics()))
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return self
            if time.monotonic() > deadline:
                raise KDCError("krb5kdc not listening after %.0fs:\n%s"
                               % (START_TIMEOUT, self.diagnostics()))
            time.sleep(0.05)

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is not None:
            stop_child(proc, STOP_TIMEOUT)
            self._out.close()

    def cleanup(self):
        if self.dir is not None and not self.keep:
            shutil.rmtree(self.dir, ignore_errors=True)

    def diagnostics(self):
        out = []
        for name in ("krb5kdc.out", "kdc.log"):
            with contextlib.suppress(OSError):
                out.append("--- %s ---\n%s" % (
                    name, (self.dir / name).read_text("utf-8", "replace")[-3000:]))
        return "\n".join(out)

    def kdc_log(self):
        try:
            return (self.dir / "kdc.log").read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # ---- clients --------------------------------------------------------

    def kinit(self, user, ccache=None):
        """Get a TGT for user into ccache (a new file when None); returns the
        ccache path."""
        if ccache is None:
            fd, ccache = tempfile.mkstemp(prefix="cc-%s-" % user, dir=str(self.dir))
            os.close(fd)
            os.unlink(ccache)
        env = dict(os.environ)
        env.update(self.env(ccache))
        res = subprocess.run([KINIT, "-k", "-t", str(self.user_keytab(user)),
                              self.principal(user)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             timeout=CMD_TIMEOUT)
        if res.returncode != 0:
            raise KDCError("kinit %s failed: %s\n%s" % (
                user, res.stdout.decode("utf-8", "replace"), self.diagnostics()))
        return Path(ccache)

    # ---- Dovecot --------------------------------------------------------

    def dovecot_settings(self, gssapi_hostname=None, keytab=None):
        """Global settings for a Dovecot instance using this realm: the
        keytab, the host of pop/<host>, and the environment the auth process
        needs (this realm's krb5.conf and a private replay cache), in the
        installed Dovecot's syntax."""
        return settings([
            ("auth_krb5_keytab", keytab or self.keytab),
            ("auth_gssapi_hostname", '"%s"' % (gssapi_hostname or self.host)),
            ("import_environment", "TZ KRB5_CONFIG=%s KRB5RCACHEDIR=%s"
             % (self.krb5_conf, self.rcache_dir)),
        ])



def demo():
    """Start a realm and print how to use it (python3 scripts/altpop_instance
    --kdc)."""
    with KDC() as kdc:
        cc = kdc.kinit("alice")
        print("realm %s, KDC on 127.0.0.1:%d, directory %s"
              % (kdc.realm, kdc.port, kdc.dir))
        for k, v in kdc.env(cc).items():
            print("export %s=%s" % (k, v))
        print("Dovecot settings:\n" + kdc.dovecot_settings())
        print("Ctrl-C stops and removes the realm.")
        with contextlib.suppress(KeyboardInterrupt):
            signal.pause()
