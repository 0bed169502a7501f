#!/usr/bin/env bash
# Benchmarks of crm-bulk against its sandbox, with the release binary. Figures and the
# machine they were taken on go in docs/performance.md.
#
#   scripts/bench-import.sh [read] [import] [rate] [delta] [export]   (default: all)
#
# Environment: READ_SIZES (default "100000 1000000 5000000"), IMPORT_ROWS (default 300),
# RATES (default "20 50 100"), DELTA_ROWS (default 100000).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
need_binary
WORK="$(mktemp -d)"
trap 'stop_sandbox; rm -rf "$WORK"' EXIT
SECTIONS="${*:-read import rate delta export}"

# read + validate: throughput and peak RSS of `validate --sandbox` on CSV and NDJSON.
bench_read() {
    echo "## read + validate (crm-bulk validate FILE --table companies --sandbox)"
    printf '%-8s %9s %9s %11s %12s %6s\n' format rows seconds "rows/s" "peak RSS MB" exit
    for rows in ${READ_SIZES:-100000 1000000 5000000}; do
        companies_csv "$rows" "$WORK/big.csv"
        python3 -c "
import csv, json, sys
with open('$WORK/big.csv') as f, open('$WORK/big.ndjson', 'w') as out:
    for row in csv.DictReader(f):
        out.write(json.dumps(row) + '\n')"
        for file in big.csv big.ndjson; do
            rm -f "$WORK/v.db"
            local t0 t1 code=0
            t0=$(now)
            /usr/bin/time -v -o "$WORK/time.txt" "$BIN" -q validate "$WORK/$file" --table companies \
                --sandbox --sandbox-db "$WORK/v.db" --report "$WORK/v.report.csv" >/dev/null 2>"$WORK/v.err" || code=$?
            t1=$(now)
            local secs rss
            secs=$(elapsed "$t0" "$t1")
            rss=$(awk -F: '/Maximum resident set size/ {print int($2/1024)}' "$WORK/time.txt")
            printf '%-8s %9d %9s %11.0f %12s %6s\n' "${file#big.}" "$rows" "$secs" \
                "$(python3 -c "print($rows/$secs)")" "$rss" "$code"
        done
    done
    rm -f "$WORK"/big.* "$WORK"/v.*
}

# import wall time for latency x concurrency, beside the ideal and the sequential script.
bench_import() {
    local rows=${IMPORT_ROWS:-300}
    echo "## import of $rows companies (--rate 100000: the limiter out of the way)"
    printf '%-8s %-5s %9s %9s %9s %8s\n' latency conc seconds ideal "python" speedup
    companies_csv "$rows" "$WORK/imp.csv"
    for latency in 0 10 50; do
        start_sandbox --db :memory: --latency-ms "$latency"
        local t0 t1 seq
        seq=$("$ROOT/scripts/sequential.py" "$SANDBOX_URL" "$WORK/imp.csv" | sed 's/.*seconds=//')
        stop_sandbox
        for conc in 1 4 16; do
            start_sandbox --db :memory: --latency-ms "$latency"
            rm -f "$WORK"/imp.report.csv*
            t0=$(now)
            "$BIN" -q import "$WORK/imp.csv" --table companies --rate 100000 \
                --concurrency "$conc" >/dev/null 2>&1
            t1=$(now)
            local secs ideal
            secs=$(elapsed "$t0" "$t1")
            [[ "$(stats requests.addcompany)" == "$rows" ]] || echo "  addcompany count differs!"
            ideal=$(python3 -c "print(f'{$rows*$latency/1000/$conc:.2f}')")
            printf '%-8s %-5s %9s %9s %9s %7.1fx\n' "${latency}ms" "$conc" "$secs" "$ideal" "$seq" \
                "$(python3 -c "print($seq/$secs)")"
            stop_sandbox
        done
    done
}

# rate accuracy: --rate R against a sandbox limited to R/s, and a rate over the limit.
bench_rate() {
    echo "## rate accuracy (10 s of writes per limit, --concurrency 16)"
    printf '%-6s %-6s %6s %9s %9s %6s %8s\n' "--rate" limit rows seconds "writes/s" 429s created
    run_rate() {
        local rate=$1 limit=$2 rows=$3
        companies_csv "$rows" "$WORK/rate.csv"
        start_sandbox --db :memory: --rate-limit "$limit"
        rm -f "$WORK"/rate.report.csv* "$WORK/rate.summary.json"
        "$BIN" -q import "$WORK/rate.csv" --table companies --rate "$rate" --concurrency 16 \
            --summary-json "$WORK/rate.summary.json" >/dev/null 2>&1
        local calls secs created
        # The write phase alone: calls from the sandbox, time from the first to the last add
        # is approximated by the run's elapsed time minus nothing (schema and list are 3 calls).
        calls=$(stats requests.addcompany)
        secs=$(json_field "$WORK/rate.summary.json" elapsed_seconds)
        created=$(python3 -c "import json; print(json.load(open('$WORK/rate.summary.json'))['counts']['created'])")
        printf '%-6s %-6s %6s %9.2f %9.1f %6s %8s\n' "$rate" "$limit" "$rows" "$secs" \
            "$(python3 -c "print($calls/$secs)")" "$(stats throttled)" "$created"
        stop_sandbox
    }
    for r in ${RATES:-20 50 100}; do run_rate "$r" "$r" $((r * 10)); done
    run_rate 100 50 500
}

# delta reload: import N rows, then load the same file again: zero write calls.
bench_delta() {
    local rows=${DELTA_ROWS:-100000}
    echo "## delta reload of $rows unchanged companies"
    companies_csv "$rows" "$WORK/delta.csv"
    start_sandbox --db "$WORK/delta.db"
    local t0 t1
    t0=$(now)
    "$BIN" -q import "$WORK/delta.csv" --table companies --mode upsert --rate 100000 --concurrency 16 >/dev/null 2>&1
    t1=$(now)
    echo "first load: $(elapsed "$t0" "$t1") s, addcompany calls: $(stats requests.addcompany)"
    local before
    before=$(stats requests.addcompany)
    rm -f "$WORK"/delta.report.csv*
    t0=$(now)
    /usr/bin/time -v -o "$WORK/time.txt" "$BIN" -q import "$WORK/delta.csv" --table companies --mode upsert \
        --rate 100000 --concurrency 16 --summary-json "$WORK/delta.summary.json" >/dev/null 2>&1
    t1=$(now)
    echo "reload: $(elapsed "$t0" "$t1") s, write calls: $(json_field "$WORK/delta.summary.json" write_calls)," \
        "addcompany+editcompany since: $(($(stats requests.addcompany) - before + $(stats requests.editcompany)))," \
        "getcompanies: $(stats requests.getcompanies)," \
        "unchanged: $(python3 -c "import json; print(json.load(open('$WORK/delta.summary.json'))['counts']['unchanged'])")," \
        "peak RSS MB: $(awk -F: '/Maximum resident set size/ {print int($2/1024)}' "$WORK/time.txt")"
    if "$BIN" export --help >/dev/null 2>&1 && [[ " $SECTIONS " == *" export "* ]]; then
        t0=$(now)
        if "$BIN" -q export companies --out "$WORK/export.csv" >/dev/null 2>"$WORK/export.err"; then
            t1=$(now)
            echo "export of $rows companies: $(elapsed "$t0" "$t1") s, $(($(wc -l <"$WORK/export.csv") - 1)) rows"
        else
            echo "export: not available ($(head -1 "$WORK/export.err"))"
        fi
    fi
    stop_sandbox
}

echo "# crm-bulk benchmarks, $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB"
for section in $SECTIONS; do
    case "$section" in
        read) bench_read ;;
        import) bench_import ;;
        rate) bench_rate ;;
        delta) bench_delta ;;
        export) [[ " $SECTIONS " == *" delta "* ]] || bench_delta ;;
        *) echo "unknown section $section" >&2; exit 2 ;;
    esac
done
