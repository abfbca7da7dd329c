# SPDX-License-Identifier: LGPL-2.1-only
"""Real legacy POP3 servers for migration tests: Courier pop3d, popa3d
(and the message set they all serve).

The servers come from the Debian packages of the release the test runs on.
They conflict with dovecot-pop3d, so they are never installed: their .debs
are fetched with `apt-get download` into a cache, unpacked with
`dpkg-deb -x`, and each server runs inside a private mount namespace
(`unshare -m`) where overlay mounts put the unpacked files and a private
/etc (passwd, shadow, the server's configuration) over the system's.
Servers listen on 127.0.0.1 on a free port and are stopped through the
process group of the PID we started.

OldServer(kind, workdir): kind is "courier" (Maildir, UIDLs from its
courierpop3dsizelist), "cyrus" (Cyrus spool, mail delivered by its own
lmtpd) or "popa3d" (mbox in /var/mail); .add(raw) stores a message the way
the server's own delivery would (Cyrus: after .start()), .start(), .port,
.stop().
OldServer.unavailable(kind) says why a kind can't run here (or None).
"""

import contextlib
import fcntl
import hashlib
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

import harness

USER = "olduser"
PASSWORD = "oldpw-%d" % 4711

# packages to unpack per server (names differ between Debian releases:
# courier-unicode's soname; from courier-authlib 0.73 on (forky) the
# authlib libraries and the auth modules, authuserdb among them, are in
# libcourier-authlib0 and makeuserdb is in courier-authlib, and there is
# no courier-authlib-userdb any more)
PACKAGES = {
    "popa3d": {
        "bookworm": ["popa3d", "courier-base", "libcourier-unicode4"],
        "trixie": ["popa3d", "courier-base", "libcourier-unicode8"],
        "forky": ["popa3d", "courier-base", "libcourier-unicode12"],
    },
    "courier": {
        "bookworm": ["courier-pop", "courier-base", "libcourier-unicode4",
                     "courier-authdaemon", "courier-authlib",
                     "courier-authlib-userdb", "libltdl7"],
        "trixie": ["courier-pop", "courier-base", "libcourier-unicode8",
                   "courier-authdaemon", "courier-authlib",
                   "courier-authlib-userdb", "libltdl7"],
        "forky": ["courier-pop", "courier-base", "libcourier-unicode12",
                  "courier-authdaemon", "courier-authlib",
                  "libcourier-authlib0", "libltdl7"],
    },
    # cyrus-common (master, lmtpd) comes with cyrus-clients, which the
    # tests install anyway; pop3d and saslpasswd2 are unpacked
    "cyrus": {
        "bookworm": ["cyrus-pop3d", "sasl2-bin"],
        "trixie": ["cyrus-pop3d", "sasl2-bin"],
        "forky": ["cyrus-pop3d", "sasl2-bin"],
    },
    # not a server: the mbox to Maildir converter admins use
    "mb2md": {"bookworm": ["mb2md"], "trixie": ["mb2md"], "forky": ["mb2md"]},
    # not a server either: fail2ban's filters and fail2ban-regex (pure
    # Python), unpacked so that no fail2ban daemon starts on the machine
    "fail2ban": {"bookworm": ["fail2ban"], "trixie": ["fail2ban"],
                 "forky": ["fail2ban"]},
}

# authdaemond itself (/usr/sbin/authdaemond is its start/stop script):
# courier-authlib 0.73 (forky) moved it to /usr/libexec
AUTHDAEMOND = ("usr/libexec/courier-authlib/authdaemond",
               "usr/lib/courier/courier-authlib/authdaemond")

START_TIMEOUT = 30


class OldServerError(Exception):
    pass


def release():
    with open("/etc/os-release") as f:
        for line in f:
            if line.startswith("VERSION_CODENAME="):
                return line.split("=", 1)[1].strip().strip('"')
    return "unknown"


def cache_dir():
    d = Path(tempfile.gettempdir()) / ("altpop-oldservers-" + release())
    d.mkdir(exist_ok=True)
    return d


def unpacked(kind):
    """Directory with the unpacked packages of kind (fetched once; parallel
    test workers take turns)."""
    with open(cache_dir() / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _unpack(kind)


def _unpack(kind):
    pkgs = PACKAGES[kind].get(release())
    if pkgs is None:
        raise OldServerError("no package list for Debian %s" % release())
    root = cache_dir() / ("root-" + kind)
    stamp = root / ".complete"
    if stamp.exists():
        return root
    debs = cache_dir() / "debs"
    debs.mkdir(exist_ok=True)
    os.chmod(debs, 0o755)
    for pkg in pkgs:
        if not list(debs.glob(pkg + "_*.deb")):
            res = subprocess.run(["apt-get", "download", "-q", pkg], cwd=debs,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=300)
            if res.returncode != 0:
                raise OldServerError("apt-get download %s failed: %s"
                                     % (pkg, res.stdout.decode()[-500:]))
    if root.exists():
        shutil.rmtree(root)
    root.mkdir()
    for pkg in pkgs:
        deb = sorted(debs.glob(pkg + "_*.deb"))[-1]
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True,
                       timeout=120)
    stamp.write_text("ok\n")
    return root


def unavailable(kind):
    """Why kind can't run here, or None."""
    if release() not in PACKAGES[kind]:
        return "no %s package list for Debian %s" % (kind, release())
    if kind == "cyrus":
        try:
            pwd.getpwnam("cyrus")
        except KeyError:
            return "no cyrus user: cyrus-common (with cyrus-clients) is not installed"
        if not os.path.exists("/usr/sbin/cyrmaster"):
            return "no /usr/sbin/cyrmaster: cyrus-common is not installed"
    try:
        unpacked(kind)
    except (OldServerError, subprocess.SubprocessError) as e:
        return str(e)
    return None


def free_port():
    return harness.free_ports(1)[0]


def crypt_sha512(password):
    res = subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                         input=password.encode(), stdout=subprocess.PIPE,
                         check=True, timeout=30)
    return res.stdout.decode().strip()


# ---- the message set --------------------------------------------------------

def message_set():
    """Raw messages (LF line ends, as an MTA stores them), in delivery
    order: varied sizes, one without a final newline, repeated header
    fields, one message sent twice (identical bytes), two messages with
    the same header and bodies of different sizes, two with the same
    header and different bodies of the same size."""
    msgs = []

    def msg(n, extra="", body="body of message %d\n", subject=None):
        subject = subject or "message %d" % n
        return ("From: Sender <sender@example.org>\n"
                "To: olduser@example.org\n"
                "Subject: %s\n"
                "Date: Mon, 2 Mar 2026 10:%02d:00 +0000\n"
                "Message-ID: <m%d@example.org>\n%s"
                "\n" % (subject, n, n, extra) + (body % n if "%d" in body else body)
                ).encode()

    msgs.append(msg(1))
    msgs.append(msg(2, body="short"))                       # no final newline
    msgs.append(msg(3, extra="Received: from a by b; Mon, 2 Mar 2026\n"
                             "Received: from c by d; Mon, 2 Mar 2026\n"
                             "X-Tag: one\nX-Tag: two\nX-Tag: one\n"))
    msgs.append(msg(4, body="line %d\n" * 1 + "x" * 70000 + "\n"))  # large
    twice = msg(5, body="the same message delivered twice\n")
    msgs.append(twice)
    msgs.append(msg(6, body="a\n\nb\n.\n..dots\n"))
    msgs.append(twice)                                      # sent twice
    same_hdr = ("From: robot@example.org\nTo: olduser@example.org\n"
                "Subject: report\n\n").encode()
    msgs.append(same_hdr + b"report one\n")                 # same header,
    msgs.append(same_hdr + b"report number two\n")          # other bodies
    msgs.append(msg(10, body="x" * 3000 + "\n"))
    same_hdr = ("From: monitor@example.org\nTo: olduser@example.org\n"
                "Subject: status\n\n").encode()
    msgs.append(same_hdr + b"state: AAAA\n")              # same header and
    msgs.append(same_hdr + b"state: BBBB\n")              # size, other bodies
    return msgs


def new_messages():
    """Mail that arrives after the migration."""
    return [("From: new@example.org\nSubject: after the move %d\n"
             "Message-ID: <new%d@example.org>\n\nnew mail %d\n"
             % (i, i, i)).encode() for i in range(2)]


def mbox_from_line(n):
    return ("From sender@example.org Mon Mar  2 10:%02d:00 2026\n" % n).encode()


def mbox_append(path, raw, n):
    """Append raw as mbox stores it: a From_ line, >From quoting, and an
    empty line after the message (after a newline added if missing)."""
    body = raw if raw.endswith(b"\n") else raw + b"\n"
    lines = body.split(b"\n")
    quoted = b"\n".join(b">" + ln if ln.lstrip(b">").startswith(b"From ")
                        else ln for ln in lines)
    with open(path, "ab") as f:
        f.write(mbox_from_line(n) + quoted + b"\n")


def cyrus_spool_to_mbox(files, path):
    """What admins do to get an mbox out of a Cyrus spool: the message
    files (CRLF) as mbox messages (LF), in UID order."""
    for n, f in enumerate(files, 1):
        mbox_append(path, f.read_bytes().replace(b"\r\n", b"\n"), n)


# ---- servers ----------------------------------------------------------------

class OldServer:
    def __init__(self, kind, workdir):
        self.kind = kind
        self.dir = Path(workdir) / ("old-" + kind)
        self.dir.mkdir()
        # the server runs as the mail user: it must reach its home
        for d in (Path(workdir), self.dir):
            os.chmod(d, os.stat(d).st_mode | 0o711)
        self.root = unpacked(kind)
        self.uid, self.gid = harness.ensure_vmail()
        self.etc = self.dir / "etc"
        self.var = self.dir / "var"
        self.home = self.dir / "home"
        self.spool = self.dir / "spool"
        for d in (self.etc, self.var, self.var / "lib" / "popa3d", self.spool):
            d.mkdir(parents=True)
        os.chmod(self.spool, 0o1777)
        self.home.mkdir(mode=0o700)
        os.chown(self.home, self.uid, self.gid)
        self.port = free_port()
        self.proc = None
        self.pending = []
        self.count = 0
        self._stamp = 0
        self._write_etc()
        if kind == "cyrus":
            self._write_cyrus()
        if kind == "courier":
            md = self.maildir
            for d in (md, md / "cur", md / "new", md / "tmp"):
                d.mkdir(mode=0o700)
                os.chown(d, self.uid, self.gid)

    # -- files

    @property
    def maildir(self):
        return self.home / "Maildir"

    @property
    def mbox(self):
        return self.spool / USER

    def _write_etc(self):
        pwhash = crypt_sha512(PASSWORD)
        passwd = Path("/etc/passwd").read_text()
        shadow = Path("/etc/shadow").read_text()
        group = Path("/etc/group").read_text()
        if "\npopa3d:" not in "\n" + passwd:
            passwd += "popa3d:x:%d:%d::/nonexistent:/usr/sbin/nologin\n" % (
                self.uid, self.gid)
            shadow += "popa3d:*:20000:0:99999:7:::\n"
        passwd += "%s:x:%d:%d::%s:/bin/sh\n" % (USER, self.uid, self.gid,
                                                self.home)
        shadow += "%s:%s:20000:0:99999:7:::\n" % (USER, pwhash)
        (self.etc / "passwd").write_text(passwd)
        (self.etc / "group").write_text(group)
        (self.etc / "shadow").write_text(shadow)
        os.chmod(self.etc / "shadow", 0o640)
        courier = self.etc / "courier"
        courier.mkdir()
        (courier / "authdaemonrc").write_text(
            'authmodulelist="authuserdb"\ndaemons=1\n'
            'authdaemonvar=/run/courier/authdaemon\nDEBUG_LOGIN=0\n'
            'DEFAULTOPTIONS=""\nLOGGEROPTS=""\n')
        userdb = courier / "userdb"
        userdb.write_text("%s\tuid=%d|gid=%d|home=%s|mail=%s|systempw=%s\n"
                          % (USER, self.uid, self.gid, self.home, self.maildir,
                             pwhash))
        os.chmod(userdb, 0o600)

    def _write_cyrus(self):
        cyr = self.dir / "cyrus"
        self.cyrus_dir = cyr
        cyr_pw = pwd.getpwnam("cyrus")
        for d in ("lib", "spool", "sieve", "run", "run/proc", "run/lock",
                  "run/socket"):
            (cyr / d).mkdir(parents=True)
            os.chown(cyr / d, cyr_pw.pw_uid, cyr_pw.pw_gid)
        os.chmod(cyr, 0o755)
        (cyr / "imapd.conf").write_text("\n".join([
            "configdirectory: %s/lib" % cyr,
            "proc_path: %s/run/proc" % cyr,
            "mboxname_lockpath: %s/run/lock" % cyr,
            "defaultpartition: default",
            "partition-default: %s/spool" % cyr,
            "sievedir: %s/sieve" % cyr,
            "servername: oldhost",
            "unixhierarchysep: yes",
            "altnamespace: no",
            "allowplaintext: yes",
            "popminpoll: 0",
            # a message sent twice is delivered twice
            "duplicate" "suppression: 0",
            "autocreate_quota: 0",
            "autocreate_post: 1",
            "sasl_pwcheck_method: auxprop",
            "sasl_auxprop_plugin: sasldb",
            "sasl_sasldb_path: %s/sasldb2" % cyr,
            "sasl_mech_list: PLAIN",
            "lmtpsocket: %s/run/socket/lmtp" % cyr,
            "idlesocket: %s/run/socket/idle" % cyr,
            "notifysocket: %s/run/socket/notify" % cyr,
            "syslog_prefix: oldcyrus",
        ]) + "\n")
        (cyr / "cyrus.conf").write_text(
            'START {\n  recover cmd="ctl_cyrusdb -r -C %s/imapd.conf"\n}\n'
            'SERVICES {\n'
            '  pop3 cmd="pop3d -C %s/imapd.conf" listen="127.0.0.1:%d" prefork=0\n'
            '  lmtpunix cmd="lmtpd -C %s/imapd.conf" listen="%s/run/socket/lmtp" '
            'prefork=0\n}\nEVENTS {\n}\n'
            % (cyr, cyr, self.port, cyr, cyr))

    def add(self, raw):
        """Store a message as the server's own delivery would."""
        self.count += 1
        if self.kind == "cyrus":
            # delivered by start(), all in one LMTP session
            self.pending.append(raw)
        elif self.kind == "courier":
            # Maildir delivery: the file holds the message as is (LF)
            stamp = max(time.time_ns() // 1000, self._stamp + 1)
            self._stamp = stamp
            base = "%d.M%dP%dV%d.oldhost" % (stamp // 1000000, stamp % 1000000,
                                             os.getpid(), self.count)
            tmp = self.maildir / "tmp" / base
            tmp.write_bytes(raw)
            os.chown(tmp, self.uid, self.gid)
            os.rename(tmp, self.maildir / "new" / base)
        else:
            mbox_append(self.mbox, raw, self.count)
            os.chown(self.mbox, self.uid, self.gid)
            os.chmod(self.mbox, 0o600)

    # -- running

    def cyrus_deliver(self, raws):
        """Deliver through Cyrus's lmtpd, in one LMTP session (so that the
        Received: lines it adds are those of one delivery run)."""
        # lmtpd's Received: line holds the time to the second: deliver
        # within one second, as a burst of mail arrives
        while time.time() % 1 > 0.1:
            time.sleep(0.02)
        lmtp = smtplib.LMTP(str(self.cyrus_dir / "run/socket/lmtp"), timeout=30)
        try:
            lmtp.ehlo()
            for raw in raws:
                wire = re.sub(rb"(?<!\r)\n", b"\r\n", raw)
                if not wire.endswith(b"\r\n"):
                    wire += b"\r\n"
                code, msg = lmtp.mail("sender@example.org")
                assert code == 250, msg
                code, msg = lmtp.rcpt(USER)
                if code != 250:
                    raise OldServerError("Cyrus lmtpd refused RCPT: %r" % msg)
                code, msg = lmtp.data(wire)
                if code != 250:
                    raise OldServerError("Cyrus lmtpd refused DATA: %r: %s"
                                         % (msg, self.log_text()))
        finally:
            with contextlib.suppress(Exception):
                lmtp.quit()

    def cyrus_spool(self):
        """The message files of the user's Cyrus INBOX, in UID order."""
        files = [p for p in (self.cyrus_dir / "spool").rglob("*.")
                 if p.is_file() and p.name[:-1].isdigit()]
        return sorted(files, key=lambda p: int(p.name[:-1]))

    def _ns_script(self, command):
        r = self.root
        return "\n".join([
            "set -e",
            "mount -t overlay overlay -o lowerdir=%s:%s/etc:/etc /etc" % (self.etc, r),
            "mount -t overlay overlay -o lowerdir=%s/usr:/usr /usr" % r,
            "mount -t overlay overlay -o lowerdir=%s:/var /var" % self.var,
            "mount --bind %s /var/mail" % self.spool,
            "mount -t tmpfs -o mode=755 tmpfs /run",
            "mkdir -p /run/courier/authdaemon",
            "chmod 750 /run/courier/authdaemon",
            command,
        ])

    def _run_ns(self, command, **kwargs):
        return subprocess.run(["unshare", "-m", "--propagation", "private",
                               "sh", "-c", self._ns_script(command)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              timeout=60, **kwargs)

    def _authdaemond(self):
        for path in AUTHDAEMOND:
            if (self.root / path).is_file():
                return path
        raise OldServerError("no authdaemond in the unpacked %s"
                             % ", ".join(PACKAGES[self.kind][release()]))

    def start(self):
        # (couriertcpd 1.4 has no -noidentlookup; an ident lookup on
        # loopback is refused at once)
        tcpd = ("/usr/sbin/couriertcpd -address=127.0.0.1 -nodnslookup "
                "-maxprocs=10 -maxperip=10 %d " % self.port)
        if self.kind == "courier":
            res = self._run_ns("/usr/sbin/makeuserdb -f %s/courier/userdb"
                               % self.etc)
            if res.returncode != 0:
                raise OldServerError("makeuserdb: %s" % res.stdout.decode())
            command = ("/%s &\n" % self._authdaemond() +
                       "for i in $(seq 100); do "
                       "[ -S /run/courier/authdaemon/socket ] && break; "
                       "sleep 0.1; done\n"
                       "export MAILDIRPATH=Maildir POP3AUTH= POP3AUTH_TLS= "
                       "POP3_PROXY=0\n"
                       "exec " + tcpd +
                       "/usr/lib/courier/courier/courierpop3login "
                       "/usr/lib/courier/courier/courierpop3d Maildir")
        elif self.kind == "cyrus":
            cyr = self.cyrus_dir
            res = self._run_ns("echo '%s' | /usr/sbin/saslpasswd2 -p -c -u oldhost "
                               "-f %s/sasldb2 %s && chown cyrus %s/sasldb2"
                               % (PASSWORD, cyr, USER, cyr))
            if res.returncode != 0:
                raise OldServerError("saslpasswd2: %s" % res.stdout.decode())
            command = ("exec /usr/sbin/cyrmaster -C %s/imapd.conf -M %s/cyrus.conf "
                       "-p %s/run/master.pid" % (cyr, cyr, cyr))
        else:
            command = "exec " + tcpd + "/usr/sbin/popa3d"
        self.log = open(self.dir / "server.log", "wb")
        self.proc = subprocess.Popen(
            ["unshare", "-m", "--propagation", "private", "sh", "-c",
             self._ns_script(command)],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise OldServerError("%s exited: %s" % (self.kind, self.log_text()))
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", self.port), 2) as s:
                    s.settimeout(10)
                    if s.recv(512).startswith(b"+OK"):
                        break
            time.sleep(0.1)
        else:
            self.stop()
            raise OldServerError("%s did not greet on port %d: %s"
                                 % (self.kind, self.port, self.log_text()))
        if self.pending:
            self.cyrus_deliver(self.pending)
            self.pending = []
        return self

    def log_text(self):
        with contextlib.suppress(OSError):
            return (self.dir / "server.log").read_text(errors="replace")[-3000:]
        return ""

    def stop(self):
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        # authdaemond's children may outlive the leader briefly
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc = None
        self.log.close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
