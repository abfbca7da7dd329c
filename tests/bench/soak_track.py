# SPDX-License-Identifier: LGPL-2.1-only
"""What the soak (tests/bench/soak.py) delivered, fetched and saw, and the
verdict at the end: lost, duplicated, re-fetched after a killed session,
UIDL changes."""

import collections
import hashlib
import re
import threading

MSGID_RE = re.compile(rb"(?im)^message-id:[ \t]*<([^>\r\n]+)>")
# details kept per kind of violation (the counts are always complete)
DETAILS = 10


def message_id(data):
    """The Message-ID (without <>) of a message's header, or None."""
    head = data.split(b"\r\n\r\n", 1)[0]
    m = MSGID_RE.search(head)
    return m.group(1).decode("ascii", "replace") if m else None


def body_digest(data):
    """sha256 of the body (after the first empty line), CRLF line ends."""
    parts = data.split(b"\r\n\r\n", 1)
    return hashlib.sha256(parts[1] if len(parts) > 1 else b"").hexdigest()


class Tracker:
    """Thread-safe record of the soak.

    Messages are delivered to a mailbox key (a user, or an SDPS host) and,
    for SDPS, a view (the local part the client logs in with). A session
    gets an id; its fetches are kept with it; at its end it is marked
    committed (QUIT answered +OK), uncommitted (ended before QUIT was sent:
    killed, refused, restarted) or uncertain (QUIT sent, no answer).
    """

    def __init__(self):
        self.lock = threading.Lock()
        self.attempted = {}          # msgid -> (mailbox, view, digest)
        self.delivered = set()       # msgid with a 250 from LMTP
        self.uncertain_delivery = set()  # DATA sent, no answer
        self.fetches = collections.defaultdict(list)   # msgid -> [sid]
        self.session_end = {}        # sid -> committed|uncommitted|uncertain
        self.session_deletes = collections.defaultdict(set)  # sid -> msgids
        self.uid_to_msg = collections.defaultdict(dict)  # mailbox -> uid -> msgid
        self.msg_to_uid = collections.defaultdict(dict)  # mailbox -> msgid -> uid
        self.seen = collections.defaultdict(dict)     # LoS user -> uid -> msgid
        self.counts = collections.Counter()
        self.violations = collections.defaultdict(list)
        self.vcount = collections.Counter()
        self.next_sid = 0
        self.unlisted = set()        # mailboxes the final listing missed

    # ---- bookkeeping ------------------------------------------------------

    def count(self, name, n=1):
        with self.lock:
            self.counts[name] += n

    def violation(self, kind, detail):
        with self.lock:
            self.vcount[kind] += 1
            if len(self.violations[kind]) < DETAILS:
                self.violations[kind].append(detail)

    def new_session(self, kind):
        with self.lock:
            self.next_sid += 1
            self.counts["sessions " + kind] += 1
            return self.next_sid

    def end_session(self, sid, how):
        with self.lock:
            self.session_end[sid] = how
            self.counts["ended " + how] += 1

    # ---- deliveries -------------------------------------------------------

    def delivery_attempt(self, msgid, mailbox, view, digest):
        with self.lock:
            self.attempted[msgid] = (mailbox, view, digest)

    def delivery_done(self, msgid, ok):
        with self.lock:
            if ok:
                self.delivered.add(msgid)
                self.counts["deliveries"] += 1
            else:
                self.uncertain_delivery.add(msgid)
                self.counts["deliveries unanswered"] += 1

    # ---- what clients saw -------------------------------------------------

    def check_mapping(self, mailbox, uid, msgid, where):
        """A UIDL and a Message-ID seen together: they must always be seen
        together (per mailbox: an SDPS view shares its host's UIDLs)."""
        with self.lock:
            known = self.uid_to_msg[mailbox].get(uid)
            known_uid = self.msg_to_uid[mailbox].get(msgid)
            if known is None and known_uid is None:
                self.uid_to_msg[mailbox][uid] = msgid
                self.msg_to_uid[mailbox][msgid] = uid
                return True
        if known != msgid or known_uid != uid:
            self.violation("uidl changed", "%s %s: UIDL %s was %s, now %s; message %s "
                           "had UIDL %s" % (where, mailbox, uid, known, msgid,
                                            msgid, known_uid))
            return False
        return True

    def fetched(self, sid, mailbox, data, where, keep):
        """A complete RETR (keep: by a leave-on-server client, which never
        fetches a message it has): returns the msgid (None when
        unknown)."""
        msgid = message_id(data)
        with self.lock:
            info = self.attempted.get(msgid)
            self.counts["messages fetched"] += 1
            if info is not None:
                self.fetches[msgid].append((sid, keep))
        if info is None:
            self.violation("unknown message", "%s %s: Message-ID %s was never delivered"
                           % (where, mailbox, msgid))
            return None
        if info[0] != mailbox:
            self.violation("wrong mailbox", "%s: %s fetched from %s, delivered to %s"
                           % (where, msgid, mailbox, info[0]))
        if body_digest(data) != info[2]:
            self.violation("corrupt body", "%s %s: %s" % (where, mailbox, msgid))
        return msgid

    def deleted(self, sid, msgid):
        with self.lock:
            self.session_deletes[sid].add(msgid)

    # ---- verdict ----------------------------------------------------------

    def verdict(self, remaining):
        """remaining: mailbox -> set of msgids on the server at the end
        (after the load stopped). Fills violations; returns the summary
        counts."""
        out = collections.Counter()
        present = set()
        for mailbox, ids in remaining.items():
            present |= ids
        with self.lock:
            fetched = set(self.fetches)
            # deleted for good: DELE in a session whose QUIT got +OK
            gone = set()
            for sid, ids in self.session_deletes.items():
                if self.session_end.get(sid) == "committed":
                    gone |= ids
            for msgid in self.delivered:
                if self.attempted[msgid][0] in self.unlisted:
                    continue
                if msgid not in fetched and msgid not in present:
                    out["lost"] += 1
                    self._v("lost", "%s (delivered to %s) neither fetched nor on the "
                            "server" % (msgid, self.attempted[msgid][0]))
            for msgid in self.uncertain_delivery:
                if msgid in fetched or msgid in present:
                    out["unanswered deliveries stored"] += 1
                else:
                    out["unanswered deliveries not stored"] += 1
            for msgid in gone & present:
                out["undeleted"] += 1
                self._v("undeleted", "%s: DELE and QUIT answered +OK, still on the "
                        "server" % msgid)
            for msgid, sids in self.fetches.items():
                for sid, keep in sids[:-1]:
                    how = self.session_end.get(sid)
                    if keep:
                        # a leave-on-server client fetched it again: its
                        # UIDL was not the one the client had
                        out["duplicated"] += 1
                        self._v("duplicated", "%s fetched again by a leave-on-server "
                                "client that had it (session %d)" % (msgid, sid))
                    elif how == "committed":
                        out["duplicated"] += 1
                        self._v("duplicated", "%s fetched again after session %d "
                                "(DELE, QUIT answered +OK)" % (msgid, sid))
                    else:
                        # POP3: nothing is deleted before QUIT's +OK
                        out["re-fetched after a killed session"] += 1
            out["delivered"] = len(self.delivered)
            out["fetched (distinct)"] = len(fetched)
            out["on the server at the end"] = len(present)
        return out

    def _v(self, kind, detail):
        # with self.lock held
        self.vcount[kind] += 1
        if len(self.violations[kind]) < DETAILS:
            self.violations[kind].append(detail)
