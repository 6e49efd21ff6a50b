#!/usr/bin/env bash
# Checks the systemd files in Systemd/ and fails (exit 1) when one regresses:
#   1. `systemd-analyze verify` on authorityd.service and authorityd.socket: any diagnostic about
#      them fails (verify itself exits 0 on unknown keys and unparsable values, so its output is
#      read too). ExecStart= must name an existing executable, so the units are verified as
#      temporary copies whose ExecStart= points at a stub.
#   2. `systemd-analyze security --offline=true` on the service: the overall exposure must be
#      at most MAX_EXPOSURE (default 0.5); the figure is printed.
#   3. authority.sysusers and authority.tmpfiles are applied to an empty temporary root.
# Installs systemd (apt) when systemd-analyze is missing. No systemd as PID 1 is needed.
set -euo pipefail
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
