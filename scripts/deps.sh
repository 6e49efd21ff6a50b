#!/usr/bin/env bash
# Installs what building and testing authority needs on Debian, when it is missing.
# `scripts/deps.sh --help` (the usage() below) tells what and how.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/deps.sh [DEBIAN-PACKAGE...]

Installs what building and testing authority needs on Debian, when it is missing:
libsodium-dev, libsqlite3-dev and pkg-config (apt-get, through sudo unless root) plus every
package named as an argument, and Python's cryptography (independent vector verifier), pyyaml
and openapi-spec-validator (OpenAPI check) through pip. Safe to run again: it only installs what
is absent, and keeps services of new packages (nginx, caddy) from starting while installing.

Options:
  -h, --help   print this and exit

Examples:
  scripts/deps.sh
  scripts/deps.sh nginx caddy faketime
EOF
}

for argument in "$@"; do
    case "$argument" in
    -h | --help) usage; exit 0 ;;
    -*) echo "deps.sh: unknown option $argument (arguments are Debian package names; see --help)" >&2; exit 2 ;;
    esac
done

packages=(libsodium-dev libsqlite3-dev pkg-config "$@")
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "deps: installing ${missing[*]}" >&2
    # Packages such as nginx and caddy try to start their service on install; forbid that while installing
    # (the tests start their own nginx and Caddy on free ports; their Caddyfile has no admin endpoint, so
    # a caddy service that does run, on :80 and localhost:2019, is not in the way either).
    created_policy=""
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
        $sudo chmod 755 /usr/sbin/policy-rc.d
        created_policy=1
    fi
    $sudo apt-get update -qq
    status=0
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null || status=$?
    if [ -n "$created_policy" ]; then $sudo rm -f /usr/sbin/policy-rc.d; fi
    if [ "$status" -ne 0 ]; then
        echo "deps: apt-get install ${missing[*]} failed ($status)" >&2
        exit "$status"
    fi
fi
python_missing=()
python3 -c "import cryptography" 2>/dev/null || python_missing+=(cryptography)
python3 -c "import yaml" 2>/dev/null || python_missing+=(pyyaml)
python3 -c "import openapi_spec_validator" 2>/dev/null || python_missing+=(openapi-spec-validator)
if ((${#python_missing[@]})); then
    echo "deps: installing Python packages ${python_missing[*]}" >&2
    python3 -m pip install --quiet "${python_missing[@]}"
fi
