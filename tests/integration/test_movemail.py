# SPDX-License-Identifier: LGPL-2.1-only
"""Emacs movemail as a real KPOP client (issue 10, defect 1).

movemail is built from Debian's emacs source package with POP and Kerberos V5
(tests/movemail/build.sh, cached between runs). Called without a password it
does KPOP: krb5_sendauth() with a ticket for pop3/<host> (fetchmail asks for
pop/<host>), then USER/PASS, STAT, RETR and DELE of every message, QUIT. It
connects to the port of the "kpop" service in /etc/services (1109) and has
no option for another: it runs in a private mount namespace whose
/etc/services maps kpop to the test instance's KPOP listener.

The server's keytab holds only pop3/<host>: movemail fetches every message
byte for byte (as an mbox, CRLF turned into LF) and deletes them; with
altpop_kpop_services = pop it is refused with the server's reason and the
log names the setting.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest

import harness
import mailgen
from test_kpop import (HOST, LOGGED_IN, _require, kpop_realm,  # noqa: F401
                       kpop_settings, kport, kpop_stage, make_kpop_instance)

# real clients, differential, KPOP: run on every Dovecot CI covers
pytestmark = pytest.mark.core

BUILD = harness.REPO_ROOT / "tests" / "movemail" / "build.sh"
# building takes minutes on a busy machine (the cached binary: none)
BUILD_TIMEOUT = 1800
MOVEMAIL_TIMEOUT = 120
FROM_LINE = re.compile(rb"^From movemail [^\n]*\n", re.M)


@pytest.fixture(scope="module")
def movemail():
    try:
        res = subprocess.run(["sh", str(BUILD)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=BUILD_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail("tests/movemail/build.sh took more than %d s" % BUILD_TIMEOUT,
                    pytrace=False)
    if res.returncode != 0:
        reason = "movemail not built: %s" % res.stderr.decode(errors="replace")[-2000:]
        if _require():
            pytest.fail(reason, pytrace=False)
        pytest.skip(reason)
    return res.stdout.decode().strip()


@pytest.fixture(scope="module")
def realm():
    with kpop_realm(["pop3/%s" % HOST]) as k:
        # the keytab Dovecot reads holds pop3/<host> only
        k.pop3_keytab = k.server_keytab("pop3-only.keytab", ["pop3/%s" % HOST])
        yield k


@pytest.fixture(scope="module")
def ccache(realm):
    return realm.kinit("alice")


def _instance(stage, realm, services=None):
    extra = kpop_settings(realm, keytab=realm.pop3_keytab)
    if services is not None:
        extra += harness.setting("altpop_kpop_services", services)
    return make_kpop_instance(stage, realm, extra=extra)


def run_movemail(movemail, realm, ccache, inst, workdir):
    """movemail po:alice OUT against inst's KPOP listener: (CompletedProcess,
    path of OUT)."""
    services = Path(workdir) / "services"
    system = Path("/etc/services").read_text(errors="replace")
    kept = [l for l in system.splitlines() if not re.match(r"kpop\s", l)]
    services.write_text("\n".join(kept + ["kpop\t\t%d/tcp" % kport(inst)]) + "\n")
    out = Path(workdir) / "mbox"
    env = dict(os.environ)
    env.update(realm.env(ccache))
    env["MAILHOST"] = HOST
    script = 'mount --bind "$1" /etc/services && shift && exec "$@"'
    argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script,
            "sh", str(services), movemail, "po:alice", str(out)]
    res = subprocess.run(argv, env=env, cwd=workdir, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=MOVEMAIL_TIMEOUT)
    return res, out


def test_movemail_fetches_over_kpop(kpop_stage, movemail, realm, ccache, workdir):
    with _instance(kpop_stage, realm) as inst:
        msgs = mailgen.small_set()
        for _, raw in msgs:
            inst.deliver("alice", raw)
        res, out = run_movemail(movemail, realm, ccache, inst, workdir)
        text = res.stdout.decode(errors="replace")
        assert res.returncode == 0, text
        data = out.read_bytes()
        # an mbox: "From movemail <date>" before each message, an empty line
        # after it
        assert len(FROM_LINE.findall(data)) == len(msgs), data[:2000]
        expected = b"".join(b"From movemail X\n" + mailgen.as_delivered_lf(raw) + b"\n"
                            for _, raw in msgs)
        assert FROM_LINE.sub(b"From movemail X\n", data) == expected
        # movemail deletes what it fetched
        assert inst.message_count("alice") == 0
        inst.wait_log(r"altpop-kpop-login: Info: %s: user=<alice>, method=KPOP" % LOGGED_IN)


def test_movemail_refused_without_pop3_service(kpop_stage, movemail, realm, ccache,
                                               workdir):
    with _instance(kpop_stage, realm, services="pop") as inst:
        inst.deliver("alice", mailgen.simple())
        res, out = run_movemail(movemail, realm, ccache, inst, workdir)
        text = res.stdout.decode(errors="replace")
        assert res.returncode != 0, text
        # movemail shows the server's KRB-ERROR text
        assert "Kerberos error connecting to POP server" in text, text
        assert "The ticket isn't for us" in text, text
        assert not out.exists() or out.read_bytes() == b""
        assert inst.message_count("alice") == 1
        inst.wait_log(r"KPOP ticket rejected: ticket is for pop3/%s@%s, not for "
                      r"pop/%s \(altpop_kpop_services\)"
                      % (HOST, re.escape(realm.realm), HOST))
