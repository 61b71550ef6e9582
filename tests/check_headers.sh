#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Every header in include/iommusim/ is in public_header_names
# (include/meson.build: installed and compiled on its own), and every name
# there is a header: a new header cannot be left out of the install.
# usage: check_headers.sh SOURCE_ROOT
set -euo pipefail
root=$1
listed=$(sed -n "/^public_header_names = \[/,/^\]/ s/^ *'\([a-z0-9_]*\)',$/\1/p" \
	"$root/include/meson.build" | sort)
present=$(cd "$root/include/iommusim" && ls -- *.h | sed 's/\.h$//' | sort)
if [ "$listed" != "$present" ]; then
	echo "include/meson.build's public_header_names and include/iommusim/*.h differ:" >&2
	diff -u --label listed --label include/iommusim <(echo "$listed") <(echo "$present") >&2 ||
		true
	exit 1
fi
echo "$(echo "$present" | wc -l) public headers, all listed"
