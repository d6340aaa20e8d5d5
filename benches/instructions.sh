#!/usr/bin/env bash
# Instruction counts of one run of each implementation on each corpus, under
# callgrind: unlike time on a shared machine, the same on every run, so a
# ratio that the timed tables show too noisily can be checked here. Prints a
# Markdown table of ours over each other (their instructions over ours).
#
#   benches/instructions.sh            # everything (a few minutes)
#   benches/instructions.sh decode     # or only one direction
#
# Needs valgrind. Instructions are not time (one `rep movsb` counts once per
# byte, a cache miss not at all): read these next to the timed tables.
set -euo pipefail
cd "$(dirname "$0")/.."
only=${1:-}
cargo build --release --quiet -p benches --bin instructions
bin=target/release/instructions
count() {
    local out
    out=$(mktemp)
    valgrind --tool=callgrind --toggle-collect='*measured*' --callgrind-out-file="$out" \
        "$bin" "$@" >/dev/null 2>&1
    awk '/^(summary|totals):/ { print $2 }' "$out" | tail -n 1
    rm -f "$out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

if [ "$only" != encode ]; then
    echo "| decode | chunks | sse-proto | ÷ plain | ÷ sse-stream |"
    echo "|---|---|---:|---:|---:|"
    for config in "small 1" "small 64" "small 16384" "crlf 64" "crlf 16384" \
        "tokens 64" "tokens 16384" "payload-64k 64" "payload-64k 16384" \
        "multiline 64" "multiline 16384" "line-8m 64" "line-8m 1024" \
        "line-8m 16384" "line-8m whole"; do
        # shellcheck disable=SC2086
        ours=$(count decode sse-proto $config)
        # shellcheck disable=SC2086
        plain=$(count decode plain $config)
        # shellcheck disable=SC2086
        stream=$(count decode sse-stream $config)
        echo "| ${config% *} | ${config#* } | $ours | $(ratio "$plain" "$ours") | $(ratio "$stream" "$ours") |"
    done
    echo
fi
if [ "$only" != decode ]; then
    echo "| encode | sse-proto | ÷ plain | ÷ sse-stream | ÷ axum |"
    echo "|---|---:|---:|---:|---:|"
    for corpus in small payload-64k multiline; do
        ours=$(count encode sse-proto "$corpus")
        plain=$(count encode plain "$corpus")
        stream=$(count encode sse-stream "$corpus")
        axum=$(count encode axum "$corpus")
        echo "| $corpus | $ours | $(ratio "$plain" "$ours") | $(ratio "$stream" "$ours") | $(ratio "$axum" "$ours") |"
    done
fi
