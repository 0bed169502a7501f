#!/usr/bin/env bash
# The long reliability runs (docs/reliability.md), with the release binary:
#
#   scripts/reliability.sh [kills] [faults] [hostile] [fuzz] [roundtrip]   (default: all)
#
# KILLS (default 50) kills over one load of KILL_ROWS (default 3000) rows; FUZZ_SECONDS per
# cargo-fuzz target (default 60) or FUZZ_CASES for the stable fallback (default 20000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_binary
WORK="$(mktemp -d)"
trap 'stop_sandbox; rm -rf "$WORK"' EXIT
SECTIONS="${*:-kills faults hostile fuzz roundtrip}"

# Counts stored companies and distinct names; fails unless both equal $1.
# The sandbox may still inject faults into this read: ask until it answers.
check_exactly_once() {
    local answer=""
    for _ in $(seq 1 100); do
        answer=$(curl -s "$SANDBOX_URL/plugins/servlet/crm/api?apiKey=sandbox-key&userName=admin&command=getcompanies" || true)
        [[ "$answer" == *'"success":true'* ]] && break
    done
    printf '%s' "$answer" |
        python3 -c "
import json, sys
c = json.load(sys.stdin)['companies']
names = {x['name'] for x in c}
print(f'entries={len(c)} distinct={len(names)} expected=$1')
sys.exit(0 if len(c) == len(names) == $1 else 1)"
}

# One load killed with SIGKILL at random points KILLS times, resumed each time.
run_kills() {
    local rows=${KILL_ROWS:-3000} kills=${KILLS:-50}
    echo "## $kills kills over one load of $rows rows (latency 10 ms, concurrency 8)"
    companies_csv "$rows" "$WORK/k.csv"
    start_sandbox --db "$WORK/k.db" --latency-ms 10
    local resume="" done_kills=0
    for i in $(seq 1 "$kills"); do
        "$BIN" -q import "$WORK/k.csv" --table companies --rate 100000 --concurrency 8 $resume \
            >/dev/null 2>&1 &
        local pid=$!
        sleep "$(python3 -c "import random; print(random.uniform(0.05, 0.4))")"
        if kill -9 "$pid" 2>/dev/null; then done_kills=$((done_kills + 1)); fi
        wait "$pid" 2>/dev/null || true
        resume="--resume"
    done
    "$BIN" -q import "$WORK/k.csv" --table companies --rate 100000 $resume >/dev/null
    echo "killed $done_kills times; addcompany calls: $(stats requests.addcompany)"
    check_exactly_once "$rows"
    local reported
    reported=$(python3 -c "import csv; print(sum(1 for r in csv.DictReader(open('$WORK/k.report.csv')) if r['status']=='created'))")
    echo "report: $reported rows created"
    [[ "$reported" == "$rows" ]]
    stop_sandbox
}

# Every fault kind at high rates, alone and mixed, over a few thousand rows.
run_faults() {
    local rows=${FAULT_ROWS:-3000}
    echo "## faults over $rows rows"
    companies_csv "$rows" "$WORK/f.csv"
    for spec in error=0.3 reset=0.3 drop-after-commit=0.3 \
        "error=0.1,reset=0.1,drop-after-commit=0.1" "error=0.1,reset=0.1,drop-after-commit=0.1,throttle=0.02"; do
        start_sandbox --db :memory: --faults "$spec" --seed "$RANDOM"
        rm -f "$WORK"/f.report.csv*
        "$BIN" -q import "$WORK/f.csv" --table companies --rate 100000 --concurrency 16 \
            --max-retries 30 --summary-json "$WORK/f.json" >/dev/null
        echo -n "$spec: in-doubt verified $(json_field "$WORK/f.json" in_doubt_verified), "
        check_exactly_once "$rows"
        stop_sandbox
    done
}

# The hostile corpus of tests/hostile.rs with peak memory measured.
run_hostile() {
    echo "## hostile files through validate, each under a 3 GiB address-space cap (tests/hostile.rs)"
    (cd "$ROOT" && cargo test --release --test hostile -- --nocapture 2>&1 | grep -E "^test |test result")
}

# cargo fuzz when nightly and cargo-fuzz are here, else the stable harness.
run_fuzz() {
    if cargo +nightly fuzz --version >/dev/null 2>&1; then
        for target in read_csv read_json read_ndjson read_xlsx parse_answer; do
            echo "## cargo fuzz run $target (${FUZZ_SECONDS:-60} s)"
            (cd "$ROOT/fuzz" && cargo +nightly fuzz run "$target" -- -max_total_time="${FUZZ_SECONDS:-60}")
        done
    else
        echo "## cargo-fuzz not available: stable harness, FUZZ_CASES=${FUZZ_CASES:-20000} per target"
        (cd "$ROOT" && FUZZ_CASES=${FUZZ_CASES:-20000} cargo test --release --test fuzz_stable 2>&1 | grep -E "^test |test result")
    fi
}

run_roundtrip() {
    echo "## export → import → export, ROUNDTRIP_CASES=${ROUNDTRIP_CASES:-100}"
    (cd "$ROOT" && ROUNDTRIP_CASES=${ROUNDTRIP_CASES:-100} cargo test --release --test proptest_roundtrip 2>&1 | grep -E "^test |test result")
}

for section in $SECTIONS; do
    "run_$section"
done
