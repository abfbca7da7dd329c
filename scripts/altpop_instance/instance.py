# SPDX-License-Identifier: LGPL-2.1-only
"""DovecotInstance: a throw-away Dovecot (for one test or a module of
tests, the demo, the benchmark), with altpop's staged build loaded, started
inside a private mount namespace and stopped by PID.  Its configuration is
config's job, its mail delivery's."""

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .certs import make_cert
from .config import InstanceConfig
from .delivery import Maildrops, ensure_vmail
from .dovecot import (DEFAULT_USERS, DOVECONF, DOVECOT, START_PORT_ATTEMPTS,
                             START_TIMEOUT, STOP_TIMEOUT, SYS_MODULEDIR, HarnessError)
from .ports import listening_tcp_sockets, socket_inodes
from .processes import (INSTANCE_PREFIX, _die_with_parent, _is_zombie,
                               _mnt_ns, _pids_in_mnt_ns, _session_id,
                               StartStopContext, _start_time, _write_pid_file,
                               stop_child)
from .sanitizer import (SANITIZER_DIR, SANITIZER_SUPPRESSIONS,
                               sanitizer_environment, sanitizer_reports)


class DovecotInstance(InstanceConfig, Maildrops, StartStopContext):
    """A private Dovecot, started in __enter__ and removed in __exit__.

    protocols: login protocols to enable ("pop3", "altpop"); "lmtp" is added
    unless lmtp=False.  users: dict name->password (or list of pairs) added
    to the defaults alice/alicepw and bob/bobpw; passdb_fields: dict
    name->passdb extra fields ("userdb_x=1" gives the user a userdb field).
    extra / extra_pop3 /
    extra_altpop: settings text for the global scope and the protocol blocks.
    keep (default: ALTPOP_IT_KEEP=1): keep the directory after stopping; a
    kept instance is also not tied to this process (no SIGTERM when it dies,
    never reaped), so a demo may leave it running.  Otherwise Dovecot gets
    SIGTERM when the thread that started it dies: start instances from the
    main thread.  fixed_ports: {placeholder: port} (e.g. {"PORT_ALTPOP":
    1110}) to use where that port is free (the demo), random free ports
    otherwise.
    """

    def __init__(self, protocols=("pop3",), users=None, stage=None, extra="",
                 extra_pop3="", extra_altpop="", lmtp=True, default_users=True,
                 keep=None, name="t", fixed_ports=None, passdb_fields=None):
        self.protocols = list(protocols)
        if lmtp and "lmtp" not in self.protocols:
            self.protocols.append("lmtp")
        self.users = dict(DEFAULT_USERS) if default_users else {}
        if users:
            self.users.update(dict(users))
        self.stage = stage
        if "altpop" in self.protocols and (stage is None or not stage.available):
            raise HarnessError("altpop requested but not staged: %s"
                               % (stage.reason if stage else "no stage"))
        self.extra = extra
        self.extra_pop3 = extra_pop3
        self.extra_altpop = extra_altpop
        self.keep = (os.environ.get("ALTPOP_IT_KEEP") == "1") if keep is None else keep
        self.name = name
        self.tmp = None
        self.proc = None
        self.ns = None
        self.ports = {}
        self.fixed_ports = dict(fixed_ports or {})
        Maildrops.__init__(self)
        self.uid = self.gid = None
        # user -> passdb extra fields ("k5principals=a@R nologin"), set
        # before setup()
        self.passdb_fields = dict(passdb_fields or {})
        self.sanitize = bool(stage is not None and stage.available and
                             stage.sanitizer_runtimes)

    # ---- set-up ---------------------------------------------------------

    def setup(self):
        self.uid, self.gid = ensure_vmail()
        self.tmp = Path(tempfile.mkdtemp(prefix=INSTANCE_PREFIX, dir="/tmp"))
        # Login/auth/mail processes run as other users and must traverse it.
        os.chmod(self.tmp, 0o755)
        if not self.keep:
            # Lets reap_stale_instances() remove it should this process die.
            _write_pid_file(self.tmp / "owner.pid", os.getpid())
        for d in ("run", "state", "home", "ssl", "modules"):
            (self.tmp / d).mkdir()
        if self.sanitize:
            # written by processes of every user
            (self.tmp / SANITIZER_DIR).mkdir()
            os.chmod(self.tmp / SANITIZER_DIR, 0o1777)
            # readable for them (the tree may be in root's home)
            shutil.copy(SANITIZER_SUPPRESSIONS, self.tmp / "lsan.supp")
            os.chmod(self.tmp / "lsan.supp", 0o644)
        make_cert(self.tmp / "ssl")
        self._write_passwd()
        for user in self.users:
            self.maildir(user)
        self._prepare_modules()
        self._write_conf()
        return self

    def add_user(self, user, password):
        """Add a user.  auth re-reads the passwd-file when it changed, but
        checks at most once a second: this waits that second out."""
        self.users[user] = password
        self._write_passwd()
        self.maildir(user)
        if self.running:
            time.sleep(1.1)

    # ---- namespace ------------------------------------------------------

    def ns_command(self, argv):
        """argv wrapped to run in a private mount namespace with our modules."""
        script = (
            "set -e\n"
            'mount --bind "$1/modules/settings" "$2/settings"\n'
            'mount --bind "$1/modules/auth" "$2/auth"\n'
            "shift 2\n"
            'exec "$@"\n'
        )
        if self.sanitize:
            # only the final program (dovecot, doveconf) and what it starts
            env = sanitizer_environment(self.tmp / SANITIZER_DIR)
            # dovecot and the doveconf it runs load the settings module
            env["LD_PRELOAD"] = ":".join(self.stage.sanitizer_runtimes)
            env["PR_SET_DUMPABLE"] = "1"
            # GDB=1: Dovecot then keeps its modules loaded at exit, so that
            # a leak report can name a module's code (dlclose()d code has
            # no symbols left); it changes nothing else in a release build
            env["GDB"] = "1"
            argv = ["env"] + ["%s=%s" % kv for kv in sorted(env.items())] + list(argv)
        return (["unshare", "--mount", "--propagation", "private",
                 "sh", "-c", script, "sh", str(self.tmp), SYS_MODULEDIR] + list(argv))

    def doveconf(self, args=(), check=False, timeout=30):
        """Run doveconf -c <conf> ARGS in the namespace; returns CompletedProcess
        with text stdout/stderr."""
        if self.tmp is None:
            self.setup()
        argv = self.ns_command([DOVECONF, "-c", str(self.conf)] + list(args))
        res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             timeout=timeout)
        res.stdout = res.stdout.decode("utf-8", "replace")
        res.stderr = res.stderr.decode("utf-8", "replace")
        if check and res.returncode != 0:
            raise HarnessError("doveconf %s failed (%d): %s"
                               % (" ".join(args), res.returncode, res.stderr))
        return res

    def setting_value(self, name, filter=None):
        """The value doveconf gives for setting name (with filter, e.g.
        "protocol=altpop").  Asks "doveconf NAME" and reads "NAME = value":
        2.4's "doveconf -h NAME" refuses names that also match elsewhere
        ("Multiple settings matched")."""
        args = (["-f", filter] if filter else []) + [name]
        res = self.doveconf(args, check=True)
        prefix = name + " ="
        for line in res.stdout.splitlines():
            if line == prefix or line.startswith(prefix + " "):
                return line[len(prefix):].strip()
        raise HarnessError("doveconf %s printed no %s:\n%s"
                           % (" ".join(args), name, res.stdout))

    # ---- start / stop ---------------------------------------------------

    def start(self, timeout=START_TIMEOUT):
        """Start Dovecot and wait until its listeners are up.  When a port
        was taken between picking it and Dovecot's bind, start again on
        new ports (START_PORT_ATTEMPTS in all); the log and output of a
        failed start are kept as dovecot.log.failed-N and
        dovecot.stdout.failed-N."""
        if self.tmp is None:
            self.setup()
        for attempt in range(1, START_PORT_ATTEMPTS + 1):
            try:
                return self._start_once(timeout)
            except HarnessError as e:
                if (attempt == START_PORT_ATTEMPTS
                        or "Address already in use" not in str(e)):
                    raise
            for name in ("dovecot.log", "dovecot.stdout"):
                with contextlib.suppress(FileNotFoundError):
                    (self.tmp / name).rename(
                        self.tmp / ("%s.failed-%d" % (name, attempt)))
            self.ports = {}
            self._write_conf()
        raise AssertionError("not reached")

    def _start_once(self, timeout):
        self._out = open(self.tmp / "dovecot.stdout", "wb")
        argv = self.ns_command([DOVECOT, "-F", "-c", str(self.conf)])
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self._out,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     cwd=str(self.tmp),
                                     preexec_fn=None if self.keep else _die_with_parent)
        _write_pid_file(self.tmp / "master.pid", self.proc.pid)
        try:
            self._wait_ready(timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def _wait_ready(self, timeout):
        deadline = time.monotonic() + timeout
        wanted = {("127.0.0.1", port) for port in self.ports.values()}
        lmtp_sock = self.tmp / "run" / "lmtp"
        while True:
            if self.proc.poll() is not None:
                raise HarnessError("dovecot exited with status %s during start-up\n%s"
                                   % (self.proc.returncode, self.diagnostics()))
            ns = _mnt_ns(self.proc.pid)
            ready = ns is not None and ns != _mnt_ns("self")
            ready = ready and self._ours_listening(wanted)
            if "lmtp" in self.protocols:
                ready = ready and lmtp_sock.exists()
            if ready:
                self.ns = ns
                return
            if time.monotonic() > deadline:
                raise HarnessError("dovecot not ready after %.0fs (listeners %s)\n%s"
                                   % (timeout, sorted(self.ports.items()),
                                      self.diagnostics()))
            time.sleep(0.05)

    def _listening(self):
        """{(ip, port): socket inode} of what listens where this instance's
        listeners are."""
        return listening_tcp_sockets()

    def _ours_listening(self, wanted):
        """Every (ip, port) in wanted listens, on a socket of our master
        (not one of another program that took the port first)."""
        listening = self._listening()
        if not wanted <= set(listening):
            return False
        ours = socket_inodes(self.proc.pid)
        return all(listening[w] in ours for w in wanted)

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        # Snapshot the instance's processes: in its mount namespace and in the
        # session the master leads (a namespace id can be reused by another
        # instance once ours is gone): pid -> start time.
        ours = {}
        if self.ns is not None and self.ns != _mnt_ns("self"):
            ours = {pid: _start_time(pid) for pid in _pids_in_mnt_ns(self.ns)
                    if _session_id(pid) == proc.pid}
        stop_child(proc)
        # Whatever of the snapshot is still running (same pid, same start
        # time, not yet a zombie) gets SIGTERM, then SIGKILL.
        deadline = time.monotonic() + STOP_TIMEOUT
        # a sanitizer build's processes check for leaks when they exit:
        # give them the time before SIGKILL
        term_until = time.monotonic() + (STOP_TIMEOUT / 2 if self.sanitize else 0)
        sig = signal.SIGTERM
        # one SIGTERM per process: a signal arriving while a sanitizer
        # build's process runs its leak check at exit disturbs the check
        # (its tracer ptrace()s the process)
        termed = set()
        while True:
            left = [pid for pid, st in ours.items()
                    if st is not None and _start_time(pid) == st and not _is_zombie(pid)]
            if not left:
                break
            for pid in left:
                if sig == signal.SIGTERM and pid in termed:
                    continue
                termed.add(pid)
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, sig)
            if time.monotonic() > deadline:
                raise HarnessError("processes of the instance survive: %s" % left)
            time.sleep(0.1)
            if time.monotonic() >= term_until:
                sig = signal.SIGKILL
        self._out.close()

    def sanitizer_reports(self):
        """What the sanitizers reported in this instance ("" for nothing)."""
        if not self.sanitize or self.tmp is None:
            return ""
        out = self.tmp / "dovecot.stdout"
        texts = [("dovecot log", self.log_text()),
                 ("dovecot stdout/stderr",
                  out.read_text(errors="replace") if out.exists() else "")]
        return sanitizer_reports(self.tmp / SANITIZER_DIR, texts)

    def cleanup(self):
        reports = self.sanitizer_reports()
        if self.tmp is not None and not self.keep:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if reports:
            raise HarnessError("sanitizer reports (a sanitizer build runs "
                               "with zero reports, leaks included):\n%s"
                               % reports[:20000])

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def detach(self):
        """Forget the running Dovecot (of an instance made with keep=True):
        it goes on running after this object is gone, and is stopped by
        its PID (the demo's "stop")."""
        if not self.keep:
            raise HarnessError("detach() needs keep=True")
        self.proc = None

    @property
    def pid(self):
        """PID of the Dovecot master (None when not started)."""
        return self.proc.pid if self.proc is not None else None

    # ---- inspection -----------------------------------------------------

    def port(self, proto="pop3", listener="pop3"):
        """TCP port of a listener: port('pop3'), port('pop3', 'pop3s'),
        port('altpop', 'kpop'), port('altpop', 'pop3-haproxy')..."""
        try:
            return self.ports[(proto, listener)]
        except KeyError:
            raise HarnessError("no listener %s/%s in this instance (protocols %s)"
                               % (proto, listener, self.protocols)) from None

    def log_text(self):
        try:
            return (self.tmp / "dovecot.log").read_text("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])

    def wait_log(self, pattern, timeout=5.0, start=0):
        """Wait until regex pattern appears in the log (from offset start);
        return the match."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log_text(), start)
            if m:
                return m
            if time.monotonic() > deadline:
                raise HarnessError("log never matched %r\n%s" % (pattern, self.log_tail()))
            time.sleep(0.05)

    def diagnostics(self, lines=60):
        out = ""
        with contextlib.suppress(OSError):
            out = (self.tmp / "dovecot.stdout").read_text("utf-8", "replace")
        return ("--- dovecot stdout/stderr ---\n%s\n--- tail of %s ---\n%s"
                % (out[-3000:], self.tmp / "dovecot.log", self.log_tail(lines)))
