#!/usr/bin/env bash
# Times the README's two set-up lines as a newcomer runs them: a fresh clone
# of this repository, a fresh virtualenv, no pip cache. Prints each line's
# wall time, the CPU model and the load average before and after.
#
#   bash benchmarks/bench_setup.sh [WORK_DIR]     # WORK_DIR defaults to a new temp folder
#
# It builds kmatrix once (line 1) and runs the whole test suite (line 2):
# about five minutes on two cores. Everything it makes stays in WORK_DIR,
# which is removed at the end unless given.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
if [ $# -ge 1 ]; then work=$1; mkdir -p "$work"; keep=1; else work=$(mktemp -d); keep=0; fi
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT INT TERM
git clone -q "$repo" "$work/clone"
python3 -m venv "$work/venv"
export PATH="$work/venv/bin:$PATH" PIP_NO_CACHE_DIR=1
cd "$work/clone"
mapfile -t lines < <(sed -n '/^## Set up/,/^```$/p' README.md | grep '^pip ')
[ "${#lines[@]}" = 2 ] || { echo "expected two set-up lines in README.md" >&2; exit 1; }
echo "CPU: $(lscpu | sed -n 's/^Model name: *//p')"
total=0
for i in 0 1; do
    echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    start=$(date +%s.%N)
    bash -c "${lines[$i]}" > "$work/line$((i + 1)).log" 2>&1 || {
        echo "line $((i + 1)) failed; its log: $work/line$((i + 1)).log" >&2; keep=1; exit 1; }
    seconds=$(echo "$(date +%s.%N) - $start" | bc)
    total=$(echo "$total + $seconds" | bc)
    printf 'line %d: %.0f s  (%s)\n' $((i + 1)) "$seconds" "${lines[$i]}"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
tail -n 1 "$work/line2.log"
printf 'both lines: %.1f minutes\n' "$(echo "$total / 60" | bc -l)"
