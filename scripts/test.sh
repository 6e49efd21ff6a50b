#!/usr/bin/env bash
# The whole test suite, as CI runs it.
# `scripts/test.sh --help` (the usage() below) tells what and how.
set -euo pipefail

usage() {
    cat <<'EOF'
Usage: scripts/test.sh [--] [SWIFT TEST ARGUMENTS...]

The whole test suite, as CI runs it (.ci/run): installs what it needs (scripts/deps.sh), checks
the published vectors with an independent Python verifier and with the edge verifiers
(clients/python; clients/js under Node), docs/openapi.yaml, checks the systemd units (scripts/check-units.sh), builds the release daemon and fuzzes its API
(Tests/Fuzz), builds and runs every Swift test target (the fleet tests, in AuthorityPostgresTests
and EndToEndTests, start throwaway PostgreSQL clusters of their own, as nobody; TLSTests makes its
certificates with openssl; BrowserTests and PlayerTests drive a headless Chromium and ffmpeg through nginx
and Caddy), then a benchmark smoke run. Arguments go
to `swift test --skip-build --disable-xctest` unchanged; after --, even -h and --help do.
A failing fuzz run fails the suite at the end, after the Swift tests have reported.

Options:
  -h, --help   print this and exit

Environment:
  AUTHORITY_E2E_VERBOSE   set: the end-to-end tests print every daemon's log

Examples:
  scripts/test.sh
  scripts/test.sh --filter "EndToEnd.Authorityctl"
EOF
}

. "$(dirname "$0")/lib/help.sh"
. "$(dirname "$0")/lib/swiftpm.sh"

cd "$(dirname "$0")/.."

scripts/deps.sh curl nginx caddy sqlite3 faketime postgresql openssl chromium ffmpeg

echo "== independent verifier (Python, stock Ed25519) on Tests/Vectors/link-v1.json"
python3 Tests/Vectors/selftest_python_verifier.py
python3 Tests/Vectors/verify_vectors.py Tests/Vectors/link-v1.json

echo "== edge verifiers on Tests/Vectors/link-v1.json and bundle-v1.json: Python (clients/python), JavaScript (clients/js, WebCrypto under Node)"
python3 -m unittest discover -s clients/python/tests
command -v node >/dev/null || scripts/deps.sh nodejs
node --version
node --test clients/js/test/

echo "== docs/openapi.yaml: valid OpenAPI 3.1, same routes as docs/api.md"
python3 Tests/Vectors/check_openapi.py

echo "== systemd units: systemd-analyze verify, exposure <= 0.5"
scripts/check-units.sh

echo "== release build (installed and run by EndToEndTests/SystemdTests)"
swift_build -c release --product authorityd

echo "== API fuzzer: generated requests for every operation of docs/openapi.yaml against the real daemon"
python3 Tests/Fuzz/selftest_fuzz_api.py
# A failing fuzz run fails the suite, at the end, so that the Swift tests still report.
fuzz_status=0
python3 Tests/Fuzz/fuzz_api.py .build/release/authorityd || fuzz_status=$?

echo "== swift test"
swift_build --build-tests
swift test --skip-build --disable-xctest "$@"

echo "== benchmark smoke run (small sizes: checks every scenario answers right; figures mean little)"
swift_build -c release --product authority-bench
.build/release/authority-bench --smoke

if [ "$fuzz_status" -ne 0 ]; then
  echo "== the API fuzzer failed (exit $fuzz_status): see its failure lines above"
  exit "$fuzz_status"
fi
