#!/bin/sh
# Lint the man pages and check that every long option in each tool's --help
# appears in its page. usage: scripts/man-lint.sh BUILDDIR TOOL...
set -eu
bin=$1; shift
status=0
for page in man/*.[157]; do
    if command -v mandoc >/dev/null 2>&1; then
        out=$(mandoc -Tlint -W warning "$page" 2>&1 || true)
    else
        out=$(groff -man -ww -z "$page" 2>&1 || true)
    fi
    if [ -n "$out" ]; then
        echo "man-lint: $page:" >&2
        echo "$out" >&2
        status=1
    fi
done
for tool in "$@"; do
    page=man/$tool.1
    if [ ! -f "$page" ]; then
        echo "man-lint: $page is missing" >&2
        status=1
        continue
    fi
    for opt in $("$bin/$tool" --help | grep -o -- '--[a-z0-9][a-z0-9-]*' | sort -u); do
        # man pages escape dashes: \-\-name
        esc=$(printf '%s' "$opt" | sed 's/-/\\\\-/g')
        if ! grep -q -- "$esc\|$opt" "$page"; then
            echo "man-lint: $page does not document $opt" >&2
            status=1
        fi
    done
done
[ $status -eq 0 ] && echo "man-lint: man pages ok"
exit $status
