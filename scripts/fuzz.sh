#!/usr/bin/env bash
# make fuzz: Schemathesis, from the OpenAPI document, against a `casewire dev` this script
# starts on a throw-away data folder, with every operation and an admin key, for a bounded
# time (FUZZ_SECONDS, 300 by default). It fails on any 5xx, any answer whose body is not
# what the document says (an error not in the error shape), and any status the document
# does not declare. Schemathesis is installed into a throw-away Python venv; nothing is
# installed on the machine. Not part of `make test`: it is slow and random by design.
set -euo pipefail
cd "$(dirname "$0")/.."

budget=${FUZZ_SECONDS:-300}
port=${FUZZ_PORT:-18080}
base="http://127.0.0.1:$port"
work=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# FUZZ_VENV: a venv that already has Schemathesis (to run again without installing).
venv=${FUZZ_VENV:-$work/venv}
if [ -z "${FUZZ_VENV:-}" ]; then
    echo "fuzz: installing Schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet 'schemathesis>=4,<5'
fi

cargo build --quiet -p casewire --bin casewire
operator="fuzz-operator-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
CASEWIRE_DATA_DIR="$work/data" CASEWIRE_HTTP_ADDR="127.0.0.1:$port" \
    CASEWIRE_OPERATOR_TOKEN="$operator" target/debug/casewire dev >"$work/casewire.log" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    curl -sf "$base/readyz" >/dev/null && break
    sleep 0.2
done
curl -sf "$base/readyz" >/dev/null || { cat "$work/casewire.log"; echo "fuzz: casewire dev did not start"; exit 1; }

json() { "$venv/bin/python" -c "import json,sys; print(json.load(sys.stdin)$1)"; }
tenant=$(curl -sf -X POST "$base/v1/tenants" -H "Authorization: Bearer $operator" \
    -H 'content-type: application/json' -d '{"name": "Fuzz Legal Aid", "timezone": "America/Chicago"}' | json '["id"]')
key=$(curl -sf -X POST "$base/v1/tenants/$tenant/api-keys" -H "Authorization: Bearer $operator" \
    -H 'content-type: application/json' -d '{"name": "fuzz", "role": "admin"}' | json '["key"]')
# Something for the paths to find.
curl -sf -X PUT "$base/v1/cases/C-1" -H "Authorization: Bearer $key" -H 'content-type: application/json' \
    -d '{"client": {"name": "Ana", "phone": "+13125550100"}}' >/dev/null

echo "fuzz: $budget s against $base (casewire's log: kept on failure)"
status=0
"$venv/bin/st" run "$base/openapi.json" \
    --header "Authorization: Bearer $key" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,negative_data_rejection \
    --max-time "$budget" --workers 2 --request-timeout 30 \
    --suppress-health-check all --warnings off || status=$?
if [ "$status" -ne 0 ]; then
    cp "$work/casewire.log" "${FUZZ_LOG:-/tmp/casewire-fuzz.log}"
    echo "fuzz: failed; casewire's log is in ${FUZZ_LOG:-/tmp/casewire-fuzz.log}"
fi
exit "$status"
