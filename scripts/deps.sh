#!/usr/bin/env bash
# Installs what building and testing authority needs on Debian, when it is missing:
# libsodium-dev, libsqlite3-dev and pkg-config (apt), and Python's `cryptography` (independent
# vector verifier), `pyyaml` and `openapi-spec-validator` (OpenAPI check). Safe to run again: it only installs what is absent.
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
python_missing=()
python3 -c "import cryptography" 2>/dev/null || python_missing+=(cryptography)
python3 -c "import yaml" 2>/dev/null || python_missing+=(pyyaml)
python3 -c "import openapi_spec_validator" 2>/dev/null || python_missing+=(openapi-spec-validator)
if ((${#python_missing[@]})); then
    echo "deps: installing Python packages ${python_missing[*]}" >&2
    python3 -m pip install --quiet "${python_missing[@]}"
fi
