#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Installs everything altpop needs to build, run its demo and run its tests
# on Debian 12, from Debian's own archive. Safe to run more than once.
set -e

if [ "$(id -u)" != 0 ]; then
	echo "install-deps.sh: run as root (it calls apt-get)" >&2
	exit 1
fi

# Build: Dovecot headers and autotools.
DOVECOT_PKGS="dovecot-core dovecot-dev dovecot-pop3d dovecot-lmtpd dovecot-gssapi"
BUILD_PKGS="autoconf automake libtool pkg-config make gcc libkrb5-dev libssl-dev
 libidn-dev libsasl2-dev"
# ALTPOP_DOVECOT_FROM_SOURCE=1: Dovecot is (to be) built from its upstream
# source (tests/upstream-dovecot.sh): no Debian dovecot-* package is
# installed, Dovecot's own build dependencies are, instead.
if [ "${ALTPOP_DOVECOT_FROM_SOURCE:-}" = 1 ]; then
	DOVECOT_PKGS="build-essential libc6-dev zlib1g-dev libbz2-dev liblz4-dev
 libzstd-dev liblzma-dev libpam0g-dev libcap-dev"
fi
# Fuzzing (make fuzz, tests/fuzz/run.sh): clang with libFuzzer and the
# sanitizer runtimes (clang 14 / libclang-rt-14-dev on Debian 12, clang 19 /
# libclang-rt-19-dev on Debian 13).
FUZZ_PKGS="clang libclang-rt-dev"
# Tests: real clients, a real KDC, Python's pytest. (The migration tests
# fetch the legacy servers' .debs themselves with apt-get download and
# never install them; libtimedate-perl is what mb2md needs to run;
# sasl2-bin (saslpasswd2, saslauthd) and the sasldb plugin are for the
# cyrussasl passdb tests, which run saslauthd themselves; libfuse3-dev and
# fuse3 build and mount tests/eiofs, the EIO fault layer.)
TEST_PKGS="python3 python3-pytest python3-pytest-xdist openssl ca-certificates procps iproute2
 libfuse3-dev fuse3
 util-linux krb5-kdc krb5-admin-server krb5-user fetchmail mpop curl
 getmail6 cyrus-clients libsasl2-modules libsasl2-modules-gssapi-mit
 libtimedate-perl sasl2-bin libsasl2-modules-db"
# Emacs movemail, built by the tests from Debian's emacs source package
# (tests/movemail/build.sh: apt-get source needs dpkg-dev; Emacs's configure
# insists on a terminal library)
MOVEMAIL_PKGS="dpkg-dev xz-utils libncurses-dev"
# The Debian chroots of the other releases tests/run.sh runs
# (scripts/debian-chroot.sh, tests/package/run.sh)
CHROOT_PKGS="debootstrap"

missing=""
for p in $DOVECOT_PKGS $BUILD_PKGS $FUZZ_PKGS $TEST_PKGS $MOVEMAIL_PKGS $CHROOT_PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update
	apt-get install -y --no-install-recommends $missing
fi

# Mail files of test and demo instances belong to this unprivileged user.
if ! id vmail >/dev/null 2>&1; then
	useradd --system --user-group --no-create-home --shell /usr/sbin/nologin vmail
fi
