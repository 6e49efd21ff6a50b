#!/usr/bin/env bash
# Checks the systemd files in Systemd/ and fails (exit 1) when one regresses.
# `scripts/check-units.sh --help` (the usage() below) tells what and how.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/check-units.sh

Checks the systemd files in Systemd/ and exits 1 when one regresses: systemd-analyze verify on
authorityd.service and authorityd.socket (any diagnostic fails), systemd-analyze security
--offline=true on the service (overall exposure at most MAX_EXPOSURE; the figure is printed),
and authority.sysusers and authority.tmpfiles applied to an empty temporary root. Installs
systemd (apt-get) when systemd-analyze is missing; needs no systemd as PID 1.

Options:
  -h, --help   print this and exit

Environment:
  MAX_EXPOSURE   the highest exposure allowed (default 0.5)
  UNITS_DIR      the directory of the files to check (default Systemd)

Examples:
  scripts/check-units.sh
  MAX_EXPOSURE=0.3 scripts/check-units.sh
EOF
}

case "${1:-}" in
-h | --help) usage; exit 0 ;;
esac
if [ $# -gt 0 ]; then
    echo "check-units.sh: unknown argument $1 (it takes none; see --help)" >&2
    exit 2
fi

cd "$(dirname "$0")/.."

MAX_EXPOSURE="${MAX_EXPOSURE:-0.5}"
UNITS="${UNITS_DIR:-Systemd}"
SERVICE="$UNITS/authorityd.service"
SOCKET="$UNITS/authorityd.socket"

if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "== installing systemd (for systemd-analyze)"
    if [ "$(id -u)" -eq 0 ]; then SUDO=; else SUDO=sudo; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq systemd >/dev/null
fi

for file in "$SERVICE" "$SOCKET" "$UNITS/authority.sysusers" "$UNITS/authority.tmpfiles"; do
    [ -f "$file" ] || { echo "check-units: $file is missing" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0

echo "== systemd-analyze verify $SERVICE $SOCKET"
stub="$work/bin/authorityd"
mkdir -p "$work/bin" "$work/units"
printf '#!/bin/sh\nexit 0\n' >"$stub"
chmod 0755 "$stub"
# Every absolute path to an authorityd binary in ExecStart= (whatever the prefix) → the stub.
sed -E "s#^(Exec[A-Za-z]*=[-@:+!]*)/[^ ]*/authorityd( |\$)#\1$stub\2#" "$SERVICE" >"$work/units/authorityd.service"
cp "$SOCKET" "$work/units/authorityd.socket"
grep -q "^ExecStart=$stub" "$work/units/authorityd.service" || {
    echo "check-units: could not point ExecStart= of $SERVICE at a stub" >&2
    exit 1
}
set +e
verify_output="$(cd "$work/units" && systemd-analyze verify --man=no authorityd.service authorityd.socket 2>&1)"
verify_status=$?
set -e
# Diagnostics about other units of this host are not ours to fix; any line about ours is.
ours="$(printf '%s\n' "$verify_output" | grep -E 'authorityd?\.|'"$work" || true)"
others="$(printf '%s\n' "$verify_output" | grep -vE 'authorityd?\.|'"$work" | grep -v '^$' || true)"
if [ -n "$others" ]; then
    printf 'note (not about our units):\n%s\n' "$others"
fi
if [ "$verify_status" -ne 0 ] || [ -n "$ours" ]; then
    printf '%s\n' "$verify_output" | sed "s|$work/units/|$UNITS/|g"
    echo "FAIL: systemd-analyze verify (exit $verify_status)"
    failed=1
else
    echo "ok: systemd-analyze verify"
fi

echo "== systemd-analyze security --offline=true $SERVICE"
set +e
security_output="$(systemd-analyze security --offline=true "$SERVICE" 2>&1)"
security_status=$?
set -e
line="$(printf '%s\n' "$security_output" | grep -E 'Overall exposure level' | tail -n 1 || true)"
exposure="$(printf '%s\n' "$line" | sed -nE 's/.*: ([0-9]+(\.[0-9]+)?) .*/\1/p')"
if [ "$security_status" -ne 0 ] || [ -z "$exposure" ]; then
    printf '%s\n' "$security_output"
    echo "FAIL: systemd-analyze security gave no exposure figure (exit $security_status)"
    failed=1
else
    printf '%s\n' "$security_output" | grep -E '^✗' || true
    echo "$line"
    if awk -v e="$exposure" -v max="$MAX_EXPOSURE" 'BEGIN { exit !(e > max) }'; then
        echo "FAIL: exposure $exposure is above $MAX_EXPOSURE"
        failed=1
    else
        echo "ok: exposure $exposure <= $MAX_EXPOSURE"
    fi
fi

echo "== systemd-sysusers and systemd-tmpfiles on an empty root"
mkdir -p "$work/root/etc"
if systemd-sysusers --root="$work/root" "$(realpath "$UNITS/authority.sysusers")" >"$work/sysusers.log" 2>&1 \
    && grep -q '^authority:' "$work/root/etc/passwd" && grep -q '^authority:' "$work/root/etc/group"; then
    echo "ok: authority.sysusers creates the user and group authority"
else
    cat "$work/sysusers.log"
    echo "FAIL: authority.sysusers"
    failed=1
fi
if systemd-tmpfiles --create --root="$work/root" "$(realpath "$UNITS/authority.tmpfiles")" >"$work/tmpfiles.log" 2>&1 \
    && [ -d "$work/root/run/authority" ] && ! [ -s "$work/tmpfiles.log" ]; then
    echo "ok: authority.tmpfiles"
else
    cat "$work/tmpfiles.log"
    echo "FAIL: authority.tmpfiles"
    failed=1
fi

echo "== example configuration and policy are JSON"
for file in "$UNITS/authorityd.json" "$UNITS/policy.json"; do
    if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$file" 2>"$work/json.log"; then
        echo "ok: $file"
    else
        cat "$work/json.log"
        echo "FAIL: $file is not JSON"
        failed=1
    fi
done

if [ "$failed" -ne 0 ]; then
    echo "check-units: FAILED"
    exit 1
fi
echo "check-units: all checks passed (exposure $exposure)"
