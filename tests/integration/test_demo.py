# SPDX-License-Identifier: LGPL-2.1-only
"""The demo (scripts/demo.sh): every command it prints works as printed.

The test starts the demo the way scripts/demo.sh does after its install and
build steps (`python3 scripts/demo.py`: running demo.sh itself would build
the tree again, and reconfigure a sanitizer build), parses the commands
out of what it prints (curl over pop3 and pop3s, fetchmail, the KPOP
command when the MIT Kerberos tools are installed, and the stop command),
runs each one as a user pasting it into a terminal would (`sh -c` on a
pseudo-terminal, the account's password typed when asked, none of the
test's Kerberos variables in the environment) and checks that it fetched
the demo's mail.  Each one runs twice: with this machine's /etc/hosts, and
in a private mount namespace where localhost resolves to ::1 first, as on
Debian 13 (the demo listens on 127.0.0.1 only).  A command the test does not know fails it: teach the
test what a new command fetches.

Also: tests/kpop-client tries every address its host name resolves to.
Where "localhost" resolves to ::1 first (Debian 13) and a server listens
on 127.0.0.1 only (the demo), the client must still reach it; the test
makes that situation in a private mount namespace (a hosts file listing
::1 and 127.0.0.1 for localhost bind-mounted over /etc/hosts) on every
release, with a stand-in server on 127.0.0.1 only.
"""

import errno
import fcntl
import importlib.util
import os
import pty
import re
import select
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import termios
import threading
import time

import pytest

import harness
from harness import kdc
from test_kpop import _require, _unavailable

REPO = harness.REPO_ROOT
DEMO_PY = REPO / "scripts" / "demo.py"
STATE = REPO / "demo-run"
KPOP_CLIENT = REPO / "tests" / "kpop-client" / "kpop-client"
UNSHARE = "/usr/bin/unshare"
COMMAND_TIMEOUT = 90
DEMO_TIMEOUT = 300


def hosts_v6_first():
    """This machine's /etc/hosts with localhost as on Debian 13: it resolves
    to ::1 first, then 127.0.0.1 (the machine's other names stay: fetchmail
    looks up its own)."""
    lines = ["::1\tlocalhost ip6-localhost ip6-loopback", "127.0.0.1\tlocalhost"]
    with open("/etc/hosts") as f:
        for line in f:
            fields = line.split("#", 1)[0].split()
            names = [n for n in fields[1:] if n != "localhost"]
            if names:
                lines.append("\t".join(fields[:1] + names))
    return "\n".join(lines) + "\n"


def _demo_module():
    spec = importlib.util.spec_from_file_location("altpop_demo", DEMO_PY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return not harness._is_zombie(pid)


def _demo_running():
    try:
        return _pid_alive(int((STATE / "dovecot.pid").read_text()))
    except (OSError, ValueError):
        return False


# --------------------------------------------------------------------------
# what the demo prints


def printed_commands(text):
    """The commands in the demo's output: the indented lines under a line
    ending with ':' (continuation lines joined), and the command after
    'Stop it with:'."""
    commands = []
    lines = text.splitlines()
    in_block = False
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            in_block = False
        elif not line[0].isspace():
            m = re.match(r"Stop it with: (\S.*)$", line)
            if m:
                commands.append(m.group(1).strip())
            in_block = line.rstrip().endswith(":")
        elif in_block:
            cmd = line.strip()
            while cmd.endswith("\\") and i < len(lines):
                cmd = cmd[:-1].rstrip() + " " + lines[i].strip()
                i += 1
            commands.append(cmd)
    return commands


def program_and_args(cmd):
    """(program name, arguments) of a printed command, past its NAME=value
    assignments and without the trailing comment."""
    argv = shlex.split(cmd, comments=True)
    while argv and re.match(r"[A-Za-z_][A-Za-z0-9_]*=", argv[0]):
        argv.pop(0)
    assert argv, "no program in %r" % cmd
    return argv[0], argv[1:]


def pop3_size(raw):
    """The message's size as POP3 counts it (CRLF line ends)."""
    return len(raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))


def message_text(raw):
    """The message as a client writes it out, line ends aside."""
    return raw.decode().replace("\r\n", "\n")


def kpop_retr_text(raw):
    """kpop-client prints RETR's reply lines as on the wire ("S: " and the
    dot-stuffed line)."""
    return "\n".join("S: " + ("." + l if l.startswith(".") else l)
                     for l in message_text(raw).rstrip("\n").split("\n"))


def check_fetched(cmd, out, messages):
    """What a printed command must have fetched, by its program.  Returns
    a short description for the test's log."""
    prog, args = program_and_args(cmd)
    name = os.path.basename(prog)
    if name == "curl":
        url = [a for a in args if "://" in a]
        assert len(url) == 1, cmd
        which = url[0].rstrip("/").rsplit("/", 1)[-1]
        if url[0].endswith("/"):
            # the listing: "n size" for every message
            for n, raw in enumerate(messages, 1):
                assert re.search(r"(?m)^%d %d$" % (n, pop3_size(raw)), out), \
                    "%s: no '%d %d' in the listing:\n%s" % (cmd, n, pop3_size(raw), out)
            return "curl listing"
        n = int(which)
        assert message_text(messages[n - 1]) in out, \
            "%s: message %d not in the output:\n%s" % (cmd, n, out)
        return "curl message %d" % n
    if name == "fetchmail":
        for n, raw in enumerate(messages, 1):
            # fetchmail adds a Received: header; --mda cat writes the rest
            # as it was delivered
            assert message_text(raw) in out, \
                "%s: message %d not in the output:\n%s" % (cmd, n, out)
        assert re.search(r"%d messages" % len(messages), out), out
        return "fetchmail, %d messages" % len(messages)
    if name == "kpop-client":
        assert "ACCEPTED" in out.split("\n"), "%s:\n%s" % (cmd, out)
        assert "S: +OK Logged in." in out.split("\n"), "%s:\n%s" % (cmd, out)
        commands = [args[i + 1] for i, a in enumerate(args[:-1]) if a == "-c"]
        retr = [int(c.split()[1]) for c in commands if c.upper().startswith("RETR ")]
        assert retr, cmd
        if "STAT" in commands:
            assert re.search(r"(?m)^S: \+OK %d %d$" % (
                len(messages), sum(pop3_size(m) for m in messages)), out), out
        for n in retr:
            assert kpop_retr_text(messages[n - 1]) in out, \
                "%s: message %d not in the output:\n%s" % (cmd, n, out)
        return "KPOP, RETR %s" % retr
    pytest.fail("the demo prints a command this test does not know: %s "
                "(add what it fetches to check_fetched)" % cmd)


# --------------------------------------------------------------------------
# running a command as typed in a terminal


def _controlling_tty():
    # after setsid (start_new_session): the pty on fd 0 becomes the
    # controlling terminal (fetchmail asks for the password there)
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def run_in_terminal(cmd, password, env, hosts=None, timeout=COMMAND_TIMEOUT):
    """Run cmd with `sh -c` on a pseudo-terminal (stdin, stdout, stderr),
    typing password when a prompt asks for one; with hosts, in a private
    mount namespace where that file is /etc/hosts.  Returns (exit status,
    output with CRs removed)."""
    argv = ["/bin/sh", "-c", cmd]
    if hosts is not None:
        argv = [UNSHARE, "-m", "/bin/sh", "-c",
                'mount --bind "$1" /etc/hosts && exec /bin/sh -c "$2"',
                "sh", str(hosts), cmd]
    master, slave = pty.openpty()
    attrs = termios.tcgetattr(slave)
    attrs[1] &= ~termios.ONLCR          # output as the program wrote it
    termios.tcsetattr(slave, termios.TCSANOW, attrs)
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave,
                            stderr=slave, cwd=str(REPO), env=env,
                            start_new_session=True,
                            preexec_fn=_controlling_tty)
    os.close(slave)
    out = b""
    typed = 0
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
                pytest.fail("%s: no end after %d s; output:\n%s"
                            % (cmd, timeout, out.decode("utf-8", "replace")))
            ready, _, _ = select.select([master], [], [], min(left, 1.0))
            if not ready:
                continue
            try:
                data = os.read(master, 65536)
            except OSError as exc:
                if exc.errno != errno.EIO:   # EIO: the terminal's last user left
                    raise
                data = b""
            if not data:
                break
            out += data
            prompts = len(re.findall(rb"(?i)password[^\n]*: *$", out, re.M))
            if prompts > typed:
                os.write(master, password.encode() + b"\n")
                typed = prompts
    finally:
        os.close(master)
    status = proc.wait(timeout=timeout)
    return status, out.decode("utf-8", "replace").replace("\r", "")


# --------------------------------------------------------------------------
# the demo


@pytest.fixture
def demo(altpop_stage, tmp_path):
    """Start the demo; yields its output.  Stopped (if the test has not
    stopped it) at the end."""
    if _demo_running():
        _unavailable("a demo is running in this tree (scripts/demo.sh stop)")
    out_path = tmp_path / "demo.out"
    with open(out_path, "wb") as out:
        res = subprocess.run(["/usr/bin/python3", str(DEMO_PY)], cwd=str(REPO),
                             stdin=subprocess.DEVNULL, stdout=out,
                             stderr=subprocess.STDOUT, timeout=DEMO_TIMEOUT)
    text = out_path.read_text()
    try:
        assert res.returncode == 0, "demo.py failed (%d):\n%s" % (res.returncode, text)
        yield text
    finally:
        if STATE.exists():
            subprocess.run(["/usr/bin/python3", str(DEMO_PY), "stop"],
                           cwd=str(REPO), stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
                           timeout=DEMO_TIMEOUT)


def test_demo_commands_work(demo, altpop_stage, tmp_path):
    """Every command the demo prints, run as printed, fetches the demo's
    mail; the printed stop command stops it and removes its files."""
    messages = _demo_module().MESSAGES
    commands = printed_commands(demo)
    m = re.search(r"account: +(\S+) / (\S+)", demo)
    assert m, demo
    password = m.group(2)
    stop = [c for c in commands if c.endswith("demo.sh stop")]
    assert len(stop) == 1, "no single stop command in:\n%s" % demo
    fetch = [c for c in commands if c not in stop]
    names = [os.path.basename(program_and_args(c)[0]) for c in fetch]
    # what the demo must print at least
    assert names.count("curl") >= 2 and any("pop3s://" in c for c in fetch), demo
    assert "fetchmail" in names, demo
    kpop_expected = kdc.available() is None and altpop_stage.has_kpop
    assert ("kpop-client" in names) == kpop_expected, (
        "KPOP command printed: %s, expected: %s (KDC tools: %s)\n%s"
        % ("kpop-client" in names, kpop_expected,
           kdc.available() or "installed", demo))

    # the user's environment, without anything Kerberos of the test's, and
    # a fresh home (no ~/.fetchmailrc or ~/.curlrc; fetchmail's ~/.fetchids
    # is written there, not in root's home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
    env["HOME"] = str(tmp_path / "home")
    os.mkdir(env["HOME"], 0o700)
    # each command with this machine's /etc/hosts, and again where
    # localhost resolves to ::1 first (Debian 13's /etc/hosts)
    hosts = tmp_path / "hosts"
    hosts.write_text(hosts_v6_first())
    hosts.chmod(0o644)
    failures, done = [], []
    for cmd in fetch:
        prog = program_and_args(cmd)[0]
        if os.path.sep not in prog and shutil.which(prog) is None:
            failures.append("%s: %s is not installed (scripts/install-deps.sh)"
                            % (cmd, prog))
            continue
        for where, hosts_file in (("", None), (" (localhost ::1 first)", hosts)):
            status, out = run_in_terminal(cmd, password, env, hosts=hosts_file)
            if status != 0:
                failures.append("%s%s: exit %d\n%s" % (cmd, where, status, out))
                continue
            try:
                done.append(check_fetched(cmd, out, messages) + where)
            except AssertionError as exc:
                failures.append("%s%s" % (exc, where))
    assert not failures, "\n\n".join(failures)
    print("demo commands that worked: %s" % "; ".join(done))

    pid = int((STATE / "dovecot.pid").read_text())
    kdc_pid = (int((STATE / "krb5kdc.pid").read_text())
               if (STATE / "krb5kdc.pid").exists() else None)
    inst_dir = (STATE / "instance-dir").read_text().strip()
    status, out = run_in_terminal(stop[0], password, env)
    assert status == 0 and "demo: stopped" in out, out
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and (
            _pid_alive(pid) or (kdc_pid and _pid_alive(kdc_pid))):
        time.sleep(0.2)
    assert not _pid_alive(pid), "Dovecot (pid %d) still runs" % pid
    assert not (kdc_pid and _pid_alive(kdc_pid)), "krb5kdc (pid %d) still runs" % kdc_pid
    assert not STATE.exists()
    assert not os.path.exists(inst_dir)


def test_printed_commands_parsing():
    """The parser on the demo's layout (continuation lines, comments)."""
    text = ("altpop demo is running (Dovecot pid 1, files in /x).\n\n"
            "  altpop:        pop3 127.0.0.1:1   pop3s 127.0.0.1:2\n\n"
            "Try:\n"
            "  curl -u demo:demo pop3://127.0.0.1:1/          # list\n"
            "  fetchmail -p pop3 -P 1 -u demo -a -k --nodetach --sslproto '' \\\n"
            "      --mda 'cat' 127.0.0.1                      # (password: demo)\n\n"
            "KPOP (realm R) on 127.0.0.1:3, with a ticket ready:\n"
            "  A=1 B=2 \\\n    /p/kpop-client -u demo -c 'RETR 1' localhost 3\n\n"
            "The log is /x/dovecot.log.\n"
            "Stop it with: scripts/demo.sh stop\n")
    cmds = printed_commands(text)
    assert cmds == [
        "curl -u demo:demo pop3://127.0.0.1:1/          # list",
        "fetchmail -p pop3 -P 1 -u demo -a -k --nodetach --sslproto '' "
        "--mda 'cat' 127.0.0.1                      # (password: demo)",
        "A=1 B=2 /p/kpop-client -u demo -c 'RETR 1' localhost 3",
        "scripts/demo.sh stop"]
    assert program_and_args(cmds[2]) == (
        "/p/kpop-client", ["-u", "demo", "-c", "RETR 1", "localhost", "3"])
    assert program_and_args(cmds[0])[1][-1] == "pop3://127.0.0.1:1/"


# --------------------------------------------------------------------------
# kpop-client: every address of the host, in order


# in a private mount namespace: our hosts file over /etc/hosts, the
# resolver's order for localhost (the client's hints), then the client
NS_SCRIPT = r"""set -e
mount --bind "$1" /etc/hosts
port=$2
shift 2
/usr/bin/python3 -c 'import socket, sys
print("ORDER", " ".join(a[4][0] for a in socket.getaddrinfo(
    "localhost", sys.argv[1], type=socket.SOCK_STREAM)))' "$port"
exec "$@"
"""


class OpeningServer(threading.Thread):
    """Listens on 127.0.0.1 only: takes one connection, reads the sendauth
    opening (two frames), answers verdict 1 (bad sendauth version: no
    Kerberos needed) and closes."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen(1)
        self.sock.settimeout(0.2)
        self.stop = threading.Event()
        self.peer = None
        self.opening = b""

    def run(self):
        while not self.stop.is_set():
            try:
                conn, self.peer = self.sock.accept()
                break
            except socket.timeout:
                continue
            except OSError:
                return
        else:
            return
        with conn:
            conn.settimeout(30)
            for _ in range(2):
                head = self._read(conn, 4)
                self.opening += head + self._read(conn, struct.unpack(">I", head)[0])
            conn.sendall(b"\x01")

    @staticmethod
    def _read(conn, n):
        data = b""
        while len(data) < n:
            chunk = conn.recv(n - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def close(self):
        self.stop.set()
        self.join(30)
        self.sock.close()


@pytest.fixture
def kpop_client_bin():
    if not KPOP_CLIENT.exists():
        if _require():
            pytest.fail("%s not built (make)" % KPOP_CLIENT, pytrace=False)
        pytest.skip("%s not built (configure found no krb5?)" % KPOP_CLIENT)
    if not os.path.exists(UNSHARE):
        pytest.fail("%s missing (apt-get install util-linux)" % UNSHARE)
    return KPOP_CLIENT


def test_kpop_client_tries_every_address(kpop_client_bin, workdir):
    """localhost -> ::1, 127.0.0.1 and a server on 127.0.0.1 only: the
    client is refused on ::1 and connects to 127.0.0.1; with no server at
    all it reports the last error naming host:port."""
    # [::1]:port held bound but not listening: connecting there is refused
    # and nothing else can take it meanwhile
    v6 = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    try:
        for _ in range(50):
            port = harness.free_ports(1)[0]
            try:
                v6.bind(("::1", port))
                break
            except OSError as exc:
                if exc.errno == errno.EADDRNOTAVAIL:
                    _unavailable("no IPv6 loopback (::1) on this machine")
        else:
            pytest.fail("no port free on both ::1 and 127.0.0.1")
        hosts = os.path.join(workdir, "hosts")
        with open(hosts, "w") as f:
            f.write(hosts_v6_first())
        os.chmod(hosts, 0o644)
        krb5_conf = os.path.join(workdir, "krb5.conf")
        with open(krb5_conf, "w") as f:
            f.write("[libdefaults]\n\tdefault_realm = ALTPOP.TEST\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("KRB5")}
        env["KRB5_CONFIG"] = krb5_conf
        env["KRB5CCNAME"] = "FILE:%s" % os.path.join(workdir, "no-ccache")
        # raw mode with a replay file: no ticket is needed before the
        # server's verdict
        argv = [UNSHARE, "-m", "/bin/sh", "-c", NS_SCRIPT, "sh", hosts, str(port),
                str(kpop_client_bin), "-t", "20", "-R", "-r", "/dev/null",
                "-u", "demo", "localhost", str(port)]

        def run():
            res = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 timeout=COMMAND_TIMEOUT)
            return (res.returncode, res.stdout.decode("utf-8", "replace"),
                    res.stderr.decode("utf-8", "replace"))

        server = OpeningServer(port)
        server.start()
        try:
            status, out, err = run()
        finally:
            server.close()
        lines = out.splitlines()
        order = [l.split()[1:] for l in lines if l.startswith("ORDER ")]
        assert order and order[0][:1] == ["::1"] and "127.0.0.1" in order[0], (
            "the namespace's localhost does not resolve to ::1 first: %s\n%s"
            % (order, err))
        assert server.peer is not None and server.peer[0] == "127.0.0.1", (
            "no connection to 127.0.0.1 (rc %d)\n%s\n%s" % (status, out, err))
        assert server.opening == (struct.pack(">I", 19) + b"KRB5_SENDAUTH_V1.0\0"
                                  + struct.pack(">I", 9) + b"KPOPV1.0\0")
        assert "VERDICT 1" in lines and status == 2, (status, out, err)
        assert "Sanitizer" not in err, err

        # nothing listens on either address: the last error, host:port named
        status, out, err = run()
        assert status == 3, (status, out, err)
        assert "kpop-client: connect(localhost:%d): Connection refused" % port \
            in err.splitlines(), err
    finally:
        v6.close()
