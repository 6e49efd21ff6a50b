"""python3 -m authority_edge check --jwks FILE --bundle FILE URL [--method M] [--host H]
[--client-ip IP] [--now T]

Prints the reason of docs/revocation-bundle.md section 7 and exits 0 only for `ok` (1 for any
other reason). A JWK set or bundle file that cannot be read or is refused exits 2 with one line
on stderr; a bundle that is only stale is not an error: it is held nowhere, and a link that
passes steps 1-7 is then `stale_bundle`.

python3 -m authority_edge batch FILE

Reads one JSON object `{"jwks": JWK set, "objects": [{"now", "bytes": base64url of an object in
either form}], "checks": [{"now", "url", "method", "host", "client_ip"}]}`, accepts the objects in
order with one verifier, then makes the checks, and prints `{"accepted": [answer or refusal code,
...], "reasons": [...]}` (the shape Tests/EndToEndTests/EdgeVerificationTests.swift reads).
Exit 0, or 2 with one line on stderr when the file is not of that shape.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import json
import sys
import time

from .bundle import BundleRefused, EdgeVerifier
from .link import B64URL_RE, KeySetError


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
    batch = commands.add_parser("batch", help="accept objects and check links from a JSON file")
    batch.add_argument("file")
    args = parser.parse_args(argv)
    prog = parser.prog
    if args.command == "batch":
        return _batch(prog, args.file)
    now = int(time.time()) if args.now is None else args.now

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


class _BadBatch(ValueError):
    pass


def _batch_int(value, what: str) -> int:
    if type(value) is not int:
        raise _BadBatch(f"{what} is not an integer")
    return value


def _batch_str(value, what: str, optional: bool = False):
    if value is None and optional:
        return None
    if type(value) is not str:
        raise _BadBatch(f"{what} is not a string")
    return value


def _batch(prog: str, path: str) -> int:
    try:
        with open(path, "rb") as f:
            spec = json.loads(f.read())
        if not isinstance(spec, dict):
            raise _BadBatch("not a JSON object")
        verifier = EdgeVerifier(spec.get("jwks"))
        objects = spec.get("objects", [])
        checks = spec.get("checks", [])
        if not isinstance(objects, list) or not isinstance(checks, list):
            raise _BadBatch("objects and checks must be arrays")
        decoded = []
        for index, item in enumerate(objects):
            if not isinstance(item, dict):
                raise _BadBatch(f"object {index} is not an object")
            text = _batch_str(item.get("bytes"), f"object {index}: bytes")
            if not B64URL_RE.fullmatch(text) or len(text) % 4 == 1:
                raise _BadBatch(f"object {index}: bytes is not base64url")
            decoded.append((_batch_int(item.get("now"), f"object {index}: now"),
                            base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))))
        requests = []
        for index, item in enumerate(checks):
            if not isinstance(item, dict):
                raise _BadBatch(f"check {index} is not an object")
            requests.append((_batch_str(item.get("url"), f"check {index}: url"),
                             _batch_str(item.get("host"), f"check {index}: host", True),
                             _batch_str(item.get("method", "GET"), f"check {index}: method"),
                             _batch_str(item.get("client_ip"), f"check {index}: client_ip", True),
                             _batch_int(item.get("now"), f"check {index}: now")))
    except OSError as error:
        print(f"{prog}: error: {path}: {error.strerror or error}", file=sys.stderr)
        return 2
    except (ValueError, KeySetError, binascii.Error) as error:
        print(f"{prog}: error: {path}: not a batch: {error}", file=sys.stderr)
        return 2
    accepted = []
    for now, data in decoded:
        try:
            accepted.append(verifier.accept(data, now))
        except BundleRefused as refused:
            accepted.append(refused.code)
    reasons = [verifier.check(url, host, method, client_ip, now)
               for url, host, method, client_ip, now in requests]
    print(json.dumps({"accepted": accepted, "reasons": reasons}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
