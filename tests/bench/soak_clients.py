# SPDX-License-Identifier: LGPL-2.1-only
"""The soak's clients (tests/bench/soak.py): delete and leave-on-server
POP3 sessions over USER/PASS, AUTH PLAIN, STLS, pop3s, SDPS names and the
front tier, and KPOP sessions (tests/kpop-client) that check UIDLs."""

import socket
import ssl
import subprocess

import popclient
from soak_track import message_id

# a session that gets no answer this long hangs (a violation)
SESSION_TIMEOUT = 60
# KPOP: kpop-client takes at most 64 commands (UIDL, TOPs, QUIT)
KPOP_MAX_TOPS = 60
# leave-on-server clients check this many known UIDLs per session (TOP n 0)
RECHECK = 3
# leave-on-server clients expire (DELE) their oldest message now and then
EXPIRE_CHANCE = 0.3

# (method, where) of the POP3 sessions: where is "backend" (direct) or
# "front" (through the proxy tier)
METHODS = ("user", "plain", "stls", "pop3s", "front", "front-pop3s")
SDPS_METHODS = ("user", "pop3s")

NET_ERRORS = (OSError, EOFError, socket.timeout, ssl.SSLError,
              popclient.Pop3Error)


class Refused(Exception):
    """The server answered -ERR where a session needs +OK."""


class Clients:
    """targets: dict with backend_host, pop3, pop3s, kpop (backend ports),
    front_host, front, front_pop3s."""

    def __init__(self, tracker, targets, kpop=None):
        self.t = tracker
        self.targets = targets
        # kpop: dict(argv_prefix, env) or None
        self.kpop = kpop

    # ---- connecting -------------------------------------------------------

    def connect(self, method, login, password):
        tg = self.targets
        if method in ("front", "front-pop3s"):
            c = popclient.RawPop3(tg["front_pop3s" if method == "front-pop3s" else "front"],
                                  host=tg["front_host"], tls=method == "front-pop3s",
                                  timeout=SESSION_TIMEOUT)
        else:
            c = popclient.RawPop3(tg["pop3s" if method == "pop3s" else "pop3"],
                                  host=tg["backend_host"], tls=method == "pop3s",
                                  timeout=SESSION_TIMEOUT)
        try:
            if not c.greeting.startswith(b"+OK"):
                raise Refused("greeting %r" % c.greeting)
            if method == "stls":
                c.starttls()
            if method == "plain":
                st = c.auth_plain(login, password)
            else:
                st = c.cmd("USER %s" % login)
                if st.startswith(b"+OK"):
                    st = c.cmd("PASS %s" % password)
            if not st.startswith(b"+OK"):
                # the response code ([IN-USE], [SYS/TEMP], ...) says why
                raise Refused("login: %s" % st.decode("utf-8", "replace")[:40])
        except BaseException:
            c.close()
            raise
        return c

    # ---- one session ------------------------------------------------------

    def run(self, user, rnd):
        """One session of user (a dict: name, password, mode = delete |
        keep | sdps, mailbox, views). Returns the outcome counted."""
        mode = user["mode"]
        if mode == "keep" and self.kpop is not None and rnd.random() < 0.2:
            return self.kpop_session(user)
        methods = SDPS_METHODS if mode == "sdps" else METHODS
        method = rnd.choice(methods)
        login = user["name"]
        if mode == "sdps":
            login = "%s@%s" % (rnd.choice(user["views"]), user["name"])
        sid = self.t.new_session(method if mode != "sdps" else "sdps-" + method)
        where = "session %d (%s %s)" % (sid, method, login)
        quit_sent = False
        try:
            c = self.connect(method, login, user["password"])
            try:
                uidl = self.uidl(c)
                if mode == "keep":
                    self.keep_session(c, sid, user, uidl, rnd, where)
                else:
                    self.delete_session(c, sid, user, uidl, where)
                quit_sent = True
                st = c.cmd("QUIT")
            finally:
                c.close()
        except Refused as e:
            self.t.end_session(sid, "uncommitted")
            return "refused: %s" % e
        except NET_ERRORS as e:
            self.t.end_session(sid, "uncertain" if quit_sent else "uncommitted")
            if isinstance(e, (socket.timeout, TimeoutError)):
                self.t.violation("hung session", "%s: no answer for %ds"
                                 % (where, SESSION_TIMEOUT))
                return "timeout"
            return "cut"
        if not st.startswith(b"+OK"):
            self.t.end_session(sid, "uncommitted")
            self.t.count("QUIT -ERR")
            return "quit-err"
        self.t.end_session(sid, "committed")
        return "ok"

    @staticmethod
    def uidl(c):
        st, data = c.multi("UIDL")
        if data is None:
            raise Refused("UIDL: %r" % st)
        out = {}
        for line in data.split(b"\r\n")[:-1]:
            n, uid = line.split(b" ", 1)
            out[int(n)] = uid.decode()
        return out

    @staticmethod
    def retr(c, n):
        st, data = c.multi("RETR %d" % n)
        if data is None:
            raise Refused("RETR: %r" % st)
        return data

    def delete_session(self, c, sid, user, uidl, where):
        mailbox = user["mailbox"]
        for n in sorted(uidl):
            data = self.retr(c, n)
            msgid = self.t.fetched(sid, mailbox, data, where, keep=False)
            if msgid is not None:
                self.t.check_mapping(mailbox, uidl[n], msgid, where)
        for n in sorted(uidl):
            st = c.cmd("DELE %d" % n)
            if not st.startswith(b"+OK"):
                raise Refused("DELE: %r" % st)
            msgid = self.t.uid_to_msg[mailbox].get(uidl[n])
            if msgid is not None:
                self.t.deleted(sid, msgid)

    def keep_session(self, c, sid, user, uidl, rnd, where):
        mailbox = user["mailbox"]
        seen = self.t.seen[user["name"]]
        known = [n for n in uidl if uidl[n] in seen]
        for n in sorted(uidl):
            if uidl[n] in seen:
                continue
            data = self.retr(c, n)
            msgid = self.t.fetched(sid, mailbox, data, where, keep=True)
            if msgid is not None:
                self.t.check_mapping(mailbox, uidl[n], msgid, where)
                seen[uidl[n]] = msgid
        for n in rnd.sample(known, min(RECHECK, len(known))):
            st, data = c.multi("TOP %d 0" % n)
            if data is None:
                raise Refused("TOP: %r" % st)
            msgid = message_id(data)
            self.t.count("UIDLs re-checked")
            self.t.check_mapping(mailbox, uidl[n], msgid, where)
        if known and rnd.random() < EXPIRE_CHANCE:
            # expire the oldest message this client has (lowest number)
            n = min(known)
            st = c.cmd("DELE %d" % n)
            if not st.startswith(b"+OK"):
                raise Refused("DELE: %r" % st)
            self.t.deleted(sid, seen[uidl[n]])

    # ---- KPOP -------------------------------------------------------------

    def kpop_session(self, user):
        """UIDL and TOP n 0 of the first messages over KPOP: the UIDLs must
        be those the other clients saw."""
        mailbox = user["mailbox"]
        sid = self.t.new_session("kpop")
        where = "session %d (kpop %s)" % (sid, user["name"])
        tops = min(KPOP_MAX_TOPS, len(self.t.uid_to_msg[mailbox]) + 3)
        argv = list(self.kpop["argv"]) + ["-u", user["name"], "-c", "UIDL"]
        for i in range(1, tops + 1):
            argv += ["-c", "TOP %d 0" % i]
        argv += ["-c", "QUIT"] + self.kpop["tail"]
        try:
            res = subprocess.run(argv, env=self.kpop["env"], stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, timeout=SESSION_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            self.t.end_session(sid, "uncommitted")
            self.t.violation("hung session", "%s: kpop-client timed out" % where)
            return "timeout"
        lines = [l[3:] for l in res.stdout.decode("utf-8", "replace").splitlines()
                 if l.startswith("S: ")]
        # greeting, USER, PASS: the session starts after PASS's +OK
        if len(lines) < 3 or not lines[2].startswith("+OK"):
            self.t.end_session(sid, "uncommitted")
            return "refused: kpop %s" % lines[2][:40] if len(lines) >= 3 else "cut"
        uidl, tops_seen, quit_reply = self.parse_kpop(lines[3:], tops)
        for n, msgid in tops_seen.items():
            if n in uidl and msgid:
                self.t.count("UIDLs re-checked over KPOP")
                self.t.check_mapping(mailbox, uidl[n], msgid, where)
        quit_ok = quit_reply is not None and quit_reply.startswith("+OK")
        self.t.end_session(sid, "committed" if quit_ok else "uncommitted")
        return "ok" if quit_ok else "cut"

    @staticmethod
    def parse_kpop(lines, tops):
        """(n -> uid of the UIDL reply, n -> msgid of each TOP reply, the
        QUIT reply) from kpop-client's server lines after the login reply,
        in the order of the commands: UIDL, TOP 1 0 .. TOP tops 0, QUIT."""
        it = iter(lines)

        def reply():
            status = next(it, None)
            if status is None or not status.startswith("+OK"):
                return status, None
            data = []
            for line in it:
                if line == ".":
                    return status, data
                data.append(line[1:] if line.startswith(".") else line)
            return None, None

        uidl, seen = {}, {}
        status, data = reply()
        for line in data or ():
            n, uid = line.split(" ", 1)
            uidl[int(n)] = uid
        for i in range(1, tops + 1):
            status, data = reply()
            if status is None:
                return uidl, seen, None
            if data is not None:
                seen[i] = message_id("\r\n".join(data).encode() + b"\r\n\r\n")
        return uidl, seen, next(it, None)
