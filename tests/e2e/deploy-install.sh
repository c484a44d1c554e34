#!/bin/bash
# deploy-install.sh -- `make install DESTDIR=...` puts the daemon and its
# man pages in place, the man pages are lint-clean (mandoc -Tlint and
# groff -ww), and the runtime packages that tools/deploy/Containerfile
# installs are exactly the Debian packages of the libraries the installed
# binary links.

. "$(dirname "$0")/lib.sh"

need make readelf nm ldd dpkg mandoc groff

DEST=$E2E_TMP/dest
if ! OUT=$(make -s -C "$top_builddir" install DESTDIR="$DEST" 2>&1); then
	fail "make install DESTDIR" "exit status 0" "an error"
	finish
fi
OUT=

bin=$(find "$DEST" -type f -name clusterdns -perm -u+x | head -n 1)
check_match "installed: the daemon in sbin" '/sbin/clusterdns$' "$bin"
check_match "installed: it runs" '^clusterdns-' "$("$bin" -version 2>&1)"

for page in man8/clusterdns.8 man5/clusterdns-corefile.5; do
	f=$(find "$DEST" -type f -path "*/man/$page" | head -n 1)
	check_match "installed: $page" "/man/$page\$" "$f"
	[ -n "$f" ] || continue
	check "$page: mandoc -Tlint is silent" "" "$(mandoc -Tlint "$f" 2>&1)"
	check "$page: groff -ww is silent" "" "$(groff -ww -z -man "$f" 2>&1)"
	check_match "$page: it has a NAME section" '^\.SH NAME$' "$(cat "$f")"
done

# The test of the lint: a broken page is reported.
printf '.TH X 1\n.SH NAME\nx \\- y\n.BR\n.fi\n.xx\n' >"$E2E_TMP/bad.1"
check_match "a broken page is reported by mandoc" 'WARNING|ERROR' \
	"$(mandoc -Tlint "$E2E_TMP/bad.1" 2>&1)"

# ---------------------------------------------------------------- runtime packages

# pkg_of LIBRARY-PATH: the Debian package holding it (usrmerge: /lib and
# /usr/lib are tried, the path and its target).
pkg_of()
{
	local p r c
	r=$(readlink -f "$1")
	for c in "$1" "/usr$1" "$r" "/usr$r" "${1#/usr}" "${r#/usr}"; do
		p=$(dpkg -S "$c" 2>/dev/null | head -n 1 | sed 's/[:,].*//')
		[ -n "$p" ] && break
	done
	echo "${p:-?$1}"
}

# The libraries the binary names (NEEDED) and takes a symbol from, their
# paths from ldd.  A sanitizer build names more libraries than the build
# the image makes (the linker's --as-needed keeps the others out there),
# so a library counts only when it is the first one, in NEEDED order as
# the dynamic linker searches them, to define a symbol the binary imports.
# libc6 is in every Debian image; the sanitizer runtimes are only in test
# builds.
syms()
{
	nm -D "$@" 2>/dev/null | awk '{ print $NF }' | sed 's/@.*//' |
		LC_ALL=C sort -u
}
syms --undefined-only "$bin" >"$E2E_TMP/undef"
need_pkgs=
for lib in $(readelf -d "$bin" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	path=$(ldd "$bin" | awk -v l="$lib" '$1 == l { print $3 }')
	p=$(pkg_of "$path")
	syms --defined-only "$path" >"$E2E_TMP/def"
	LC_ALL=C comm -12 "$E2E_TMP/undef" "$E2E_TMP/def" >"$E2E_TMP/used"
	LC_ALL=C comm -23 "$E2E_TMP/undef" "$E2E_TMP/def" >"$E2E_TMP/left"
	mv "$E2E_TMP/left" "$E2E_TMP/undef"
	case $p in
	libc6 | libasan* | libubsan* | libgcc-s1) continue ;;
	esac
	[ -s "$E2E_TMP/used" ] && need_pkgs="$need_pkgs $p"
done
need_pkgs=$(printf '%s\n' $need_pkgs | LC_ALL=C sort -u | tr '\n' ' ')

# The runtime stage's apt-get install list.
image_pkgs=$(awk '/^FROM/ { last = NR } { line[NR] = $0 }
	END {
		for (i = last; i in line; i++) {
			n = split(line[i], w, /[ \t\\]+/)
			for (j = 1; j <= n; j++) {
				if (w[j] == "--no-install-recommends") { on = 1; continue }
				if (w[j] == "&&" && on && seen) { on = 0; exit }
				if (on && w[j] != "") { print w[j]; seen = 1 }
			}
		}
	}' "$top_srcdir/tools/deploy/Containerfile" | LC_ALL=C sort -u | tr '\n' ' ')

check_match "ldd: the libraries map to packages" '^([a-z0-9.+-]+ )+$' "$need_pkgs"
check "Containerfile: the runtime packages are what the binary links" \
	"$need_pkgs" "$image_pkgs"

finish
