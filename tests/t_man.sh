#!/bin/sh
# t_man.sh - every man page (man/*.5, man/*.8) renders without a groff
# warning, and exorelay.conf(5) documents every key of the key tables
# (common/conf_keys.c) in its own section, with the table's default.
. "$(dirname "$0")/lib/common.sh"
command -v groff >/dev/null 2>&1 || skip_all "groff is not installed (make deps)"

n=0
for page in "$TOP"/man/*.5 "$TOP"/man/*.8; do
    [ -e "$page" ] || continue
    n=$((n + 1))
    name=$(basename "$page")
    groff -man -ww -Tutf8 "$page" >/dev/null 2>"$TESTS_TMP/$name.warn"
    rc=$?
    [ $rc -eq 0 ] && [ ! -s "$TESTS_TMP/$name.warn" ]
    tap_ok $? "$name renders without warnings"
    sed 's/^/#   /' "$TESTS_TMP/$name.warn"
done
[ $n -gt 0 ]
tap_ok $? "there are man pages to check ($n)"

# Key coverage: parse the tables and the page; print one TAP line per key.
"$PYTHON" - "$TOP/common/conf_keys.c" "$TOP/man/exorelay.conf.5" "$_tap_n" <<'PY'
import re, sys
src, page, n = open(sys.argv[1]).read(), open(sys.argv[2]).read(), int(sys.argv[3])
# Section of each table, from the conf_sections[] entries.
tables = dict((t, s) for s, t in re.findall(r'(?:SINGLE\(|\{)"(\w+)",\s*(?:1,\s*)?(\w+_keys)', src))
def plain(text):
    text = re.sub(r'\\f[BIRP]', '', text)
    return text.replace('"', '').replace('\\-', '-').replace('\\(ha', '^').replace('\\e', '\\')
# The page's key entries, per section: ".SH "[name ...] SECTION"" then ".TP/.B key".
sections, cur = {}, None
for chunk in re.split(r'\n(?=\.SH )', page):
    m = re.match(r'\.SH "\[(\w+)', chunk)
    if not m:
        continue
    entries = re.split(r'\n\.TP\n\.B ', chunk)[1:]
    sections[m.group(1)] = dict((e.split('\n', 1)[0], plain(e)) for e in entries)
for table, body in re.findall(r'conf_key (\w+_keys)\[\] = \{(.*?)\n\};', src, re.S):
    sec = tables[table]
    for key, dflt in re.findall(r'KEY\("(\w+)",\s*\w+,\s*(NONE|"[^"]*")', body):
        n += 1
        entry = sections.get(sec, {}).get(key)
        good = entry is not None and 'Format:' in entry and 'Example:' in entry
        why = 'entry with Format: and Example:'
        if good and dflt != 'NONE':
            d = dflt.strip('"')
            good = re.search(r'Default:\s*\n?' + re.escape(d) + r'\b', entry.replace('\n.BR ', '\n').replace('\n.B ', '\n')) is not None
            why += ', Default: ' + d
        print('%sok %d - exorelay.conf(5) [%s] %s: %s' % ('' if good else 'not ', n, sec, key, why))
PY
