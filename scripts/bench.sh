#!/usr/bin/env bash
# The benchmark of BENCHMARKS.md: builds authorityd and authority-bench in release mode and runs
# every scenario against a fresh daemon in a temporary directory (about 5 minutes on 2 cores).
# Extra arguments go to authority-bench (--help lists them; --output FILE keeps the report).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh nginx
swift build -c release --product authorityd
swift build -c release --product authority-bench
exec .build/release/authority-bench "$@"
