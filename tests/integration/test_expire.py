# SPDX-License-Identifier: LGPL-2.1-only
"""RFC 2449 EXPIRE (altpop_expire, per user through userdb): retrieved
messages (RETR, TOP of the whole message) go n days after their first
retrieval, at a later session start; EXPIRE 0 removes them at QUIT even
without DELE; never a message that was not retrieved. The first
retrievals survive a Dovecot restart."""

import os
import re
import time

import pytest

import harness
import mailgen
import popclient
from servercheck import capa_lines, wait_until

pytestmark = pytest.mark.altpop_only

RETRIEVED_FILE = "dovecot-altpop-retrieved"
DAY = 24 * 60 * 60


def expire_instance(make_instance, expire, per_user=None, fields=None, users=None):
    # global scope: on Dovecot 2.4 a value inside protocol altpop { }
    # would win over the userdb field (README)
    extra = harness.setting("altpop_expire", expire)
    if per_user is not None:
        extra += harness.setting("altpop_limits_per_user", per_user)
    return make_instance(protocols=["altpop"], extra=extra, users=users,
                         passdb_fields=fields)


def deliver(inst, count, user="alice"):
    msgs = [mailgen.numbered(i) for i in range(1, count + 1)]
    for raw in msgs:
        inst.deliver(user, raw)
    return msgs


def session(inst, user="alice", password="alicepw"):
    c = popclient.RawPop3(inst.port("altpop"))
    c.login(user, password)
    return c


def logouts(inst, user="alice"):
    """The logout lines of user's sessions so far."""
    return re.findall(r"altpop\(%s\)<\d+><[^>]*>: Info: Disconnected: (.*)" % user,
                      inst.log_text())


def wait_logouts(inst, count, user="alice"):
    assert wait_until(lambda: len(logouts(inst, user)) >= count, 10), inst.log_tail(20)
    return logouts(inst, user)


def first_retrievals(inst, user="alice"):
    path = inst.maildir(user) / RETRIEVED_FILE
    lines = path.read_text().splitlines()
    assert lines[0] == "altpop-retrieved 1"
    return {k: int(v) for k, v in (l.split("\t") for l in lines[1:] if l)}


def backdate(inst, days, user="alice"):
    """Move every recorded first retrieval days into the past (the test
    cannot wait days)."""
    path = inst.maildir(user) / RETRIEVED_FILE
    st = path.stat()
    entries = first_retrievals(inst, user)
    path.write_text("altpop-retrieved 1\n" + "".join(
        "%s\t%d\n" % (k, v - days * DAY) for k, v in entries.items()))
    os.chown(path, st.st_uid, st.st_gid)


def capa_expire(c):
    return [l.decode() for l in capa_lines(c) if l.startswith(b"EXPIRE")]


def test_expire_0_deletes_retrieved_at_quit(make_instance):
    inst = expire_instance(make_instance, "0")
    msgs = deliver(inst, 4)
    with popclient.RawPop3(inst.port("altpop")) as c:
        assert capa_expire(c) == ["EXPIRE 0"]
    c = session(inst)
    assert capa_expire(c) == ["EXPIRE 0"]
    assert c.retr(1) == mailgen.expected_pop3_bytes(msgs[0])
    c.top(2, 0)                     # header only: not retrieved
    c.top(3, 99999999)              # whole message, as fetchmail does
    c.quit()
    assert inst.message_count("alice") == 2
    assert wait_logouts(inst, 1)[-1].endswith(", expired=2")
    c = session(inst)
    assert c.stat()[0] == 2
    assert c.top(1, 0)              # message 2 is still there
    c.quit()


def test_expire_0_without_quit_expires_at_next_login(make_instance):
    inst = expire_instance(make_instance, "0")
    deliver(inst, 3)
    c = session(inst)
    c.retr(2)
    c.close()                       # no QUIT: nothing deleted now
    wait_logouts(inst, 1)
    # recorded as the session ends
    assert wait_until(lambda: (inst.maildir("alice") / RETRIEVED_FILE).exists(), 10)
    assert inst.message_count("alice") == 3
    assert len(first_retrievals(inst)) == 1
    c = session(inst)
    assert c.stat()[0] == 2
    c.quit()
    assert wait_logouts(inst, 2)[-1].endswith(", expired=1")
    assert first_retrievals(inst) == {}


def test_expire_days_after_first_retrieval_across_restart(make_instance):
    inst = expire_instance(make_instance, "3")
    msgs = deliver(inst, 3)
    c = session(inst)
    assert capa_expire(c) == ["EXPIRE 3"]
    before = int(time.time())
    c.retr(1)
    c.top(3, 99999999)
    c.quit()
    recorded = first_retrievals(inst)
    assert len(recorded) == 2
    assert all(before - 1 <= t <= time.time() + 1 for t in recorded.values())
    assert inst.message_count("alice") == 3
    # a later retrieval keeps the first one's time
    backdate(inst, 1)
    c = session(inst)
    assert c.stat()[0] == 3
    c.retr(1)
    c.quit()
    assert sorted(first_retrievals(inst).values()) == sorted(
        t - DAY for t in recorded.values())
    # three days after the first retrieval, across a restart
    backdate(inst, 2)
    inst.stop()
    inst.start()
    c = session(inst)
    assert c.stat()[0] == 1
    assert c.retr(1) == mailgen.expected_pop3_bytes(msgs[1])
    c.quit()
    assert ", expired=2" in wait_logouts(inst, 3)[-1]


def test_never_keeps_everything(make_instance):
    inst = expire_instance(make_instance, "never")
    deliver(inst, 2)
    with popclient.RawPop3(inst.port("altpop")) as c:
        assert capa_expire(c) == ["EXPIRE NEVER"]
    for _ in range(2):
        c = session(inst)
        assert capa_expire(c) == ["EXPIRE NEVER"]
        c.retr(1)
        c.retr(2)
        c.quit()
    assert inst.message_count("alice") == 2
    assert not (inst.maildir("alice") / RETRIEVED_FILE).exists()


def test_off_by_default(make_instance):
    inst = make_instance(protocols=["altpop"])
    deliver(inst, 2)
    with popclient.RawPop3(inst.port("altpop")) as c:
        assert capa_expire(c) == []
    c = session(inst)
    assert capa_expire(c) == []
    c.retr(1)
    c.quit()
    assert inst.message_count("alice") == 2
    assert not (inst.maildir("alice") / RETRIEVED_FILE).exists()
    assert "expired=" not in wait_logouts(inst, 1)[-1]


def test_per_user_expire_and_capa_user_variant(make_instance):
    inst = expire_instance(make_instance, "never", per_user="yes",
                           users={"carol": "carolpw"},
                           fields={"carol": "userdb_altpop_expire=0"})
    deliver(inst, 2, "carol")
    deliver(inst, 2, "alice")
    with popclient.RawPop3(inst.port("altpop")) as c:
        assert capa_expire(c) == ["EXPIRE NEVER USER"]
    c = session(inst, "carol", "carolpw")
    assert capa_expire(c) == ["EXPIRE 0"]
    c.retr(1)
    c.quit()
    assert inst.message_count("carol") == 1
    c = session(inst)
    assert capa_expire(c) == ["EXPIRE NEVER"]
    c.retr(1)
    c.quit()
    assert inst.message_count("alice") == 2


def test_invalid_value_is_a_config_error(stage):
    inst = harness.DovecotInstance(["altpop"], stage=stage,
                                   extra=harness.setting("altpop_expire", "30 days"))
    inst.setup()
    try:
        res = inst.doveconf(["-n"])
        assert res.returncode != 0
        assert "altpop_expire" in res.stderr and "days from 0" in res.stderr, res.stderr
    finally:
        inst.cleanup()


def file_identity(path):
    """What changes when the file is written again (altpop replaces it
    with rename(): a new inode, new times)."""
    st = path.stat()
    return (st.st_ino, st.st_mtime_ns, st.st_ctime_ns)


def test_file_written_only_when_it_changes(make_instance):
    inst = expire_instance(make_instance, "3")
    deliver(inst, 3)
    path = inst.maildir("alice") / RETRIEVED_FILE
    c = session(inst)
    c.retr(1)
    c.quit()
    wait_logouts(inst, 1)
    assert len(first_retrievals(inst)) == 1
    before = file_identity(path)
    content = path.read_bytes()
    # a session that retrieves nothing, one that retrieves only what was
    # retrieved before, one that ends without QUIT: nothing to record
    c = session(inst)
    assert c.stat()[0] == 3
    c.top(2, 0)                     # headers only: not a retrieval
    c.quit()
    c = session(inst)
    c.retr(1)
    c.quit()
    c = session(inst)
    c.retr(1)
    c.close()
    wait_logouts(inst, 4)
    assert file_identity(path) == before
    assert path.read_bytes() == content
    # a new first retrieval is recorded
    c = session(inst)
    c.retr(3)
    c.quit()
    wait_logouts(inst, 5)
    assert file_identity(path) != before
    assert len(first_retrievals(inst)) == 2
    # a message that is gone drops its entry at the next session start
    before = file_identity(path)
    c = session(inst)
    assert c.cmd("DELE 1").startswith(b"+OK")
    c.quit()
    wait_logouts(inst, 6)
    assert file_identity(path) == before
    c = session(inst)
    assert c.stat()[0] == 2
    c.quit()
    wait_logouts(inst, 7)
    assert file_identity(path) != before
    assert len(first_retrievals(inst)) == 1
