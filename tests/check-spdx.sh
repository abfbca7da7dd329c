#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-only
# Every source file of the tree names altpop's license (README, License):
# C sources and headers, shell and Python programs (by name or by their
# "#!" line), Makefile.am and configure.ac. Lists the files that lack the
# SPDX-License-Identifier line among their first three lines and fails.
#   tests/check-spdx.sh          check (make check runs it)
#   tests/check-spdx.sh --add    add the line where it is missing
cd "$(dirname "$0")/.." || exit 1
id="SPDX-License-Identifier: LGPL-2.1-only"
add=no
[ "${1:-}" = --add ] && add=yes

if command -v git >/dev/null 2>&1 && git rev-parse --git-dir >/dev/null 2>&1; then
	list() { git ls-files; }
else
	# a copy without git (a chroot's): the sources by name, not the
	# build products (libtool, config.status, ... have "#!" lines too)
	list() {
		ls Makefile.am configure.ac autogen.sh
		find module include tests scripts tools debian -type f \
			\( -name '*.[ch]' -o -name '*.sh' -o -name '*.py' \) -print
	}
fi

is_source() {
	case "$1" in
	tests/fuzz/corpus/*|*.md|COPYING|debian/changelog) return 1 ;;
	*.c|*.h|*.sh|*.py|*.sh.in|*/Makefile.am|Makefile.am|configure.ac) return 0 ;;
	esac
	head -c 2 "$1" 2>/dev/null | grep -q '^#!'
}

# add_line FILE: the identifier as a comment in FILE's language, after a
# "#!" line if there is one
add_line() {
	case "$1" in
	*.c|*.h) line="/* $id */" ;;
	configure.ac) line="dnl $id" ;;
	*) line="# $id" ;;
	esac
	if head -c 2 "$1" | grep -q '^#!'; then
		sed -i "1a\\
$line" "$1"
	else
		sed -i "1i\\
$line" "$1"
	fi
}

missing=0
for f in $(list); do
	[ -f "$f" ] || continue
	is_source "$f" || continue
	head -n 3 "$f" | grep -q "$id" && continue
	if [ "$add" = yes ]; then
		add_line "$f"
		echo "added: $f"
	else
		echo "check-spdx: $f lacks \"$id\" in its first lines" >&2
		missing=$((missing + 1))
	fi
done
if [ "$missing" -gt 0 ]; then
	echo "check-spdx: $missing source files without the license line (tests/check-spdx.sh --add adds it)" >&2
	exit 1
fi
[ "$add" = yes ] || echo "check-spdx: every source file names LGPL-2.1-only"
