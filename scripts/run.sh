#!/usr/bin/env bash
# Runs authorityd on an embedded default: SQLite and a generated master key in ./state, the API
# on the Unix socket ./state/authority.sock. Installs what it needs, builds (release), runs in the
# foreground; Ctrl-C (SIGINT) or SIGTERM stops it cleanly. Extra arguments go to authorityd.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh curl
swift build -c release --product authorityd
mkdir -p state
chmod 700 state
exec .build/release/authorityd --state-dir ./state --socket ./state/authority.sock "$@"
