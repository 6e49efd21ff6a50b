"""python3 -m authority_edge check --jwks FILE --bundle FILE URL [--method M] [--host H]
[--client-ip IP] [--now T]

Prints the reason of docs/revocation-bundle.md section 7 and exits 0 only for `ok` (1 for any
other reason). A JWK set or bundle file that cannot be read or is refused exits 2 with one line
on stderr; a bundle that is only stale is not an error: it is held nowhere, and a link that
passes steps 1-7 is then `stale_bundle`.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .bundle import BundleRefused, EdgeVerifier
from .link import KeySetError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2 (argparse's default prints the usage too)
        self.exit(2, f"{self.prog}: error: {message}\n")


def _integer(text: str) -> int:
    try:
        return int(text, 10)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None


def main(argv=None) -> int:
    parser = _Parser(prog="python3 -m authority_edge",
                     description="Check a signed link against a JWK set and a revocation bundle.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    check = commands.add_parser("check", help="print the reason for one request")
    check.add_argument("--jwks", required=True, metavar="FILE", help="the JWK set (GET /v1/keys)")
    check.add_argument("--bundle", required=True, metavar="FILE",
                       help="a full revocation bundle, binary or JSON")
    check.add_argument("--method", default="GET")
    check.add_argument("--host", default=None, help="the Host of an origin-form URL")
    check.add_argument("--client-ip", default=None)
    check.add_argument("--now", type=_integer, default=None, help="Unix seconds (default: now)")
    check.add_argument("url")
    args = parser.parse_args(argv)
    now = int(time.time()) if args.now is None else args.now
    prog = parser.prog

    try:
        with open(args.jwks, "rb") as f:
            jwks = json.loads(f.read())
        verifier = EdgeVerifier(jwks)
    except OSError as error:
        print(f"{prog}: error: {args.jwks}: {error.strerror or error}", file=sys.stderr)
        return 2
    except (ValueError, KeySetError) as error:   # not JSON (UnicodeDecodeError too), bad set
        print(f"{prog}: error: {args.jwks}: not a usable JWK set: {error}", file=sys.stderr)
        return 2
    try:
        with open(args.bundle, "rb") as f:
            data = f.read()
    except OSError as error:
        print(f"{prog}: error: {args.bundle}: {error.strerror or error}", file=sys.stderr)
        return 2
    try:
        answer = verifier.accept(data, now)
    except BundleRefused as refused:
        if refused.code != "stale":
            print(f"{prog}: error: {args.bundle}: bundle refused: {refused}", file=sys.stderr)
            return 2
        print(f"{prog}: warning: {args.bundle}: bundle refused: {refused}", file=sys.stderr)
    else:
        if answer != "ok":
            print(f"{prog}: error: {args.bundle}: a freshness object, not a full bundle",
                  file=sys.stderr)
            return 2
    reason = verifier.check(args.url, args.host, args.method, args.client_ip, now)
    print(reason)
    return 0 if reason == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
