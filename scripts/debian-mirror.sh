# SPDX-License-Identifier: LGPL-2.1-only
# Sourced by the scripts that build Debian chroots (scripts/debian-chroot.sh,
# tests/package/run.sh): the Debian archive this machine's apt already uses,
# from its deb822 or one-line sources. Nothing else is ever contacted.

# _debian_archive_uri yes|no: the first archive URI that is (yes) or is not
# (no) a security archive, from deb822 sources first, then one-line sources
_debian_archive_uri() {
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk -v sec="$1" '/^URIs:/ { for (i = 2; i <= NF; i++) if (($i ~ /security/) == (sec == "yes")) { print $i; exit } }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk -v sec="$1" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(http|https|file):/ && ($i ~ /security/) == (sec == "yes")) { print $i; exit } }' "$f"
		done
	} | head -n 1
}

# debian_mirror_url: the first URI that is not a security archive
debian_mirror_url() { _debian_archive_uri no; }

# debian_security_url: the first security archive URI (may be empty)
debian_security_url() { _debian_archive_uri yes; }
