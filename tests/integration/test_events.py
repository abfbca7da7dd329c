# SPDX-License-Identifier: LGPL-2.1-only
"""Events and metrics (doc/events.md): altpop sends Dovecot's
pop3_command_finished for every command (category altpop), which a stats
metric counts as it counts Dovecot's pop3 on 2.4; altpop's own events
(LOGIN-DELAY refusal, EXPIRE) are counted too. Read back from the stats
service's OpenMetrics page (curl) and from doveadm stats dump."""

import hashlib
import poplib
import re
import subprocess

import pytest

import harness
import mailgen
from servercheck import wait_until
from test_kpop import (kpop_client, kpop_settings, kport,  # noqa: F401
                       kpop_stage, make_kpop_instance)
from test_kpop_service import LOGGED_IN, ccache, realm  # noqa: F401

# differential and real clients: run on every Dovecot CI covers
pytestmark = [pytest.mark.altpop_only, pytest.mark.core]

USER, PASSWORD = "alice", "alicepw"
# bob's retrieved messages go at QUIT (EXPIRE 0)
EXPIRE_USER, EXPIRE_PASSWORD = "bob", "bobpw"
BAD_COMMAND = "xyzzy"

CMD = "event=pop3_command_finished"
# name, filter, group_by, fields
METRICS = [
    ("altpop_cmds", CMD + " AND category=altpop", ("cmd_name", "reply_state"),
     ("net_in_bytes", "net_out_bytes")),
    ("stock_cmds", CMD + " AND category=pop3", ("cmd_name", "reply_state"),
     ("net_in_bytes", "net_out_bytes")),
    ("all_cmds", CMD, (), ()),
    ("altpop_retr", CMD + " AND category=altpop AND cmd_name=RETR", ("user",),
     ("net_out_bytes",)),
    ("altpop_errors", CMD + " AND category=altpop AND reply_state=ERR",
     ("cmd_input_name",), ()),
    ("altpop_conn", CMD + " AND category=altpop", ("remote_ip", "session"), ()),
    ("stock_conn", CMD + " AND category=pop3", ("remote_ip",), ()),
    ("login_delay", "event=altpop_login_delay_refused", ("user",),
     ("login_delay_secs",)),
    ("expire", "event=altpop_expire_finished", ("expire_at",),
     ("expunged_count",)),
    ("sdps", "event=altpop_sdps_login", ("sdps_host", "sdps_user"), ()),
    ("uidl_import", "event=altpop_uidl_import_finished", ("user",),
     ("matched_count", "unmatched_count", "unused_count")),
    ("uidl_map_conflict", "event=altpop_uidl_map_conflict", ("user",),
     ("dropped_count",)),
    ("kpop", "event=altpop_kpop_login_finished", ("principal", "kpop_service"),
     ()),
    ("kpop_refused", "event=altpop_kpop_login_finished AND error=*ticket*",
     (), ()),
    ("proxy", "event=altpop_proxy_login_finished", ("proxy_login", "xclient"),
     ()),
    ("proxy_refused",
     "event=altpop_proxy_login_finished AND error=*Authentication*",
     ("dest_port",), ()),
]

# the commands of scripted_session() after login, with their replies' state
EXPECTED_COUNTS = {("STAT", "OK"): 1, ("LIST", "OK"): 1, ("RETR", "OK"): 2,
                   ("unknown", "ERR"): 1, ("QUIT", "OK"): 1}


def stats_settings(port):
    """The OpenMetrics listener on port and the METRICS."""
    return (harness.stats_http_listener(port) +
            "".join(harness.metric(*m) for m in METRICS))


def events_instance(make_instance, protocols, extra_altpop="", extra="",
                    login_delay=3600):
    port = harness.free_ports(1)[0]
    extra += stats_settings(port)
    # global scope: altpop's per-user values come from userdb
    extra += harness.setting("altpop_login_delay", login_delay)
    inst = make_instance(protocols=protocols, extra=extra,
                         extra_altpop=extra_altpop,
                         passdb_fields={EXPIRE_USER: "userdb_altpop_expire=0"})
    inst.stats_port = port
    return inst


def scripted_session(port, user=USER, password=PASSWORD):
    """USER/PASS, STAT, LIST, RETR 1 twice, a bad command, QUIT; returns the
    bytes of one RETR 1 reply."""
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user(user)
    p.pass_(password)
    assert p.stat()[0] == 2
    p.list()
    resp, _, octets = p.retr(1)
    # status line, the (dot-stuffed) lines poplib counted, ".\r\n"
    retr_bytes = len(resp) + 2 + octets + 3
    assert p.retr(1)[2] == octets
    with pytest.raises(poplib.error_proto):
        p._shortcmd(BAD_COMMAND)
    assert p.quit().startswith(b"+OK")
    return retr_bytes


def openmetrics(inst):
    """{metric line name: {frozenset(labels): value}} from the stats
    service's OpenMetrics page."""
    res = subprocess.run(["curl", "-sS", "--max-time", "10",
                          "http://127.0.0.1:%d/metrics" % inst.stats_port],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    assert res.returncode == 0, res.stderr
    page = res.stdout.decode()
    assert page.rstrip().endswith("# EOF"), page[-500:]
    result = {}
    rx = re.compile(r'^(\w+)(?:\{(.*)\})? (\S+)$')
    for line in page.splitlines():
        m = rx.match(line)
        if m is None or line.startswith("#"):
            continue
        labels = frozenset(re.findall(r'(\w+)="([^"]*)"', m.group(2) or ""))
        result.setdefault(m.group(1), {})[labels] = float(m.group(3))
    return result


def counts(page, metric, *label_names):
    """{label values: count} of a metric's sub-metrics on the page."""
    out = {}
    for labels, value in page.get("dovecot_%s_total" % metric, {}).items():
        d = dict(labels)
        if set(d) == set(label_names):
            out[tuple(d[name] for name in label_names)] = int(value)
    return out


def stats_dump(inst):
    """{(metric, field): (count, sum)} from doveadm stats dump; sub-metrics
    are named <metric>_<value>[_<value>]."""
    argv = inst.ns_command(["doveadm", "-c", str(inst.conf), "stats", "dump",
                            "-f", "count sum"])
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         timeout=30)
    assert res.returncode == 0, res.stderr
    out = {}
    for line in res.stdout.decode().splitlines()[1:]:
        parts = line.split("\t")
        if len(parts) == 4 and parts[2].isdigit():
            out[(parts[0], parts[1])] = (int(parts[2]), int(parts[3]))
    return out


def wait_count(inst, metric, labels, value):
    assert wait_until(lambda: counts(openmetrics(inst), metric,
                                     *labels) == value, 10), \
        (metric, counts(openmetrics(inst), metric, *labels), value)


def test_command_events_counted(make_instance):
    protocols = ["altpop", "pop3"]
    inst = events_instance(make_instance, protocols)
    for i in (1, 2):
        inst.deliver(USER, mailgen.numbered(i))
    retr_bytes = scripted_session(inst.port("altpop"))
    # the same session against Dovecot's pop3 (the same replies' sizes)
    assert scripted_session(inst.port("pop3")) == retr_bytes

    # every command counted once, named as Dovecot's pop3 names them
    wait_count(inst, "altpop_cmds", ("cmd_name", "reply_state"),
               EXPECTED_COUNTS)
    page = openmetrics(inst)
    stock = counts(page, "stock_cmds", "cmd_name", "reply_state")
    total = sum(EXPECTED_COUNTS.values())
    if harness.IS_24:
        # Dovecot's pop3 counts that session the same
        assert stock == EXPECTED_COUNTS
        assert counts(page, "all_cmds") == {(): 2 * total}
    else:
        # Dovecot 2.3's pop3 sends no command events
        assert stock == {}
        assert counts(page, "all_cmds") == {(): total}
    assert counts(page, "altpop_retr", "user") == {(USER,): 2}
    assert counts(page, "altpop_errors", "cmd_input_name") == {(BAD_COMMAND,): 1}
    conn = counts(page, "altpop_conn", "remote_ip", "session")
    assert len(conn) == 1 and list(conn.values()) == [total], conn
    ((remote_ip, session),) = conn
    assert remote_ip == "127.0.0.1" and session, conn
    if harness.IS_24:
        # a dashboard grouping by remote_ip sees both alike
        assert counts(page, "stock_conn", "remote_ip") == \
            {("127.0.0.1",): total}

    # the byte counters, as Dovecot's pop3 counts them
    dump = stats_dump(inst)
    assert dump[("altpop_retr_%s" % USER, "net_out_bytes")] == \
        (2, 2 * retr_bytes), dump
    for cmd_name, wire in (("RETR", b"RETR 1\r\n"), ("STAT", b"STAT\r\n")):
        count = EXPECTED_COUNTS[(cmd_name, "OK")]
        name = "altpop_cmds_%s_OK" % cmd_name
        assert dump[(name, "net_in_bytes")] == (count, count * len(wire)), dump
        if harness.IS_24:
            stock_name = "stock_cmds_%s_OK" % cmd_name
            assert dump[(stock_name, "net_in_bytes")] == \
                dump[(name, "net_in_bytes")], dump
            assert dump[(stock_name, "net_out_bytes")] == \
                dump[(name, "net_out_bytes")], dump

    # LOGIN-DELAY: a second login within the hour is refused and counted
    p = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=30)
    p.user(USER)
    with pytest.raises(poplib.error_proto, match=r"LOGIN-DELAY"):
        p.pass_(PASSWORD)
    p.close()
    wait_count(inst, "login_delay", ("user",), {(USER,): 1})
    dump = stats_dump(inst)
    assert dump[("login_delay_%s" % USER, "login_delay_secs")] == (1, 3600)
    # no session, so no command was counted
    assert counts(openmetrics(inst), "altpop_cmds", "cmd_name",
                  "reply_state") == EXPECTED_COUNTS


def test_expire_event(make_instance):
    inst = events_instance(make_instance, ["altpop"], login_delay=0)
    for i in (1, 2):
        inst.deliver(EXPIRE_USER, mailgen.numbered(i))
    port = inst.port("altpop")
    scripted_session(port, EXPIRE_USER, EXPIRE_PASSWORD)
    # EXPIRE 0: the retrieved message went at QUIT
    wait_count(inst, "expire", ("expire_at",), {("quit",): 1})
    # a session without QUIT leaves its retrieval to the next one's start
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user(EXPIRE_USER)
    p.pass_(EXPIRE_PASSWORD)
    p.retr(1)
    p.close()
    # recorded as that session ends
    retrieved = inst.maildir(EXPIRE_USER) / "dovecot-altpop-retrieved"
    assert wait_until(lambda: retrieved.exists() and
                      len(retrieved.read_text().splitlines()) == 2, 10)
    assert inst.message_count(EXPIRE_USER) == 1
    p = poplib.POP3("127.0.0.1", port, timeout=30)
    p.user(EXPIRE_USER)
    p.pass_(EXPIRE_PASSWORD)
    assert p.stat()[0] == 0
    p.quit()
    wait_count(inst, "expire", ("expire_at",),
               {("quit",): 1, ("session_start",): 1})
    dump = stats_dump(inst)
    assert [dump[("expire_%s" % at, "expunged_count")]
            for at in ("quit", "session_start")] == [(1, 1), (1, 1)], dump


def legacy_line(raw, uidl):
    """A line of altpop -I's legacy UIDL file for message raw."""
    header = raw.split(b"\n\n", 1)[0].split(b"\n")
    md5 = hashlib.md5(b"".join(line + b"\r\n" for line in header)).hexdigest()
    size = len(raw.replace(b"\n", b"\r\n"))
    return "%d %s %s\n" % (size, md5, uidl)


def test_sdps_login_and_uidl_import_events(make_instance, stage, tmp_path):
    inst = events_instance(make_instance, ["altpop"], extra_altpop=harness.setting(
        "altpop_sdps_listeners", "pop3"))
    msgs = [mailgen.numbered(i) for i in (1, 2)]
    for raw in msgs:
        inst.deliver(USER, raw)

    # carol's view of the host account alice
    p = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=30)
    p.user("carol@" + USER)
    p.pass_(PASSWORD)
    p.quit()
    wait_count(inst, "sdps", ("sdps_host", "sdps_user"), {(USER, "carol"): 1})

    # one legacy entry matches message 1, one matches nothing
    legacy = tmp_path / "legacy-uidls"
    legacy.write_text(legacy_line(msgs[0], "legacy-1") +
                      legacy_line(mailgen.numbered(9), "legacy-9"))
    legacy.chmod(0o644)
    res = subprocess.run(inst.ns_command([str(stage.mail), "-c", str(inst.conf),
                                          "-u", USER, "-I", str(legacy)]),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         timeout=60)
    assert res.returncode == 0, res.stdout
    assert b"matched and imported: 1" in res.stdout, res.stdout
    wait_count(inst, "uidl_import", ("user",), {(USER,): 1})
    dump = stats_dump(inst)
    name = "uidl_import_%s" % USER
    # message 2 has no entry, legacy-9 no message
    assert [dump[(name, f)] for f in ("matched_count", "unmatched_count",
                                      "unused_count")] == [(1, 1)] * 3, dump


def test_proxy_login_event(make_instance):
    # altpop-login proxies to Dovecot's pop3 of the same instance, which
    # takes XCLIENT from it
    inst = events_instance(make_instance, ["altpop", "pop3"],
                           extra=harness.setting("login_trusted_networks",
                                                 "127.0.0.0/8"))
    backend = inst.port("pop3")
    for user, password in (("px", USER + "pw"), ("py", "wrong")):
        inst.passdb_fields[user] = ("proxy host=127.0.0.1 port=%d destuser=%s "
                                    "pass=%s" % (backend, USER, password))
    inst.add_user("px", "pxpw")
    inst.add_user("py", "pypw")
    p = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=30)
    p.user("px")
    p.pass_("pxpw")
    p.quit()
    p = poplib.POP3("127.0.0.1", inst.port("altpop"), timeout=30)
    p.user("py")
    with pytest.raises(poplib.error_proto, match=r"AUTH"):
        p.pass_("pypw")
    p.close()
    # one event per login to the backend, the refused one with its error
    wait_count(inst, "proxy", ("proxy_login", "xclient"), {("USER", "yes"): 2})
    wait_count(inst, "proxy_refused", ("dest_port",), {(str(backend),): 1})


def test_uidl_map_conflict_event(make_instance):
    """An entry saved by another writer between the session's read of the
    UIDL map and its commit wins (test_uidl_map_concurrency.py): the
    session's entry dropped is counted."""
    from test_uidl_map_concurrency import SETTINGS, save_racing_another_writer
    inst = events_instance(make_instance, ["altpop"], extra_altpop=SETTINGS,
                           login_delay=0)
    shown = save_racing_another_writer(inst)[2]
    assert shown[1] == "theirs-2"
    wait_count(inst, "uidl_map_conflict", ("user",), {(USER,): 1})
    assert stats_dump(inst)[("uidl_map_conflict_%s" % USER,
                             "dropped_count")] == (1, 1)


def test_kpop_login_event(kpop_stage, realm, ccache):
    """Counted in the auth process, where the ticket is checked."""
    port = harness.free_ports(1)[0]
    inst = make_kpop_instance(kpop_stage, realm, extra=kpop_settings(
        realm, keytab=realm.all_keytab) + stats_settings(port))
    inst.stats_port = port
    with inst:
        res = kpop_client(realm, ccache, kport(inst), "-s", "pop3",
                          "-c", "STAT")
        assert LOGGED_IN in res.lines, res
        # a key of another service of the keytab
        res = kpop_client(realm, ccache, kport(inst), "-s", "imap",
                          "-c", "STAT")
        assert LOGGED_IN not in res.lines, res
        principal = "alice@%s" % realm.realm
        wait_count(inst, "kpop", ("principal", "kpop_service"),
                   {(principal, "pop3"): 1, (principal, "imap"): 1})
        wait_count(inst, "kpop_refused", (), {(): 1})
