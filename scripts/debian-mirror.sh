# Sourced by the scripts that build Debian chroots (scripts/debian13-chroot.sh,
# tests/package/run.sh): the Debian archive this machine's apt already uses,
# from its deb822 or one-line sources. Nothing else is ever contacted.

# debian_mirror_url: the first URI that is not a security archive
debian_mirror_url() {
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk '$1 == "deb" && $2 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^(http|https|file):/) { print $i; exit } }' "$f"
		done
	} | head -n 1
}

# debian_security_url: the first security archive URI (may be empty)
debian_security_url() {
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -f "$f" ] || continue
			awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /security/) { print $i; exit } }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -f "$f" ] || continue
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^(http|https|file):/ && $i ~ /security/) { print $i; exit } }' "$f"
		done
	} | head -n 1
}
