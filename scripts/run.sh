#!/usr/bin/env bash
# Runs authorityd in the foreground on an embedded default in ./state.
# `scripts/run.sh --help` (the usage() below) tells what and how.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/run.sh [--] [AUTHORITYD ARGUMENTS...]

Runs authorityd in the foreground on an embedded default: SQLite and a generated master key in
./state (mode 0700), the API on the Unix socket ./state/authority.sock. Installs curl if missing
(scripts/deps.sh) and builds authorityd in release mode first. Ctrl-C (SIGINT) or SIGTERM stops
it cleanly. Every argument goes to authorityd unchanged; after --, even -h and --help do.

Options:
  -h, --help   print this and exit (authorityd's own options: scripts/run.sh -- --help)

Examples:
  scripts/run.sh
  scripts/run.sh --log-level debug
  curl --unix-socket state/authority.sock http://localhost/v1/health
EOF
}

. "$(dirname "$0")/lib/help.sh"
. "$(dirname "$0")/lib/swiftpm.sh"

cd "$(dirname "$0")/.."
scripts/deps.sh curl
swift_build -c release --product authorityd
mkdir -p state
chmod 700 state
exec .build/release/authorityd --state-dir ./state --socket ./state/authority.sock "$@"
