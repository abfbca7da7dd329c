# SPDX-License-Identifier: LGPL-2.1-only
"""A proxy topology built by the test itself: one front Dovecot (altpop)
and several backend Dovecots (stock pop3 or altpop), each in a network
namespace of its own, joined to the front by veth pairs.

Every namespace is held by a sleeping process this module starts (and
stops by PID): the namespace, its veth ends and its addresses vanish with
it.  The addresses (198.18.0.0/15, the benchmarking range) exist only
inside these namespaces; nothing is configured in the caller's namespace.

    front ns: lo 127.0.0.1, b<i> 198.18.<i>.1/24   (altpop, pop3)
    back<i> ns: lo 127.0.0.1, f 198.18.<i>.2/24    (pop3 or altpop)

Clients run in the front's namespace: sockets made inside
`topo.front_ns.inside()` (or subprocesses started there) reach the front
on 127.0.0.1, and the backends at their 198.18 addresses (to compare
with fetching directly).
"""

import contextlib
import ctypes
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import harness

CLONE_NEWNET = 0x40000000
NS_START_TIMEOUT = 10
# the front and the backends trust each other's network for XCLIENT
TOPOLOGY_NET = "198.18.0.0/15"

_libc = ctypes.CDLL(None, use_errno=True)


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "setns: %s" % os.strerror(err))


class Netns:
    """A network namespace held by `unshare --net sleep` (stopped by PID)."""

    def __init__(self, name):
        self.name = name
        self.proc = subprocess.Popen(["unshare", "--net", "sleep", "infinity"],
                                     stdin=subprocess.DEVNULL,
                                     preexec_fn=harness._die_with_parent)
        own = os.readlink("/proc/self/ns/net")
        deadline = time.monotonic() + NS_START_TIMEOUT
        while True:
            try:
                if os.readlink(self.path) != own:
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise harness.HarnessError("network namespace %s did not come up"
                                           % name)
            time.sleep(0.01)
        self.run(["ip", "link", "set", "lo", "up"])

    @property
    def path(self):
        return "/proc/%d/ns/net" % self.proc.pid

    def command(self, argv):
        """argv wrapped to run in this namespace."""
        return ["nsenter", "--net=" + self.path] + list(argv)

    def run(self, argv, **kwargs):
        kwargs.setdefault("check", True)
        kwargs.setdefault("timeout", 30)
        return subprocess.run(self.command(argv), **kwargs)

    @contextlib.contextmanager
    def inside(self):
        """The calling thread in this namespace: sockets made (and processes
        started) in the block belong to it; sockets keep it afterwards."""
        own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(self.path, os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield self
            finally:
                _setns(own)
        finally:
            os.close(own)

    def listening(self):
        """{(ip, port): socket inode} in LISTEN state in this namespace."""
        with self.inside():
            return harness.listening_tcp_sockets()

    def stop(self):
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait(10)


class NsInstance(harness.DovecotInstance):
    """A DovecotInstance whose processes run in network namespace netns and
    listen on every address there."""

    def __init__(self, netns, address, **kwargs):
        super().__init__(**kwargs)
        self.netns = netns
        self.address = address

    def _write_conf(self):
        super()._write_conf()
        # the namespace is private: every address of it
        for path in (self.conf, self.tmp / "altpop.conf"):
            if path.exists():
                text = path.read_text()
                path.write_text(re.sub(r"(?m)^(\s*(?:listen|address) =) 127\.0\.0\.1$",
                                       r"\1 *", text))

    def ns_command(self, argv):
        return self.netns.command(super().ns_command(argv))

    def _listening(self):
        # listening on "*": the wanted 127.0.0.1 is among them
        return {("127.0.0.1", p): inode
                for (_, p), inode in self.netns.listening().items()}

    def kill(self):
        """SIGKILL to every process of this Dovecot at once (a crash, or
        the machine gone), by PID; stop() then finds nothing left."""
        if self.proc is None:
            return
        pids = [pid for pid in harness._pids_in_mnt_ns(self.ns)
                if harness._session_id(pid) == self.proc.pid]
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        self.proc.wait(10)
        self.stop()

    def pop3_port(self):
        """The port of this instance's POP3 server (altpop when it has it)."""
        proto = "altpop" if "altpop" in self.protocols else "pop3"
        return self.port(proto, "pop3")


def performance_mode(services, client_limit=1000):
    """Settings text: the login services in high-performance mode (one
    process serves many connections), as a proxy front is run."""
    text = ""
    for name in services:
        text += ("service %s {\n%s  process_min_avail = 2\n"
                 "  client_limit = %d\n}\n"
                 % (name, "  " + harness.setting(
                     "service_count", "unlimited" if harness.IS_24 else "0"),
                    client_limit))
    return text


class Topology:
    """One front (altpop, plus stock pop3) and one backend per entry of
    backends ("pop3" or "altpop"), each in its own network namespace.

    users: name -> (backend index, password, extra front passdb fields
    [, password on the backend]); the front's passdb proxies name to that
    backend (USER/PASS unless the fields say otherwise), the backend has
    name with that password (or the fourth one: for users the front logs
    in as a master user).
    masters: name -> password of master users every backend accepts (a
    passdb with master=yes).
    front_extra / backend_extra: settings text for the instances.
    """

    def __init__(self, stage, backends=("pop3", "altpop", "pop3"), users=None,
                 masters=None, front_extra="", backend_extra="",
                 front_kwargs=None, backend_kwargs=None):
        self.stage = stage
        self.kinds = list(backends)
        self.users = {name: (tuple(v) + (v[1],))[:4]
                      for name, v in (users or {}).items()}
        self.masters = dict(masters or {})
        self.tmp = None
        self.front_extra = front_extra
        self.backend_extra = backend_extra
        self.front_kwargs = dict(front_kwargs or {})
        self.backend_kwargs = dict(backend_kwargs or {})
        self.namespaces = []
        self.front = None
        self.front_ns = None
        self.backends = []

    @staticmethod
    def backend_address(i):
        return "198.18.%d.2" % (i + 1)

    @staticmethod
    def front_address(i):
        return "198.18.%d.1" % (i + 1)

    def _link(self, i, back_ns):
        # both ends made inside namespaces of ours: never in the caller's
        self.front_ns.run(["ip", "link", "add", "b%d" % i, "type", "veth",
                           "peer", "name", "f", "netns", str(back_ns.proc.pid)])
        self.front_ns.run(["ip", "addr", "add", self.front_address(i) + "/24",
                           "dev", "b%d" % i])
        self.front_ns.run(["ip", "link", "set", "b%d" % i, "up"])
        back_ns.run(["ip", "addr", "add", self.backend_address(i) + "/24",
                     "dev", "f"])
        back_ns.run(["ip", "link", "set", "f", "up"])

    def proxy_fields(self, name):
        i, _, extra, _ = self.users[name]
        b = self.backends[i]
        return ("proxy host=%s port=%d %s"
                % (self.backend_address(i), b.pop3_port(), extra)).strip()

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _master_passdb(self):
        """Settings text of the backends' master-user passdb."""
        if not self.masters:
            return ""
        path = self.tmp / "masters"
        path.write_text("".join("%s:{PLAIN}%s\n" % kv
                                for kv in self.masters.items()))
        os.chmod(path, 0o644)
        if harness.IS_24:
            return ("passdb masters {\n  driver = passwd-file\n"
                    "  master = yes\n  passwd_file_path = %s\n}\n" % path)
        return ("passdb {\n  driver = passwd-file\n  master = yes\n"
                "  args = %s\n}\n" % path)

    def _start(self):
        self.tmp = Path(tempfile.mkdtemp(prefix=harness.INSTANCE_PREFIX + "topo-",
                                         dir="/tmp"))
        os.chmod(self.tmp, 0o755)
        # lets reap_stale_instances() remove it should this process die
        harness._write_pid_file(self.tmp / "owner.pid", os.getpid())
        trusted = harness.setting("login_trusted_networks",
                                  "127.0.0.0/8 " + TOPOLOGY_NET)
        backend_extra = trusted + self._master_passdb() + self.backend_extra
        self.front_ns = Netns("front")
        self.namespaces.append(self.front_ns)
        for i, kind in enumerate(self.kinds):
            ns = Netns("back%d" % i)
            self.namespaces.append(ns)
            self._link(i, ns)
            protocols = ["pop3"] if kind == "pop3" else ["altpop"]
            b = NsInstance(ns, self.backend_address(i), protocols=protocols,
                           stage=self.stage, name="back%d" % i,
                           extra=backend_extra,
                           **self.backend_kwargs)
            for user, (j, _, _, password) in self.users.items():
                if j == i:
                    b.users[user] = password
            b.setup()
            self.backends.append(b)
        for b in self.backends:
            b.start()
        self.front = NsInstance(self.front_ns, "127.0.0.1",
                                protocols=["pop3", "altpop"], stage=self.stage,
                                name="front", extra=trusted + self.front_extra,
                                **self.front_kwargs)
        for user, (_, password, _, _) in self.users.items():
            self.front.users[user] = password
            self.front.passdb_fields[user] = self.proxy_fields(user)
        self.front.start()

    def backend_of(self, user):
        return self.backends[self.users[user][0]]

    def direct_port(self, user):
        """(address, port) of user's backend, reachable from the front's ns."""
        i = self.users[user][0]
        return self.backend_address(i), self.backends[i].pop3_port()

    def front_port(self):
        return self.front.port("altpop", "pop3")

    def stop(self):
        errors = []
        for inst in [self.front] + list(reversed(self.backends)):
            if inst is None:
                continue
            try:
                inst.__exit__(None, None, None)
            except Exception as e:          # stop the rest all the same
                errors.append(e)
        for ns in reversed(self.namespaces):
            ns.stop()
        self.namespaces = []
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
        if errors:
            raise errors[0]

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
