"""Defects of issue 10, each with the test that showed it:

8. altpop_idle_timeout has an upper bound (its milliseconds wrapped).
"""

import os
import re
import subprocess

import pytest

import harness
import mailgen
import popclient
from servercheck import capa_lines, login, wait_until

CRLF = b"\r\n"


def disconnected_line(instance, proto, start=0, timeout=10):
    """The post-login process's 'Disconnected' line logged after start."""
    rx = re.compile(r"%s\(\w+\)<\d+><[^>]*>: Info: Disconnected: .*"
                    % ("pop3" if proto == "pop3" else "altpop"))
    found = []

    def seen():
        found[:] = rx.findall(instance.log_text()[start:])
        return bool(found)
    assert wait_until(seen, timeout), instance.log_tail(20)
    return found[0]


# --------------------------------------------------------------------------
# 8. altpop_idle_timeout bounds


@pytest.mark.altpop_only
@pytest.mark.parametrize("value", ["50 days", "4294968 secs"])
def test_idle_timeout_too_large_is_config_error(make_instance, value):
    with pytest.raises(harness.HarnessError) as exc:
        make_instance(extra_altpop=harness.setting("altpop_idle_timeout", value))
    assert "altpop_idle_timeout" in str(exc.value)


@pytest.mark.altpop_only
def test_idle_timeout_of_a_day_accepted(make_instance):
    inst = make_instance(extra_altpop=harness.setting("altpop_idle_timeout",
                                                      "1 day"))
    c = login(inst.port("altpop"))
    c.quit()
