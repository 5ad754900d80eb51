#!/bin/bash
# t_layout.sh - the layout rule of relay/LAYERS: no #include runs upward.
# Every quoted include of a file under common/, milter/ or relay/PART/ must
# name a header of its own folder (bare name), of common/ ("common/x.h"),
# or of a relay part at or below its own ("token/token.h"); milter/ and
# common/ never include a relay part, and common/ never includes milter/.
# Also: each part's main header (LAYERS) exists and opens with a comment.
cd "$TOP" || exit 1
n=0; bad=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; }

# rank of each part: LAYERS lists them top-down, so the last is lowest
declare -A rank main
parts=()
while read -r part header _; do
    case "$part" in ''|'#'*) continue ;; esac
    parts+=("$part"); main[$part]=$header
done <relay/LAYERS
i=${#parts[@]}
for p in "${parts[@]}"; do rank[$p]=$i; i=$((i - 1)); done
rank[common]=0

# folder_rank DIR - the rank of a source folder, "milter" for milter/
folder_rank() {
    case "$1" in
    common) echo 0 ;;
    milter) echo milter ;;
    relay/*) echo "${rank[${1#relay/}]:-}" ;;
    esac
}

# every folder under relay/ is a part
for d in relay/*/; do
    d=${d%/}
    if [ -n "${rank[${d#relay/}]:-}" ]; then ok "$d is a part in relay/LAYERS"
    else not_ok "$d is not listed in relay/LAYERS"; fi
done
for f in relay/*.[ch]; do
    [ -e "$f" ] && not_ok "$f lies outside any part"
done

violations=0
for f in common/*.[ch] milter/*.[ch] relay/*/*.[ch]; do
    dir=${f%/*}; mine=$(folder_rank "$dir")
    while IFS= read -r inc; do
        case "$inc" in
        */*) part=${inc%%/*}
             if [ "$part" = common ]; then
                 [ -e "$inc" ] && continue
                 echo "# $f: $inc: no such header"
             elif [ "$part" = milter ]; then
                 echo "# $f: includes the milter ($inc)"
             elif [ "$mine" = milter ] || [ "$dir" = common ]; then
                 echo "# $f: $dir must not include a relay part ($inc)"
             elif [ -z "${rank[$part]:-}" ] || [ ! -e "relay/$inc" ]; then
                 echo "# $f: $inc: no such part or header"
             elif [ "${rank[$part]}" -gt "$mine" ]; then
                 echo "# $f: includes upward: $inc (${dir#relay/} is below $part)"
             else continue
             fi ;;
        *)   [ -e "$dir/$inc" ] && continue
             echo "# $f: \"$inc\" is not in $dir/ (name its part: \"part/$inc\")" ;;
        esac
        violations=$((violations + 1))
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
if [ "$violations" = 0 ]; then ok "no include runs upward or outside its part"
else not_ok "$violations includes break the layout (above)"; fi

for p in "${parts[@]}"; do
    h=relay/$p/${main[$p]}
    if [ -f "$h" ] && head -n 1 "$h" | grep -q '^/\*' &&
       sed -n '2,40p' "$h" | grep -qi 'contract'; then
        ok "$h opens with the contract of $p"
    else
        not_ok "$h (main header of $p) does not open with its contract"
    fi
done
echo "1..$n"
[ "$bad" = 0 ]
