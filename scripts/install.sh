#!/usr/bin/env bash
# Installs authority: the release binaries, the systemd units, the sysusers and tmpfiles
# entries, example configuration, the migrations (for operators to read) and the docs.
# `scripts/install.sh --help` (the usage() below) tells how.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

PREFIX="${PREFIX:-/usr/local}"
DESTDIR="${DESTDIR:-}"
BUILD=1
BIN_DIR=""

usage() {
    cat <<'EOF'
Usage: scripts/install.sh [--prefix PREFIX] [--destdir DESTDIR] [--no-build] [--bin-dir DIR]

Installs authority: builds authorityd and authorityctl (release) unless --no-build, then copies
the binaries, the systemd units, the sysusers and tmpfiles entries, example configuration, the
migrations (for reading) and the docs. Running it again changes only what differs; it never
creates a master key and never enables or starts anything.

Options:
  --prefix PREFIX    where to install (default /usr/local; or $PREFIX)
  --destdir DESTDIR  stage everything under DESTDIR instead of the live system (or $DESTDIR)
  --no-build         install what .build/release (or --bin-dir) already holds
  --bin-dir DIR      take the binaries from DIR
  -h, --help         print this and exit

Environment:
  PREFIX, DESTDIR    as the options (the options win)
  SYSTEMD_UNIT_DIR, SYSUSERS_DIR, TMPFILES_DIR
                     where the units and entries go (default PREFIX/lib/...); systemd searches
                     only /usr/lib/... and /usr/local/lib/..., so set these with another PREFIX

Layout (all under DESTDIR):
  PREFIX/bin/authorityd, PREFIX/bin/authorityctl (if it builds)        0755
  PREFIX/lib/systemd/system/authorityd.service, authorityd.socket      0644 (ExecStart= → PREFIX/bin)
  PREFIX/lib/sysusers.d/authority.conf, PREFIX/lib/tmpfiles.d/authority.conf
  /etc/authority/authorityd.json, policy.json                          0644, never overwritten
  PREFIX/share/authority/migrations/NNNN_name.sql                      0644, for reading only
  PREFIX/share/doc/authority/{operations.md,api.md,…}, …/examples/     0644
Without DESTDIR, as root, it also creates the user and group (systemd-sysusers), /run/authority
(systemd-tmpfiles) and reloads systemd if systemd runs.

Examples:
  sudo scripts/install.sh
  scripts/install.sh --prefix /usr --destdir /tmp/stage --no-build
EOF
}

while [ $# -gt 0 ]; do
    case "$1" in
    --prefix) PREFIX="${2:?--prefix needs a value}"; shift 2 ;;
    --prefix=*) PREFIX="${1#*=}"; shift ;;
    --destdir) DESTDIR="${2?--destdir needs a value}"; shift 2 ;;
    --destdir=*) DESTDIR="${1#*=}"; shift ;;
    --no-build) BUILD=0; shift ;;
    --bin-dir) BIN_DIR="${2:?--bin-dir needs a value}"; shift 2 ;;
    --bin-dir=*) BIN_DIR="${1#*=}"; shift ;;
    -h | --help) usage; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (see --help)" >&2; exit 2 ;;
    esac
done

case "$PREFIX" in
/*) PREFIX="${PREFIX%/}"; [ -n "$PREFIX" ] || PREFIX=/ ;;
*) echo "install.sh: PREFIX must be an absolute path: $PREFIX" >&2; exit 2 ;;
esac
if [ -n "$DESTDIR" ]; then
    mkdir -p "$DESTDIR"
    DESTDIR="$(cd "$DESTDIR" && pwd)"
fi
[ "$PREFIX" = / ] && P="" || P="$PREFIX"

SYSTEMD_UNIT_DIR="${SYSTEMD_UNIT_DIR:-$P/lib/systemd/system}"
SYSUSERS_DIR="${SYSUSERS_DIR:-$P/lib/sysusers.d}"
TMPFILES_DIR="${TMPFILES_DIR:-$P/lib/tmpfiles.d}"
CONFIG_DIR=/etc/authority
SHARE_DIR="$P/share/authority"
DOC_DIR="$P/share/doc/authority"

# --- build ---------------------------------------------------------------------------------
have_ctl=1
if [ "$BUILD" -eq 1 ]; then
    [ -x scripts/deps.sh ] && scripts/deps.sh
    echo "== swift build -c release --product authorityd"
    swift build -c release --product authorityd
    echo "== swift build -c release --product authorityctl"
    if ! swift build -c release --product authorityctl; then
        echo "warning: authorityctl does not build; installing without it" >&2
        have_ctl=0
    fi
fi
if [ -z "$BIN_DIR" ]; then
    BIN_DIR="$ROOT/.build/release"
    if [ "$BUILD" -eq 1 ]; then BIN_DIR="$(swift build -c release --show-bin-path)"; fi
fi
if [ ! -x "$BIN_DIR/authorityd" ]; then
    echo "install.sh: $BIN_DIR/authorityd is not built (run without --no-build, or: swift build -c release --product authorityd)" >&2
    exit 1
fi
if [ ! -x "$BIN_DIR/authorityctl" ]; then
    [ "$have_ctl" -eq 1 ] && echo "note: $BIN_DIR/authorityctl is not built; skipping it" >&2
    have_ctl=0
fi

# --- helpers -------------------------------------------------------------------------------
changed=0

# place MODE SOURCE TARGET: installs SOURCE at DESTDIR/TARGET unless it is already identical.
place() {
    local mode="$1" source="$2" target="$DESTDIR$3"
    if [ -f "$target" ] && cmp -s "$source" "$target"; then
        chmod "$mode" "$target"
        echo "unchanged  $target"
        return
    fi
    install -D -m "$mode" "$source" "$target"
    echo "installed  $target"
    changed=1
}

# place_new MODE SOURCE TARGET: like place, but never replaces an existing file (configuration).
place_new() {
    local mode="$1" source="$2" target="$DESTDIR$3"
    if [ -e "$target" ]; then
        if cmp -s "$source" "$target"; then echo "unchanged  $target"; else echo "kept       $target (yours; the shipped example is in $DESTDIR$DOC_DIR/examples)"; fi
        return
    fi
    install -D -m "$mode" "$source" "$target"
    echo "installed  $target"
    changed=1
}

directory() {
    local mode="$1" target="$DESTDIR$2"
    if [ -d "$target" ]; then echo "exists     $target/"; else install -d -m "$mode" "$target"; echo "created    $target/"; fi
}

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT

# The units name /usr/local/bin and /usr/local/share/doc; point them at PREFIX.
rewrite_unit() {
    sed -e "s#/usr/local/bin/#$P/bin/#g" -e "s#/usr/local/share/doc/authority#$DOC_DIR#g" "$1" >"$2"
}

# --- install -------------------------------------------------------------------------------
echo "== installing into ${DESTDIR:-/} with PREFIX=$PREFIX"
place 0755 "$BIN_DIR/authorityd" "$P/bin/authorityd"
if [ "$have_ctl" -eq 1 ]; then place 0755 "$BIN_DIR/authorityctl" "$P/bin/authorityctl"; fi

rewrite_unit Systemd/authorityd.service "$stage/authorityd.service"
rewrite_unit Systemd/authorityd.socket "$stage/authorityd.socket"
place 0644 "$stage/authorityd.service" "$SYSTEMD_UNIT_DIR/authorityd.service"
place 0644 "$stage/authorityd.socket" "$SYSTEMD_UNIT_DIR/authorityd.socket"
place 0644 Systemd/authority.sysusers "$SYSUSERS_DIR/authority.conf"
place 0644 Systemd/authority.tmpfiles "$TMPFILES_DIR/authority.conf"

directory 0755 "$CONFIG_DIR"
place_new 0644 Systemd/authorityd.json "$CONFIG_DIR/authorityd.json"
# A configuration kept from before the per-proxy forward-auth endpoints stops the daemon at start.
if grep -qE '"forward_auth_(headers|client_ip)"' "$DESTDIR$CONFIG_DIR/authorityd.json" 2>/dev/null; then
    echo "warning: $DESTDIR$CONFIG_DIR/authorityd.json has forward_auth_headers or forward_auth_client_ip, which" \
        "authorityd refuses now: delete them and point each proxy at its endpoint (operations.md, Upgrades)" >&2
fi
place_new 0644 Systemd/policy.json "$CONFIG_DIR/policy.json"

for migration in Migrations/*.sql; do
    place 0644 "$migration" "$SHARE_DIR/migrations/$(basename "$migration")"
done
cat >"$stage/README" <<'EOF'
These are the SQL migrations of authorityd, applied in order at start. They are here for
operators to read (and to use with sqlite3 on a copy of the database): the daemon does not read
this directory, it carries the same files embedded in its binary.
EOF
place 0644 "$stage/README" "$SHARE_DIR/migrations/README"

for doc in docs/operations.md docs/api.md docs/link-format.md docs/proxies.md README.md; do
    [ -f "$doc" ] && place 0644 "$doc" "$DOC_DIR/$(basename "$doc")"
done
place 0644 Systemd/authorityd.json "$DOC_DIR/examples/authorityd.json"
place 0644 Systemd/policy.json "$DOC_DIR/examples/policy.json"

# --- live system ---------------------------------------------------------------------------
if [ -z "$DESTDIR" ] && [ "$(id -u)" -eq 0 ]; then
    if command -v systemd-sysusers >/dev/null 2>&1; then
        systemd-sysusers "$SYSUSERS_DIR/authority.conf" && echo "ran        systemd-sysusers (user and group authority)"
    fi
    if command -v systemd-tmpfiles >/dev/null 2>&1; then
        systemd-tmpfiles --create "$TMPFILES_DIR/authority.conf" && echo "ran        systemd-tmpfiles --create"
    fi
    if [ -d /run/systemd/system ]; then
        systemctl daemon-reload && echo "ran        systemctl daemon-reload"
    fi
    if [ ! -e "$CONFIG_DIR/master.key" ]; then
        echo
        echo "next: create the master key credential (docs/operations.md, 'First start'):"
        echo "  (umask 077; head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \\n' >$CONFIG_DIR/master.key; echo >>$CONFIG_DIR/master.key)"
        echo "then: systemctl enable --now authorityd.socket authorityd.service"
    fi
fi
case "$SYSTEMD_UNIT_DIR" in
/usr/lib/systemd/system | /usr/local/lib/systemd/system | /lib/systemd/system | /etc/systemd/system) ;;
*) echo "note: systemd does not look for units in $SYSTEMD_UNIT_DIR; link them (systemctl link …) or set SYSTEMD_UNIT_DIR, SYSUSERS_DIR and TMPFILES_DIR (see the header of this script)" ;;
esac
[ "$changed" -eq 1 ] && echo "== done" || echo "== done (nothing changed)"
