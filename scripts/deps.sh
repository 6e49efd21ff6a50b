#!/usr/bin/env bash
# Installs what building and testing authority needs on Debian, when it is missing:
# libsodium-dev, libsqlite3-dev and pkg-config (apt), and Python's `cryptography` for the
# independent vector verifier. Safe to run again: it only installs what is absent.
set -euo pipefail

packages=(libsodium-dev libsqlite3-dev pkg-config "$@")
missing=()
for package in "${packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
    echo "deps: installing ${missing[*]}" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! python3 -c "import cryptography" 2>/dev/null; then
    echo "deps: installing Python package cryptography" >&2
    python3 -m pip install --quiet cryptography
fi
