#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md (release build, every scenario against a fresh daemon).
# `scripts/bench.sh --help` (the usage() below) tells what and how.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/bench.sh [--] [AUTHORITY-BENCH ARGUMENTS...]

Runs the benchmark of BENCHMARKS.md: installs nginx and postgresql if missing (scripts/deps.sh; the fleet
scenarios of --fleet N and --smoke run a PostgreSQL cluster of their own), builds
authorityd and authority-bench in release mode, and runs every scenario against a fresh daemon
in a temporary directory (about 5 minutes on 2 cores). Every argument goes to authority-bench
unchanged; after --, even -h and --help do.

Options:
  -h, --help   print this and exit (authority-bench's own options: scripts/bench.sh -- --help)

Examples:
  scripts/bench.sh
  scripts/bench.sh --output /tmp/report.md
  scripts/bench.sh --smoke
EOF
}

. "$(dirname "$0")/lib/help.sh"
. "$(dirname "$0")/lib/swiftpm.sh"

cd "$(dirname "$0")/.."
scripts/deps.sh nginx postgresql
swift_build -c release --product authorityd
swift_build -c release --product authority-bench
exec .build/release/authority-bench "$@"
