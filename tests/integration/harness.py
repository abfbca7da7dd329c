"""Throw-away Dovecot instances for the altpop integration tests.

A DovecotInstance owns a private directory under /tmp with its own base_dir,
state_dir, log file, passwd-file, self-signed certificate, mail homes and
configuration (generated from dovecot-conf/instance/<major>/*.conf.in, the
templates for the installed Dovecot, 2.3 or 2.4).  Per-test settings are
written with setting()/settings() (2.3 names, converted for 2.4).  Dovecot is
started in the foreground inside a private mount namespace, where private
copies of $moduledir/settings and $moduledir/auth (the system's modules plus
the staged altpop modules) are bind-mounted over the system directories, so
uninstalled modules load without touching the system.

Run as a script for a demo instance:
    python3 tests/integration/harness.py [--altpop STAGE_DIR] [--user NAME:PW]
"""

import contextlib
import fcntl
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = REPO_ROOT / "dovecot-conf" / "instance"
DOVECOT_LIBEXECDIR = "/usr/lib/dovecot"
SYS_MODULEDIR = "/usr/lib/dovecot/modules"
DOVECOT = "/usr/sbin/dovecot"
DOVECONF = "/usr/bin/doveconf"
DOVECOT_CONFIG_H = "/usr/include/dovecot/config.h"

DEFAULT_USERS = {"alice": "alicepw", "bob": "bobpw"}
START_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0
STAGE_LOCK = "/tmp/altpop-stage.lock"

# Listener names per login service, with the placeholder that carries the port.
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


class HarnessError(RuntimeError):
    pass


# --------------------------------------------------------------------------
# the installed Dovecot: version, templates, settings syntax


def _detect_version():
    """(major, minor, micro) of the Dovecot that is installed: from
    `dovecot --version` ("2.3.19.1 (9b53102964)", "2.4.1-4 (7d8c0e5759)"),
    else from the headers' config.h."""
    try:
        out = subprocess.run([DOVECOT, "--version"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout.decode()
        m = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?", out)
        if m:
            return tuple(int(x or 0) for x in m.groups())
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        text = Path(DOVECOT_CONFIG_H).read_text()
        parts = [re.search(r"#define DOVECOT_VERSION_%s (\d+)" % k, text)
                 for k in ("MAJOR", "MINOR", "MICRO")]
        if all(parts):
            return tuple(int(p.group(1)) for p in parts)
    except OSError:
        pass
    return None


DOVECOT_VERSION = _detect_version()
# "2.3" or "2.4": picks dovecot-conf/instance/<major>/ and the settings syntax
DOVECOT_MAJOR = "%d.%d" % DOVECOT_VERSION[:2] if DOVECOT_VERSION else None
SUPPORTED_MAJORS = ("2.3", "2.4")
IS_24 = DOVECOT_MAJOR == "2.4"


# Log wording that Dovecot changed in 2.4 (login-common writes these lines
# for altpop-login too): the successful login ("Login: user=<...>" became
# "Logged in: user=<...>") and a session that ends before login
# ("Disconnected: <reason>" became "Login aborted: <reason>").
LOG_LOGGED_IN = "Logged in" if IS_24 else "Login"
LOG_LOGIN_ABORTED = "Login aborted" if IS_24 else "Disconnected"
# ... and QUIT before login: "Disconnected: Aborted login by logging out"
# became "Login aborted: Logged out"
LOG_LOGOUT_BEFORE_LOGIN = "Logged out" if IS_24 else "Aborted login by logging out"


def auth_log_rx(level, mech, user=r"[^,]*", rip=r"[^,]*"):
    """Regex for the start of a line the auth process logs about a request
    of mechanism mech, up to the message: 2.3 writes
    "auth: Info: kpop(bob,127.0.0.12,<session>): ...", 2.4 writes
    "auth(bob,127.0.0.12,sasl:kpop)<session>: Info: kpop: ..."."""
    if IS_24:
        return r"auth\(%s,%s,sasl:%s\)<[^>]*>: %s: %s: " % (user, rip, mech, level, mech)
    return r"auth: %s: %s\(%s,%s,[^)]*\): " % (level, mech, user, rip)


def template_dir():
    """dovecot-conf/instance/<major>: the instance templates for the
    installed Dovecot."""
    if DOVECOT_MAJOR not in SUPPORTED_MAJORS:
        raise HarnessError("no instance templates for Dovecot %s (have %s)"
                           % (DOVECOT_MAJOR or "(not found: %s --version failed)"
                              % DOVECOT, ", ".join(SUPPORTED_MAJORS)))
    return TEMPLATES / DOVECOT_MAJOR


def config_header():
    """What a configuration file of the installed Dovecot must start with
    (2.4: the config and storage versions the settings are written for)."""
    if IS_24:
        return "dovecot_config_version = 2.4.1\ndovecot_storage_version = 2.4.1\n"
    return ""


# Settings are written as for Dovecot 2.3 (the names and %-variables of 2.3)
# and turned into the installed version's form by setting().  For 2.4 only
# the handful the tests, the demo and the benchmark use are converted; any
# other setting passes through unchanged (altpop's own altpop_* keep their
# names on 2.4, and their format values are not expanded by the settings
# reader, so "%v.%u" or "%{host}" stay as written).

# 2.3 one-letter variables -> 2.4 variable (with filters), per setting
_VARS_UIDL = {"u": "uid", "v": "uidvalidity", "m": "md5", "f": "filename",
              "g": "guid"}
_VARS_USER = {"u": "user", "n": "user | username", "d": "user | domain"}


def vars_to_24(fmt, variables):
    """A 2.3 %-format to 2.4's %{...} syntax: %u %Lu %08Xu %{name} %%.
    Forms the tests do not use raise ValueError rather than guess."""
    out = []
    pos = 0
    rx = re.compile(r"%(?:(%)|\{([^}]*)\}|(0?)(\d*)([LUX]*)([a-zA-Z]))")
    while True:
        m = rx.search(fmt, pos)
        if m is None:
            out.append(fmt[pos:])
            return "".join(out)
        out.append(fmt[pos:m.start()])
        pos = m.end()
        percent, name, zero, width, mods, letter = m.groups()
        if percent:
            out.append("%%")
            continue
        if name is not None:
            out.append("%%{%s}" % name)
            continue
        if letter not in variables:
            raise ValueError("no 2.4 form known for %%%s in %r" % (letter, fmt))
        expr = variables[letter]
        for mod in mods:
            if mod == "X":
                if width and not zero:
                    raise ValueError("%r: width without 0 in %r" % (m.group(0), fmt))
                expr += " | hex(%s)" % width if width else " | hex"
            elif mod == "L":
                expr += " | lower"
            elif mod == "U":
                expr += " | upper"
        if width and "X" not in mods:
            raise ValueError("%r: width without X in %r" % (m.group(0), fmt))
        out.append("%%{%s}" % expr)


def _line(name, value):
    return "%s = %s\n" % (name, value)


def _bool_not(value):
    v = value.strip().lower()
    if v not in ("yes", "no"):
        raise ValueError("not a boolean: %r" % value)
    return "no" if v == "yes" else "yes"


def _time_24(value):
    """2.4 wants a unit on times: a bare number of 2.3 meant seconds."""
    v = value.strip()
    return v + " secs" if v.isdigit() else v


def _mail_location_24(value):
    """"driver:path[:INBOX=..:INDEX=..:CONTROL=..]" -> mail_driver, mail_path ..."""
    parts = value.split(":")
    lines = [_line("mail_driver", parts[0])]
    if len(parts) > 1 and parts[1]:
        lines.append(_line("mail_path", parts[1]))
    params = {"INBOX": "mail_inbox_path", "INDEX": "mail_index_path",
              "CONTROL": "mail_control_path"}
    for param in parts[2:]:
        key, _, val = param.partition("=")
        if key not in params:
            raise ValueError("mail_location parameter %r: no 2.4 form known" % key)
        lines.append(_line(params[key], val))
    return "".join(lines)


def _import_environment_24(value):
    """"NAME NAME=value ..." -> import_environment { } (which 2.4 merges with
    its defaults)."""
    body = []
    for item in value.split():
        key, eq, val = item.partition("=")
        body.append("  %s = %s\n" % (key, val if eq else "%%{env:%s}" % key))
    return "import_environment {\n%s}\n" % "".join(body)


def _ssl_file_24(name):
    def conv(value):
        v = value.strip()
        if not v.startswith("<"):
            raise ValueError("%s: 2.4 takes a file name: %r" % (name, value))
        return _line(name, v[1:].strip())
    return conv


SETTINGS_24 = {
    "disable_plaintext_auth": lambda v: _line("auth_allow_cleartext", _bool_not(v)),
    "mail_location": _mail_location_24,
    "ssl_cert": _ssl_file_24("ssl_server_cert_file"),
    "ssl_key": _ssl_file_24("ssl_server_key_file"),
    "pop3_uidl_format": lambda v: _line("pop3_uidl_format", vars_to_24(v, _VARS_UIDL)),
    "auth_username_format": lambda v: _line("auth_username_format",
                                            vars_to_24(v, _VARS_USER)),
    "import_environment": _import_environment_24,
    # inside service { } blocks
    "service_count": lambda v: _line("restart_request_count", v),
    "idle_kill": lambda v: _line("idle_kill_interval", _time_24(v)),
    "address": lambda v: _line("listen", v),
    "altpop_idle_timeout": lambda v: _line("altpop_idle_timeout", _time_24(v)),
}


def setting(name, value):
    """The line(s) "name = value" in the installed Dovecot's syntax, name and
    value written as for Dovecot 2.3: setting("disable_plaintext_auth", "no")
    is "auth_allow_cleartext = yes" on 2.4."""
    value = str(value)
    if IS_24 and name in SETTINGS_24:
        return SETTINGS_24[name](value)
    return _line(name, value)


def settings(pairs=(), **kwargs):
    """setting() for each (name, value) of pairs (a dict or a sequence of
    pairs) and of kwargs, joined."""
    items = list(pairs.items() if isinstance(pairs, dict) else pairs)
    items += list(kwargs.items())
    return "".join(setting(name, value) for name, value in items)


# --------------------------------------------------------------------------
# staging of the altpop build


class Stage:
    """Files of altpop installed with `make install DESTDIR=root`.

    available is False (with reason) when there is nothing to use; failed is
    True when the build tree exists but installing it did not work.
    """

    def __init__(self, root=None, available=False, reason="", failed=False):
        self.root = Path(root) if root else None
        self.available = available
        self.reason = reason
        self.failed = failed
        self.login = None
        self.mail = None
        self.settings_modules = []
        self.auth_modules = []
        # ASan/UBSan runtimes the build links (configure --enable-sanitizers)
        self.sanitizer_runtimes = []
        if self.root is not None and available:
            self._scan()

    def _find(self, name):
        expected = self.root / DOVECOT_LIBEXECDIR.lstrip("/") / name
        if expected.exists():
            return expected
        hits = [p for p in self.root.rglob(name) if p.is_file()]
        return hits[0] if hits else None

    def _scan(self):
        self.login = self._find("altpop-login")
        self.mail = self._find("altpop")
        sdir = self.root / SYS_MODULEDIR.lstrip("/") / "settings"
        adir = self.root / SYS_MODULEDIR.lstrip("/") / "auth"
        self.settings_modules = sorted(sdir.glob("*.so")) if sdir.is_dir() else []
        self.auth_modules = sorted(adir.glob("*.so")) if adir.is_dir() else []
        missing = []
        if self.login is None:
            missing.append("altpop-login")
        if self.mail is None:
            missing.append("altpop")
        if not any(p.name == "libaltpop_settings.so" for p in self.settings_modules):
            missing.append("modules/settings/libaltpop_settings.so")
        if missing:
            self.available = False
            self.failed = True
            self.reason = ("make install did not stage: " + ", ".join(missing)
                           + " (under %s)" % self.root)
            return
        self.sanitizer_runtimes = sanitizer_runtimes(self.mail)

    @property
    def has_kpop(self):
        return any(p.name == "libmech_kpop.so" for p in self.auth_modules)

    def __repr__(self):
        return "Stage(root=%s, available=%s, reason=%r)" % (
            self.root, self.available, self.reason)


def stage_altpop(destdir, repo=REPO_ROOT, timeout=600):
    """Run `make install DESTDIR=destdir` in an already configured tree."""
    repo = Path(repo)
    if not (repo / "Makefile").exists():
        return Stage(available=False,
                     reason="altpop is not configured/built (no Makefile in the "
                            "repository root): run ./autogen.sh && ./configure && make")
    destdir = Path(destdir)
    if destdir.exists():
        shutil.rmtree(destdir)
    try:
        # Concurrent test sessions must not run make in the same tree at once.
        with open(STAGE_LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            res = subprocess.run(["make", "-C", str(repo), "install",
                                  "DESTDIR=%s" % destdir],
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=timeout)
    except subprocess.TimeoutExpired:
        return Stage(available=False, failed=True,
                     reason="make install timed out after %ss" % timeout)
    if res.returncode != 0:
        out = res.stdout.decode("utf-8", "replace")
        return Stage(available=False, failed=True,
                     reason="make install DESTDIR=... failed (exit %d):\n%s"
                            % (res.returncode, out[-4000:]))
    stage = Stage(destdir, available=True)
    if stage.available:
        check_stage(stage)
    return stage


# --------------------------------------------------------------------------
# sanitizer builds (configure --enable-sanitizers)
#
# The altpop binaries carry the ASan/UBSan runtime; its modules load into
# Dovecot's own processes (the master and the doveconf it runs, config,
# auth), which get the runtime preloaded (LD_PRELOAD).  The report settings
# reach every process (import_environment).  Every report goes to files in
# <instance>/sanitizer/ (stderr and the Dovecot log are scanned too), and an
# instance with a report fails its test when it is removed.

SANITIZER_DIR = "sanitizer"
SANITIZER_SUPPRESSIONS = REPO_ROOT / "tests" / "sanitizer" / "lsan.supp"
SANITIZER_LOG_RX = re.compile(
    r"^.*(?:ERROR: (?:Address|Leak)Sanitizer|runtime error:|"
    r"SUMMARY: (?:Address|Leak|UndefinedBehavior)Sanitizer|"
    r"Sanitizer has encountered a fatal error|ERROR: Can't open file).*$", re.M)


def sanitizer_runtimes(binary):
    """Paths of the ASan/UBSan runtimes binary is linked with ([] for a
    build without sanitizers), libasan first (it must come first)."""
    try:
        out = subprocess.run(["ldd", str(binary)], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return []
    libs = re.findall(r"^\s*lib(asan|ubsan)\.so\S* => (\S+)",
                      out.decode("utf-8", "replace"), re.M)
    return [path for _, path in sorted(libs)]


def sanitizer_environment(directory):
    """Environment for the processes of an instance whose reports go to
    files in directory."""
    common = "log_path=%s/%%s:log_exe_name=1" % directory
    return {
        # halt on the first error (ASan's default), leaks checked at exit
        "ASAN_OPTIONS": (common % "asan") + ":detect_leaks=1:disable_coredump=1",
        "LSAN_OPTIONS": "suppressions=%s/lsan.supp:print_suppressions=0"
                        % Path(directory).parent,
        # built with -fno-sanitize-recover=undefined: the first report ends
        # the process
        "UBSAN_OPTIONS": (common % "ubsan") + ":print_stacktrace=1:halt_on_error=1",
    }


def sanitizer_reports(directory, texts=()):
    """Report files in directory and sanitizer lines in texts, as one string
    ("" when there are none)."""
    found = []
    d = Path(directory)
    if d.is_dir():
        for f in sorted(d.iterdir()):
            text = f.read_text(errors="replace")
            if not text.strip():
                continue
            found.append("== %s\n%s" % (f.name, text[:6000]))
    for name, text in texts:
        lines = SANITIZER_LOG_RX.findall(text or "")
        if lines:
            found.append("== %s\n%s" % (name, "\n".join(lines[:40])))
    return "\n".join(found)


def check_stage(stage):
    """Make sure doveconf accepts an instance config with the staged modules;
    otherwise mark the stage failed (so stock tests still run without it)."""
    inst = DovecotInstance(["pop3", "altpop"], stage=stage)
    try:
        inst.setup()
        res = inst.doveconf(["-n"])
        if res.returncode != 0:
            what = ("killed by signal %d" % -res.returncode if res.returncode < 0
                    else "exit %d" % res.returncode)
            stage.available = False
            stage.failed = True
            stage.reason = ("doveconf -n with the staged altpop modules failed (%s):\n%s"
                            % (what, (res.stderr or res.stdout)[-3000:]))
    finally:
        inst.cleanup()
    return stage


# --------------------------------------------------------------------------
# small system helpers


def ensure_vmail():
    """Return (uid, gid) of the vmail user, creating it when missing."""
    try:
        pw = pwd.getpwnam("vmail")
    except KeyError:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--shell", "/usr/sbin/nologin", "vmail"],
                       check=True, timeout=30)
        pw = pwd.getpwnam("vmail")
    if pw.pw_uid == 0:
        raise HarnessError("vmail has uid 0: Dovecot refuses that")
    return pw.pw_uid, pw.pw_gid


# Test servers listen on ports below the kernel's ephemeral range: a port
# from that range (what bind(0) hands out) can be taken as the source port of
# some client connection between our check and Dovecot's bind.
PORT_RANGE_LOW = 20000


def _ephemeral_low():
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            return int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def free_ports(count, host="127.0.0.1"):
    """Distinct ports that were free on host, picked at random below the
    ephemeral range (all held at once while checking)."""
    import random
    high = max(_ephemeral_low(), PORT_RANGE_LOW + 1000)
    socks = []
    try:
        while len(socks) < count:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.bind((host, random.randrange(PORT_RANGE_LOW, high)))
            except OSError:
                s.close()
                continue
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def port_is_free(port, host="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def listening_tcp_ports():
    """Set of (ip, port) in LISTEN state, read from /proc (no connection made)."""
    result = set()
    for path in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    if parts[3] != "0A":
                        continue
                    addr, port = parts[1].split(":")
                    if len(addr) == 8:
                        ip = socket.inet_ntoa(bytes.fromhex(addr)[::-1])
                    else:
                        ip = addr
                    result.add((ip, int(port, 16)))
        except FileNotFoundError:
            pass
    return result


def make_cert(directory):
    """Self-signed EC certificate for localhost / 127.0.0.1."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                    "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "7",
                    "-subj", "/CN=localhost",
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                   check=True, timeout=60,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    os.chmod(key, 0o600)
    return cert, key


def _mnt_ns(pid):
    try:
        return os.readlink("/proc/%s/ns/mnt" % pid)
    except OSError:
        return None


def _stat_fields(pid):
    try:
        with open("/proc/%s/stat" % pid) as f:
            data = f.read()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its ')'.
    return data[data.rindex(")") + 2:].split()


def _start_time(pid):
    fields = _stat_fields(pid)
    return int(fields[19]) if fields else None


def _session_id(pid):
    fields = _stat_fields(pid)
    return int(fields[3]) if fields else None


def _is_zombie(pid):
    fields = _stat_fields(pid)
    return fields is None or fields[0] in ("Z", "X")


def _pids_in_mnt_ns(ns):
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _mnt_ns(entry) == ns:
            pids.append(int(entry))
    return pids


INSTANCE_PREFIX = "altpop-it-"


def _die_with_parent():
    """In the child before exec: SIGTERM when the harness process dies, so a
    killed test run leaves no Dovecot behind (dovecot keeps it across exec)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)      # PR_SET_PDEATHSIG


def _write_pid_file(path, pid):
    Path(path).write_text("%d %s\n" % (pid, _start_time(pid)))


def _pid_file_alive(path):
    """(pid, alive) for a file of _write_pid_file; alive means the very
    process that wrote it (same start time) still runs."""
    try:
        pid_s, st_s = Path(path).read_text().split()
        pid = int(pid_s)
    except (OSError, ValueError):
        return None, False
    st = _start_time(pid)
    return pid, st is not None and str(st) == st_s and not _is_zombie(pid)


def reap_stale_instances(tmpdir="/tmp"):
    """Remove instance directories whose harness process is gone (a test run
    killed with SIGKILL), stopping their Dovecot first if it still runs.
    Directories of live harness processes are never touched."""
    reaped = []
    for d in Path(tmpdir).glob(INSTANCE_PREFIX + "*"):
        owner = d / "owner.pid"
        if not owner.exists():
            continue
        _, owner_alive = _pid_file_alive(owner)
        if owner_alive:
            continue
        master, master_alive = _pid_file_alive(d / "master.pid")
        if master_alive:
            with contextlib.suppress(ProcessLookupError):
                os.kill(master, signal.SIGTERM)
            deadline = time.monotonic() + STOP_TIMEOUT
            while _pid_file_alive(d / "master.pid")[1] and time.monotonic() < deadline:
                time.sleep(0.1)
            if _pid_file_alive(d / "master.pid")[1]:
                continue
        shutil.rmtree(d, ignore_errors=True)
        reaped.append(d)
    return reaped


_source_counter = [1]


def next_source_ip():
    """A loopback address not handed out before in this process (127.0.0.2..)."""
    _source_counter[0] += 1
    n = _source_counter[0]
    if n > 250 * 250:
        raise HarnessError("out of loopback source addresses")
    return "127.0.%d.%d" % (n // 250, 2 + n % 250)


# --------------------------------------------------------------------------


class DovecotInstance:
    """A private Dovecot, started in __enter__ and removed in __exit__.

    protocols: login protocols to enable ("pop3", "altpop"); "lmtp" is added
    unless lmtp=False.  users: dict name->password (or list of pairs) added
    to the defaults alice/alicepw and bob/bobpw.  extra / extra_pop3 /
    extra_altpop: settings text for the global scope and the protocol blocks.
    keep (default: ALTPOP_IT_KEEP=1): keep the directory after stopping; a
    kept instance is also not tied to this process (no SIGTERM when it dies,
    never reaped), so a demo may leave it running.  Otherwise Dovecot gets
    SIGTERM when the thread that started it dies: start instances from the
    main thread.
    """

    _seq = 0

    def __init__(self, protocols=("pop3",), users=None, stage=None, extra="",
                 extra_pop3="", extra_altpop="", lmtp=True, default_users=True,
                 keep=None, name="t"):
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
        self._deliver_seq = 0
        self._last_stamp = 0
        self.uid = self.gid = None
        # user -> passdb extra fields ("k5principals=a@R nologin"), set
        # before setup()
        self.passdb_fields = {}
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

    def add_user(self, user, password):
        """Add a user.  auth re-reads the passwd-file when it changed, but
        checks at most once a second: this waits that second out."""
        self.users[user] = password
        self._write_passwd()
        self.maildir(user)
        if self.running:
            time.sleep(1.1)

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
        fixed = getattr(self, "fixed_ports", None) or {}
        free_fixed = {ph: port for ph, port in fixed.items() if port_is_free(port)}
        ports = [free_fixed.get(ph, port) for (_, _, ph), port in zip(want, ports)]
        values = {}
        for (proto, listener, ph), port in zip(want, ports):
            values[ph] = port
            if proto in self.protocols:
                self.ports[(proto, listener)] = port
        DovecotInstance._seq += 1
        values.update({
            "TMP": self.tmp,
            "INSTANCE": "altpop-it-%d-%d" % (os.getpid(), DovecotInstance._seq),
            "PROTOCOLS": " ".join(self.protocols),
            "EXTRA": self.extra,
            "EXTRA_POP3": self.extra_pop3,
            "EXTRA_ALTPOP": self.extra_altpop,
            "ALTPOP_INCLUDE": "# altpop not enabled",
        })
        if "altpop" in self.protocols:
            values.update({
                "ALTPOP_LOGIN": self.stage.login,
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
            text += "service altpop-login {\n  chroot =\n}\n"
        return text

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
        if self.tmp is None:
            self.setup()
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
            ready = ready and wanted <= self._listening()
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
        """(ip, port) pairs listening where this instance's listeners are."""
        return listening_tcp_ports()

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
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT)
        # Whatever of the snapshot is still running (same pid, same start
        # time, not yet a zombie) gets SIGTERM, then SIGKILL.
        deadline = time.monotonic() + STOP_TIMEOUT
        # a sanitizer build's processes check for leaks when they exit:
        # give them the time before SIGKILL
        term_until = time.monotonic() + (STOP_TIMEOUT / 2 if self.sanitize else 0)
        sig = signal.SIGTERM
        while True:
            left = [pid for pid, st in ours.items()
                    if st is not None and _start_time(pid) == st and not _is_zombie(pid)]
            if not left:
                break
            for pid in left:
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

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.cleanup()
            raise
        return self

    def __exit__(self, *exc):
        try:
            self.stop()
        finally:
            self.cleanup()
        return False

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

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

    # ---- mail -----------------------------------------------------------

    def home(self, user):
        return self.tmp / "home" / user

    def maildir(self, user):
        """Path of user's ~/Maildir, created (owned by vmail) when missing."""
        home = self.home(user)
        md = home / "Maildir"
        for d in (home, md, md / "cur", md / "new", md / "tmp"):
            if not d.exists():
                d.mkdir(mode=0o700)
                os.chown(d, self.uid, self.gid)
        return md

    def deliver(self, user, raw, flags=None):
        """Store raw bytes as is in user's Maildir/new (or cur with flags).

        File names sort in delivery order, so message numbers follow the
        order of deliver() calls.  Returns the path."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        md = self.maildir(user)
        stamp = max(time.time_ns() // 1000, self._last_stamp + 1)
        self._last_stamp = stamp
        self._deliver_seq += 1
        base = "%d.M%dP%dQ%d.altpop-test" % (stamp // 1000000, stamp % 1000000,
                                              os.getpid(), self._deliver_seq)
        tmp_path = md / "tmp" / base
        with open(tmp_path, "wb") as f:
            f.write(raw)
        os.chown(tmp_path, self.uid, self.gid)
        os.chmod(tmp_path, 0o600)
        if flags is None:
            final = md / "new" / base
        else:
            final = md / "cur" / ("%s:2,%s" % (base, flags))
        os.rename(tmp_path, final)
        return final

    def deliver_lmtp(self, user, raw, sender="sender@example.org", timeout=30,
                     orcpt=None):
        """Deliver through Dovecot's LMTP (adds Return-Path/Delivered-To).
        orcpt: the original recipient (RCPT ... ORCPT=rfc822;addr), which
        Delivered-To shows with lmtp_hdr_delivery_address = original."""
        if isinstance(raw, str):
            raw = raw.encode("utf-8")
        # on the wire lines end in CRLF, as any MTA sends them
        raw = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
        options = ["ORCPT=rfc822;%s" % orcpt] if orcpt else []
        lmtp = smtplib.LMTP(str(self.tmp / "run" / "lmtp"), timeout=timeout)
        try:
            lmtp.ehlo()
            code, msg = lmtp.mail(sender)
            if code != 250:
                raise HarnessError("LMTP MAIL FROM refused: %r" % msg)
            code, msg = lmtp.rcpt(user, options=options)
            if code != 250:
                raise HarnessError("LMTP RCPT TO refused: %r" % msg)
            code, msg = lmtp.data(raw)
            if code != 250:
                raise HarnessError("LMTP DATA refused: %r" % msg)
        finally:
            with contextlib.suppress(Exception):
                lmtp.quit()

    def messages(self, user):
        """Files in user's Maildir new+cur in delivery order (the time and
        microseconds at the start of a maildir file name; a plain sort of
        the names would put M156318 before M74618)."""
        md = self.maildir(user)
        files = [p for d in ("new", "cur") for p in (md / d).iterdir() if p.is_file()]

        def delivered(p):
            m = re.match(r"(\d+)\.M(\d+)P", p.name)
            return (int(m.group(1)), int(m.group(2)), p.name) if m else (0, 0, p.name)
        return sorted(files, key=delivered)

    def message_count(self, user):
        return len(self.messages(user))


def _demo():
    import argparse
    ap = argparse.ArgumentParser(description="start a throw-away Dovecot instance")
    ap.add_argument("--altpop", metavar="STAGE_DIR",
                    help="DESTDIR of `make install` to enable altpop")
    ap.add_argument("--user", action="append", default=[], metavar="NAME:PW")
    ap.add_argument("--extra", default="", help="extra settings text")
    args = ap.parse_args()
    protocols, stage = ["pop3"], None
    if args.altpop:
        stage = Stage(args.altpop, available=True)
        if not stage.available:
            raise SystemExit(stage.reason)
        protocols.append("altpop")
    users = dict(u.split(":", 1) for u in args.user)
    with DovecotInstance(protocols, users=users, stage=stage, extra=args.extra) as inst:
        print("instance dir: %s" % inst.tmp)
        print("config:       %s" % inst.conf)
        print("log:          %s" % (inst.tmp / "dovecot.log"))
        for (proto, listener), port in sorted(inst.ports.items()):
            print("%-8s %-13s 127.0.0.1:%d" % (proto, listener, port))
        print("users: %s" % ", ".join("%s/%s" % kv for kv in inst.users.items()))
        print("Ctrl-C stops and removes the instance.")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _demo()
