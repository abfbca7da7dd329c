# SPDX-License-Identifier: LGPL-2.1-only
"""Self-tests of the harness (run against stock Dovecot; altpop parts skip)."""

import os

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
