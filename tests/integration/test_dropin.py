# SPDX-License-Identifier: LGPL-2.1-only
"""altpop as a drop-in for Dovecot's pop3: for each pop3_* setting, the
same session against stock pop3 with the setting and altpop with its
altpop_* equivalent gives byte-identical replies and leaves the mailbox in
the same state (README, "Coming from Dovecot's pop3"; tests/integration/
dropin.py runs the sessions)."""

import pytest

import dropin
import mailgen

pytestmark = pytest.mark.altpop_only

BASIC = ["STAT", "LIST", "UIDL", "LIST 2", "UIDL 2", "RETR 1", "TOP 2 1",
         "NOOP", "DELE 1", "STAT", "QUIT"]


def test_defaults_agree(make_instance):
    """Without any of the settings both servers answer a plain session
    alike: the ground the other tests stand on."""
    inst = dropin.instance(make_instance)
    dropin.deliver_both(inst, [mailgen.numbered(i) for i in range(1, 4)])
    dropin.compare(inst, BASIC)
