# SPDX-License-Identifier: LGPL-2.1-only
"""KPOP service names (issue 10, defect 1): fetchmail asks for a ticket for
pop/<host>, Emacs movemail for pop3/<host>. Both are accepted by default;
altpop_kpop_services names the accepted services. The client here is
tests/kpop-client naming the service with -s (movemail itself is not
built: same krb5_sendauth() call, service "pop3")."""

import pytest

import harness
from harness import kdc
from test_kpop import (HOST, kpop_client, kpop_settings, kport,  # noqa: F401
                       kpop_stage, make_kpop_instance, _unavailable)

LOGGED_IN = "S: +OK Logged in."


@pytest.fixture(scope="module")
def realm():
    reason = kdc.available()
    if reason:
        _unavailable(reason)
    with kdc.KDC(services=["pop3/%s" % HOST, "imap/%s" % HOST]) as k:
        # the keytab Dovecot reads: pop/, pop3/ and another service's key
        k.all_keytab = k.server_keytab(
            "all.keytab", [k.service_principal, "pop3/%s" % HOST, "imap/%s" % HOST])
        yield k


@pytest.fixture(scope="module")
def ccache(realm):
    return realm.kinit("alice")


def _instance(stage, realm, extra_login=""):
    return make_kpop_instance(
        stage, realm,
        extra=kpop_settings(realm, keytab=realm.all_keytab) + extra_login)


@pytest.fixture(scope="module")
def default_inst(kpop_stage, realm):
    with _instance(kpop_stage, realm) as inst:
        yield inst


@pytest.fixture(scope="module")
def pop_only_inst(kpop_stage, realm):
    with _instance(kpop_stage, realm,
                   harness.setting("altpop_kpop_services", "pop")) as inst:
        yield inst


@pytest.mark.parametrize("service", ["pop", "pop3"])
def test_default_accepts_pop_and_pop3(default_inst, realm, ccache, service):
    res = kpop_client(realm, ccache, kport(default_inst), "-s", service,
                      "-c", "STAT")
    assert res.returncode == 0, res
    assert LOGGED_IN in res.lines, res


def test_other_service_refused(default_inst, realm, ccache):
    """A key of another service in the same keytab does not log in."""
    start = len(default_inst.log_text())
    res = kpop_client(realm, ccache, kport(default_inst), "-s", "imap",
                      "-c", "STAT")
    assert res.returncode != 0, res
    assert LOGGED_IN not in res.lines, res
    assert default_inst.wait_log(r"KPOP ticket rejected: ticket is for imap/",
                                 timeout=20, start=start), \
        default_inst.log_tail(20)


def test_setting_restricts_services(pop_only_inst, realm, ccache):
    res = kpop_client(realm, ccache, kport(pop_only_inst), "-s", "pop",
                      "-c", "STAT")
    assert LOGGED_IN in res.lines, res
    res = kpop_client(realm, ccache, kport(pop_only_inst), "-s", "pop3",
                      "-c", "STAT")
    assert res.returncode != 0, res
    assert LOGGED_IN not in res.lines, res


@pytest.mark.parametrize("value", ['""', "pop/host", "pop@x"])
def test_bad_service_list_is_config_error(kpop_stage, value):
    with pytest.raises(harness.HarnessError) as exc:
        with harness.DovecotInstance(
                ["pop3", "altpop"], stage=kpop_stage,
                extra=harness.setting("altpop_kpop_services", value)):
            pass
    assert "altpop_kpop_services" in str(exc.value)
