# SPDX-License-Identifier: LGPL-2.1-only
# Sourced by the tests here.
#   altpop_enable CONF            enables altpop as README.Debian says:
#                                 uncomments the protocols line (Dovecot
#                                 2.3) or block (2.4) at the top of CONF
#   dovecot_start USER PASSWORD   starts the system's Dovecot (a running
#                                 one is stopped first; stopped again when
#                                 the test exits) and waits until USER
#                                 logs in over POP3 on 127.0.0.1:110
#                                 (fails after 10 s)
# Needs fail() and WORK (removed at exit) from the test.

altpop_enable() {
	[ ! -e /usr/lib/dovecot/pop3-login ] ||
		fail "dovecot-pop3d is installed: it would answer on port 110 instead of altpop"
	sed -i -e 's/^#protocols = \$protocols altpop$/protocols = $protocols altpop/' \
		-e '/^#protocols {$/,/^#}$/s/^#//' "$1"
	doveconf -h protocols | grep -Eq '(^| )altpop( |$)|^altpop = yes$' ||
		fail "altpop not in protocols: $(doveconf -h protocols | tr '\n' ' ')"
}

dovecot_stop() {
	pidfile=$(doveconf -h base_dir)/master.pid
	if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
		pid=$(cat "$pidfile")
		kill "$pid"
		i=0
		while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
			sleep 0.1; i=$((i + 1))
		done
	fi
}

dovecot_start() {
	dovecot_stop
	trap 'dovecot_stop; rm -rf "$WORK"' EXIT
	dovecot
	i=0
	until curl -s --max-time 2 -u "$1:$2" pop3://127.0.0.1/ >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 50 ] || fail "Dovecot does not answer POP3 on 127.0.0.1:110 for $1"
		sleep 0.2
	done
}
