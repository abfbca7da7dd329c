# SPDX-License-Identifier: LGPL-2.1-only
"""kill -9 of the post-login process (issue 10, hostile-input suite).

- killed in the TRANSACTION state after DELE (no QUIT): nothing is deleted;
- killed while QUIT expunges a large maildrop: no message that was not
  marked is lost or changed, and the maildrop works afterwards (a new
  session lists what is left and can delete the rest);
- a QUIT that completed deleted everything marked.
"""

import os
import signal
import time

import pytest

import mailgen
import popclient
from servercheck import login, maildir_contents, processes, session_pid, wait_until

pytestmark = pytest.mark.altpop_only


def _kill9(inst, pid):
    os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: pid not in processes(inst, "altpop"), 10)


# The killed session's lock file stays behind. A new session is answered
# -ERR [IN-USE] at once while Dovecot's dotlock code still takes the lock
# for a live one (it reads the owner's PID only once a lock is 2 s old);
# then the dead owner's lock is taken over. A client retrying gets in.
STALE_LOCK_SECS = 10


def _login_after_kill(port):
    deadline = time.monotonic() + STALE_LOCK_SECS
    while True:
        try:
            return login(port)
        except popclient.Pop3Error as e:
            if "[IN-USE]" not in str(e) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def test_kill_after_dele_deletes_nothing(instance):
    msgs = [mailgen.numbered(i) for i in range(1, 6)]
    for raw in msgs:
        instance.deliver("alice", raw)
    port = instance.port("altpop")
    before = maildir_contents(instance, "alice")
    c = login(port)
    assert c.stat()[0] == 5
    for n in (1, 3, 5):
        assert c.cmd("DELE %d" % n).startswith(b"+OK")
    _kill9(instance, session_pid(instance))
    assert sorted(maildir_contents(instance, "alice")) == sorted(before)
    c = _login_after_kill(port)
    try:
        assert c.stat()[0] == 5
        for n, raw in enumerate(msgs, 1):
            status, data = c.multi("RETR %d" % n)
            assert status.startswith(b"+OK")
            assert data == mailgen.to_crlf(raw)
    finally:
        c.quit()


BIG = 3000


def test_kill_during_quit_expunge_loses_nothing_unmarked(instance):
    msgs = [mailgen.numbered(i) for i in range(1, BIG + 1)]
    for raw in msgs:
        instance.deliver("alice", raw)
    port = instance.port("altpop")
    c = login(port)
    assert c.stat()[0] == BIG
    # every even message is marked
    marked = set(range(2, BIG + 1, 2))
    for n in sorted(marked):
        assert c.cmd("DELE %d" % n).startswith(b"+OK")
    pid = session_pid(instance)
    left_before = instance.message_count("alice")
    # let the process run in short slices after QUIT, stopped in between,
    # until the expunge has begun (files are going); then kill it
    os.kill(pid, signal.SIGSTOP)
    c.send(b"QUIT\r\n")
    deadline = time.monotonic() + 60
    while instance.message_count("alice") == left_before:
        assert time.monotonic() < deadline, "QUIT did not start expunging"
        os.kill(pid, signal.SIGCONT)
        time.sleep(0.0005)
        os.kill(pid, signal.SIGSTOP)
    removed = left_before - instance.message_count("alice")
    _kill9(instance, pid)
    assert 0 < removed, removed
    unmarked = [mailgen.to_crlf(msgs[n - 1]) for n in range(1, BIG + 1)
                if n not in marked]
    # every message that was not marked is still there, unchanged
    c = _login_after_kill(port)
    try:
        count = c.stat()[0]
        assert BIG - len(marked) <= count < BIG, count
        bodies = []
        for n in range(1, count + 1):
            status, data = c.multi("RETR %d" % n)
            assert status.startswith(b"+OK"), status
            bodies.append(data)
        kept = [b for b in bodies if b in set(unmarked)]
        assert len(kept) == len(unmarked)
        # the rest of the marked ones can still be deleted
        marked_left = [n for n, b in enumerate(bodies, 1) if b not in set(unmarked)]
        for n in marked_left:
            assert c.cmd("DELE %d" % n).startswith(b"+OK")
        assert c.quit().startswith(b"+OK")
    except BaseException:
        c.close()
        raise
    c = login(port)
    try:
        assert c.stat()[0] == len(unmarked)
    finally:
        c.quit()


def test_completed_quit_deleted_everything_marked(instance):
    msgs = [mailgen.numbered(i) for i in range(1, 7)]
    for raw in msgs:
        instance.deliver("alice", raw)
    port = instance.port("altpop")
    c = login(port)
    for n in (2, 4, 6):
        assert c.cmd("DELE %d" % n).startswith(b"+OK")
    assert c.quit().startswith(b"+OK")
    assert instance.message_count("alice") == 3
    c = login(port)
    try:
        assert c.stat()[0] == 3
        for n, raw in zip((1, 2, 3), (msgs[0], msgs[2], msgs[4])):
            assert c.multi("RETR %d" % n)[1] == mailgen.to_crlf(raw)
    finally:
        c.quit()

