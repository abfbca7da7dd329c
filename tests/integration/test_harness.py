# SPDX-License-Identifier: LGPL-2.1-only
"""Self-tests of the harness (run against stock Dovecot; altpop parts skip)."""

import os
import socket

import pytest

import harness
import mailgen
import popclient


def test_doveconf_sees_instance(instance):
    assert instance.setting_value("base_dir") == str(instance.tmp / "run")
    prot = instance.setting_value("protocols").split()
    assert prot == instance.protocols
    assert "starting up" in instance.log_text()


@pytest.mark.dovecot(extra_pop3=harness.setting("pop3_uidl_format", "%08Xu-test"),
                     extra=harness.setting("login_greeting", "harness says hi"))
def test_extra_settings(instance, stage):
    assert instance.setting_value("login_greeting") == "harness says hi"
    instance.deliver("alice", mailgen.simple())
    c = popclient.RawPop3(instance.port("pop3"))
    assert c.greeting.startswith(b"+OK harness says hi")
    c.login("alice", "alicepw")
    assert c.uidl() == {1: "00000001-test"}
    c.quit()


def test_deliver_lmtp(instance):
    raw = mailgen.dots()
    instance.deliver_lmtp("bob", raw)
    assert instance.message_count("bob") == 1
    c = popclient.RawPop3(instance.port("pop3"))
    c.login("bob", "bobpw")
    got = c.retr(1)
    c.quit()
    # LMTP adds Return-Path and Delivered-To (and Received) in front.
    assert got.endswith(mailgen.expected_pop3_bytes(raw))
    assert got.startswith(b"Return-Path: <sender@example.org>\r\n")
    assert b"\r\nDelivered-To: bob\r\n" in got


def test_deliver_files(instance):
    paths = [instance.deliver("alice", mailgen.numbered(i)) for i in range(1, 4)]
    paths.append(instance.deliver("alice", mailgen.numbered(4), flags="S"))
    st = os.stat(paths[0])
    assert (st.st_uid, st.st_gid) == (instance.uid, instance.gid)
    assert [p.parent.name for p in paths] == ["new", "new", "new", "cur"]
    c = popclient.RawPop3(instance.port("pop3"))
    c.login("alice", "alicepw")
    for i in range(1, 5):
        assert c.retr(i) == mailgen.expected_pop3_bytes(mailgen.numbered(i))
    c.quit()


def test_users_param(make_instance):
    inst = make_instance(protocols=["pop3"], users={"zed": "zedpw"}, lmtp=False)
    assert "lmtp" not in inst.protocols
    c = popclient.RawPop3(inst.port("pop3"))
    c.login("zed", "zedpw")
    c.quit()
    inst.add_user("yan", "yanpw")
    c = popclient.RawPop3(inst.port("pop3"))
    c.login("yan", "yanpw")
    c.quit()


def test_stop_leaves_nothing():
    inst = harness.DovecotInstance(["pop3"])
    with inst:
        ns = inst.ns
        assert ns and ns != os.readlink("/proc/self/ns/mnt")
        c = popclient.RawPop3(inst.port("pop3"))
        c.login("alice", "alicepw")     # leave a session open
        tmp = inst.tmp
        pids = {p: harness._start_time(p) for p in harness._pids_in_mnt_ns(ns)}
        assert len(pids) >= 4
    c.close()
    alive = [p for p, st in pids.items()
             if harness._start_time(p) == st and not harness._is_zombie(p)]
    assert alive == []
    assert not tmp.exists()


def test_start_failure_reports_log():
    inst = harness.DovecotInstance(["pop3"], extra=harness.setting("no_such_setting", "1"))
    with pytest.raises(harness.HarnessError) as err:
        with inst:
            pass
    assert "no_such_setting" in str(err.value)
    assert not inst.tmp.exists()


@pytest.mark.parametrize("listens", [False, True],
                         ids=["bound", "listening"])
def test_start_retries_on_new_ports_when_one_is_taken(stage, listens):
    """Another program takes a port the harness picked before Dovecot binds
    it (bound only, or listening too): the instance starts again on new
    ports instead of failing, and the readiness check never takes the
    other program's listening socket for Dovecot's."""
    protocols = ["pop3"] + (["altpop"] if stage.available else [])
    inst = harness.DovecotInstance(protocols, stage=stage, lmtp=False)
    inst.setup()
    taken = inst.port(protocols[-1], "pop3")
    blocker = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        blocker.bind(("127.0.0.1", taken))
        if listens:
            blocker.listen(1)
        with inst:
            assert inst.port(protocols[-1], "pop3") != taken
            failed = (inst.tmp / "dovecot.log.failed-1").read_text()
            failed += (inst.tmp / "dovecot.stdout.failed-1").read_text()
            assert "Address already in use" in failed
            assert not (inst.tmp / "dovecot.log.failed-2").exists()
            # the readiness check tells Dovecot's listeners from the
            # blocker's (Dovecot 2.4 may not have exited yet when the
            # blocker's port is seen listening)
            mine = {("127.0.0.1", inst.port(p, "pop3")) for p in protocols}
            assert inst._ours_listening(mine)
            assert inst._ours_listening({("127.0.0.1", taken)}) is False
            for proto in protocols:
                c = popclient.RawPop3(inst.port(proto, "pop3"))
                c.login("alice", "alicepw")
                c.quit()
    finally:
        blocker.close()


def test_start_gives_up_after_the_last_attempt(stage, monkeypatch):
    """A port taken again at every attempt: the start fails with the
    reason after harness.START_PORT_ATTEMPTS tries, no more."""
    inst = harness.DovecotInstance(["pop3"], stage=stage, lmtp=False)
    inst.setup()
    blockers = []
    write_conf = inst._write_conf

    def block_first_port():
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind(("127.0.0.1", inst.port("pop3", "pop3")))
        blockers.append(s)

    def write_conf_and_block():
        write_conf()
        block_first_port()

    block_first_port()
    monkeypatch.setattr(inst, "_write_conf", write_conf_and_block)
    try:
        with pytest.raises(harness.HarnessError,
                           match="Address already in use"):
            inst.start()
        assert len(blockers) == harness.START_PORT_ATTEMPTS
    finally:
        for s in blockers:
            s.close()
        inst.stop()
        inst.cleanup()


@pytest.mark.altpop_only
@pytest.mark.dovecot(extra_altpop=harness.setting("login_greeting", "altpop block works"))
def test_altpop_protocol_block(instance):
    res = instance.doveconf(["-n"], check=True)
    assert "protocol altpop {" in res.stdout
    assert "service altpop-login {" in res.stdout
    c = popclient.RawPop3(instance.port("altpop"))
    assert c.greeting.startswith(b"+OK altpop block works")
    c.close()
    c = popclient.RawPop3(instance.port("pop3"))
    assert not c.greeting.startswith(b"+OK altpop block works")
    c.close()
