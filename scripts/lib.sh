# Shared by the bench and reliability scripts: the release binary, a sandbox started on a
# free loopback port, and small helpers. Source it; it defines functions only.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BIN="${CRM_BULK_BIN:-$ROOT/target/release/crm-bulk}"
export CRM_USER=admin CRM_API_KEY=sandbox-key CRM_TOKEN=sandbox-token NO_COLOR=1

need_binary() {
    if [[ ! -x "$BIN" ]]; then
        (cd "$ROOT" && cargo build --release --quiet) || exit 1
    fi
}

# start_sandbox NAME ARGS... : starts `crm-bulk sandbox --listen 127.0.0.1:0 ARGS...` in the
# background, waits for its "listening on http://ADDR" line and sets SANDBOX_PID_<NAME> and
# SANDBOX_URL (also exported as CRM_URL). Only loopback addresses are ever used.
start_sandbox() {
    local out="$WORK/sandbox.$$.$RANDOM.out"
    "$BIN" sandbox --listen "${LISTEN:-127.0.0.1:0}" "$@" >"$out" 2>&1 &
    SANDBOX_PID=$!
    for _ in $(seq 1 200); do
        if grep -q '^listening on http://' "$out"; then
            SANDBOX_URL="$(sed -n 's/^listening on \(http:\/\/[0-9.:]*\).*/\1/p' "$out" | head -1)"
            export CRM_URL="$SANDBOX_URL"
            return 0
        fi
        sleep 0.05
    done
    echo "the sandbox did not start:" >&2
    cat "$out" >&2
    return 1
}

stop_sandbox() {
    if [[ -n "${SANDBOX_PID:-}" ]]; then
        kill -INT "$SANDBOX_PID" 2>/dev/null || true
        wait "$SANDBOX_PID" 2>/dev/null || true
        SANDBOX_PID=""
    fi
}

# stats FIELD-PATH: one number from the sandbox's stats, e.g. `stats requests.addcompany`.
stats() {
    curl -s "$SANDBOX_URL/__sandbox/stats" | python3 -c "
import json, sys
v = json.load(sys.stdin)
for part in '$1'.split('.'):
    v = v.get(part, 0) if isinstance(v, dict) else 0
print(v)"
}

# json_field FILE KEY: one top-level value of a JSON file.
json_field() {
    python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$1" "$2"
}

# companies_csv ROWS FILE [PREFIX]: Name,Website rows.
companies_csv() {
    python3 - "$1" "$2" "${3:-Company}" <<'PY'
import sys
rows, path, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(path, "w") as f:
    f.write("Name,Website\n")
    for i in range(rows):
        f.write(f"{prefix} {i:07d},https://c{i}.example\n")
PY
}

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.2f}')" "$1" "$2"; }
