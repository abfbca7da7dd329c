# SPDX-License-Identifier: LGPL-2.1-only
"""The UIDL map with several writers: sessions that save UIDLs
(altpop_save_uidl with altpop_lock_session = no) and `altpop -I` imports
must not lose each other's entries, and an entry once in the map wins.

The tests hold the map's dotlock themselves, so that every writer has read
the map before any of them commits: the race is made certain, not hoped
for."""

import hashlib
import os
import poplib
import subprocess
import threading
import time

import pytest

import harness

pytestmark = pytest.mark.altpop_only

MAP_NAME = "dovecot-altpop-uidl-map"
MAP_HEADER = "altpop-uidl-map 1"
SETTINGS = harness.settings([("altpop_save_uidl", "yes"),
                             ("altpop_lock_session", "no")])
# how long the writers get to read the map and queue up on the lock
# (well below the writers' 10 s lock timeout)
READ_GRACE_SECS = 2


def message(prefix, i):
    return ("From: a@example.org\r\nSubject: %s %d\r\n"
            "Message-ID: <%s.%d@example.org>\r\n\r\nbody %d\r\n"
            % (prefix, i, prefix, i, i))


def login(inst, user="alice", password="alicepw"):
    conn = poplib.POP3("127.0.0.1", inst.port("altpop", "pop3"), timeout=30)
    conn.user(user)
    conn.pass_(password)
    return conn


def uidl_list(conn):
    return [line.split()[1].decode() for line in conn.uidl()[1]]


def uidls(inst):
    conn = login(inst)
    try:
        return uidl_list(conn)
    finally:
        conn.quit()


def map_path(inst, user="alice"):
    found = list(inst.home(user).rglob(MAP_NAME))
    assert len(found) == 1, found
    return found[0]


def read_map(path):
    lines = path.read_text().splitlines()
    assert lines[0] == MAP_HEADER
    return dict(line.split("\t") for line in lines[1:])


def write_as_vmail(inst, path, text):
    path.write_text(text)
    os.chown(path, inst.uid, inst.gid)


class HeldLock:
    """The map's dotlock, held by the test (empty: no pid to check)."""

    def __init__(self, inst, path):
        self.lock = path.with_name(path.name + ".lock")
        write_as_vmail(inst, self.lock, "")

    def release(self):
        self.lock.unlink()


def in_thread(func):
    result = {}

    def run():
        try:
            result["value"] = func()
        except Exception as e:      # reported by the caller
            result["error"] = e
    t = threading.Thread(target=run)
    t.start()
    return t, result


def joined(t, result):
    t.join(60)
    assert not t.is_alive()
    if "error" in result:
        raise result["error"]
    return result["value"]


def legacy_line(raw, uidl):
    """A line of the import file for raw: <octets> <header-md5> <uidl>."""
    header = raw.split("\r\n\r\n", 1)[0] + "\r\n"
    return "%d %s %s\n" % (len(raw), hashlib.md5(header.encode()).hexdigest(),
                           uidl)


def test_concurrent_sessions_and_import_keep_all_entries(make_instance, stage,
                                                         workdir):
    inst = make_instance(extra_altpop=SETTINGS)
    inst.deliver("alice", message("a", 0))
    first = uidls(inst)                 # creates the map: one entry
    path = map_path(inst)
    assert len(read_map(path)) == 1

    # two sessions, each with a message the other does not see
    inst.deliver("alice", message("a", 1))
    sess_a = login(inst)
    inst.deliver("alice", message("b", 2))
    sess_b = login(inst)
    # and the import's messages, seen by neither session
    legacy = [message("legacy", i) for i in range(3)]
    imp = os.path.join(workdir, "alice.uidls")
    with open(imp, "w") as f:
        for i, raw in enumerate(legacy):
            inst.deliver("alice", raw)
            f.write(legacy_line(raw, "LEGACY-%d" % i))

    lock = HeldLock(inst, path)
    try:
        ta = in_thread(lambda: uidl_list(sess_a))
        tb = in_thread(lambda: uidl_list(sess_b))
        argv = inst.ns_command([str(stage.mail), "-c", str(inst.conf),
                                "-u", "alice", "-I", imp])
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        time.sleep(READ_GRACE_SECS)
    finally:
        lock.release()
    shown_a = joined(*ta)
    shown_b = joined(*tb)
    report = proc.communicate(timeout=60)[0].decode()
    sess_a.quit()
    sess_b.quit()
    assert proc.returncode == 0, report
    assert "matched and imported: 3" in report, report
    assert len(shown_a) == 2 and len(shown_b) == 3
    assert shown_a[0] == shown_b[0] == first[0]

    saved = read_map(path)
    assert len(saved) == 6, saved
    values = set(saved.values())
    assert set(shown_a) | set(shown_b) <= values
    assert {"LEGACY-0", "LEGACY-1", "LEGACY-2"} <= values
    # a later session shows what was saved and imported
    later = uidls(inst)
    assert later == shown_b + ["LEGACY-0", "LEGACY-1", "LEGACY-2"]


def save_racing_another_writer(inst):
    """alice's three messages get UIDLs saved, then the map is emptied and
    a session saves them again while another writer, after the session
    read the map, saves a UIDL for message 2 and one for a message the
    session doesn't know. Returns (the formatted UIDLs, {uidl: guid}, what
    the session showed, the map's path)."""
    for i in range(3):
        inst.deliver("alice", message("m", i))
    formatted = uidls(inst)
    path = map_path(inst)
    guids = list(read_map(path))        # in no particular order
    by_uidl = {u: g for g, u in read_map(path).items()}
    assert len(guids) == 3
    # start over with an empty map, as if nothing had been saved
    write_as_vmail(inst, path, MAP_HEADER + "\n")

    sess = login(inst)
    lock = HeldLock(inst, path)
    try:
        t = in_thread(lambda: uidl_list(sess))
        time.sleep(READ_GRACE_SECS)
        write_as_vmail(inst, path, "%s\n%s\ttheirs-2\nforeign-guid\tforeign\n"
                       % (MAP_HEADER, by_uidl[formatted[1]]))
    finally:
        lock.release()
    shown = joined(*t)
    sess.quit()
    return formatted, by_uidl, shown, path


def test_entry_written_between_read_and_commit_survives(make_instance):
    inst = make_instance(extra_altpop=SETTINGS)
    formatted, by_uidl, shown, path = save_racing_another_writer(inst)

    # the entry saved first wins: the session shows it, not its own
    assert shown == [formatted[0], "theirs-2", formatted[2]]
    saved = read_map(path)
    assert saved == {by_uidl[formatted[0]]: formatted[0],
                     by_uidl[formatted[1]]: "theirs-2",
                     by_uidl[formatted[2]]: formatted[2],
                     "foreign-guid": "foreign"}
    assert uidls(inst) == shown
