#!/usr/bin/env python3
"""Independent verifier for signed links, format version 1 (docs/link-format.md).

Written from the specification alone (no knowledge of the Swift implementation). It implements
the offline part of the check, steps 1-7 of spec section 6, for links carried in the query and
in a path token (section 11), with the origins of au_o (sections 1, 4 and 13) parsed and signed,
and runs it over the test vectors:

    python3 verify_vectors.py [path/to/link-v1.json]

For each vector it compares (valid, reason), and whenever the link parses the rebuilt signed
message and the signature bytes. The last line printed is "N passed, M failed".
Exit status: 0 when M == 0 and N >= 1, 1 otherwise, 2 when the file is missing or not an array.
"""
from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import sys
from dataclasses import dataclass
from itertools import zip_longest

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CONTEXT = "authority-link-v1"
DEFAULT_LEEWAY = 30
UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
HEXDIGITS = frozenset(b"0123456789abcdefABCDEF")
METHOD_ORDER = ("GET", "HEAD", "PUT", "POST", "DELETE")
RESERVED = ("au_v", "au_k", "au_id", "au_iat", "au_nbf", "au_exp", "au_m",
            "au_pfx", "au_h", "au_ip", "au_f", "au_o", "au_sig")
REQUIRED = ("au_v", "au_k", "au_id", "au_iat", "au_exp", "au_m", "au_sig")
FLAGS = ("u", "p", "c", "up", "uc", "pc", "upc")   # section 1: each once, in the order u, p, c


class Malformed(Exception):
    """Any rule of sections 1-4 is broken (reason `malformed`)."""


# ---- Small helpers: percent-encoding, base64url, decimal numbers -----------------------------

def enc(data: bytes) -> str:
    """ENC of section 3/4: unreserved bytes as themselves, every other byte as uppercase %XX."""
    return "".join(chr(b) if b in UNRESERVED else "%%%02X" % b for b in data)


def percent_decode(raw: bytes, plus_is_space: bool) -> tuple[bytes, list[bool]]:
    """Decode %XX (either case); `+` -> space with form rules. Any other `%` is malformed.
    Also returns, per decoded byte, whether it came from a %XX escape (section 3, rule 3)."""
    out, escaped, i = bytearray(), [], 0
    while i < len(raw):
        is_escape = raw[i] == 0x25  # '%'
        if is_escape:
            pair = raw[i + 1:i + 3]
            if len(pair) != 2 or not all(c in HEXDIGITS for c in pair):
                raise Malformed("bad %-escape")
            out.append(int(pair, 16))
        else:
            out.append(0x20 if plus_is_space and raw[i] == 0x2B else raw[i])
        escaped.append(is_escape)
        i += 3 if is_escape else 1
    return bytes(out), escaped


def is_utf8(data: bytes) -> bool:
    try:
        return data.decode("utf-8") is not None
    except UnicodeDecodeError:
        return False


B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
DECIMAL_RE = re.compile(r"0|[1-9][0-9]{0,17}")


def b64url_canonical(text: str, nchars: int, nbytes: int) -> bytes:
    """Section 1: exact length, RFC 4648 section 5 alphabet, no padding, unused bits zero."""
    if len(text) != nchars or not B64URL_RE.fullmatch(text):
        raise Malformed("base64url value has wrong length or alphabet")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Canonical iff re-encoding gives the same text (this checks the unused low bits).
    if len(data) != nbytes or base64.urlsafe_b64encode(data).decode().rstrip("=") != text:
        raise Malformed("non-canonical base64url")
    return data


def decimal(text: str) -> int:
    """Section 1: `0`, or a non-zero digit followed by at most 17 digits."""
    if not DECIMAL_RE.fullmatch(text):
        raise Malformed("bad decimal number")
    return int(text)


# ---- Section 5: addresses --------------------------------------------------------------------

IPV4_RE = re.compile(r"(0|[1-9][0-9]{0,2})(\.(0|[1-9][0-9]{0,2})){3}")
HOST_RE = re.compile(r"(?P<host>\[[^\]]*\]|[a-z0-9-]+(?:\.[a-z0-9-]+)*)"
                     r"(?::(?P<port>[1-9][0-9]{0,4}))?")


def parse_ipv4_canonical(text: str) -> int | None:
    """Four decimal octets 0-255 without leading zeros; None if not in that exact form."""
    if not IPV4_RE.fullmatch(text):
        return None
    octets = [int(p) for p in text.split(".")]
    return None if max(octets) > 255 else int.from_bytes(bytes(octets), "big")


def ipv6_rfc5952(value: int) -> str:
    """RFC 5952 text, written here (not str(IPv6Address), whose output depends on the Python
    version for IPv4-mapped addresses). Never produces an embedded-IPv4 form."""
    groups = [(value >> (112 - 16 * i)) & 0xFFFF for i in range(8)]
    best_start, best_len, run = 0, 0, 0
    for i, g in enumerate(groups + [1]):   # longest run of zero groups, the first on a tie
        run = run + 1 if g == 0 else 0
        if run > best_len:
            best_start, best_len = i - run + 1, run
    hexs = ["%x" % g for g in groups]
    if best_len < 2:
        return ":".join(hexs)
    return ":".join(hexs[:best_start]) + "::" + ":".join(hexs[best_start + best_len:])


def parse_ipv6_canonical(text: str) -> int | None:
    """IPv6 address in exactly the canonical text of section 5 (lowercase hex and ':' only, so
    embedded-IPv4 forms and zone ids are refused); None otherwise."""
    if not re.fullmatch(r"[0-9a-f:]+", text):
        return None
    try:
        value = int(ipaddress.IPv6Address(text))
    except ValueError:
        return None
    if value >> 32 == 0xFFFF:  # inside ::ffff:0:0/96 (IPv4-mapped): refused however written
        return None
    return value if ipv6_rfc5952(value) == text else None


def parse_cidr(text: str) -> tuple[int, int, int]:
    """au_ip: canonical `ADDRESS/LENGTH` with zero host bits -> (version, network, length)."""
    m = re.fullmatch(r"([^/]+)/(0|[1-9][0-9]{0,2})", text)
    if not m:
        raise Malformed("au_ip is not ADDRESS/LENGTH")
    addr, length = m.group(1), int(m.group(2))
    v4 = parse_ipv4_canonical(addr)
    if v4 is not None:
        version, value, bits = 4, v4, 32
    else:
        v6 = parse_ipv6_canonical(addr)
        if v6 is None:
            raise Malformed("au_ip address is not canonical IPv4/IPv6 text")
        version, value, bits = 6, v6, 128
    if length > bits:
        raise Malformed("au_ip length out of range")
    if value & ((1 << (bits - length)) - 1):
        raise Malformed("au_ip has host bits set")
    return version, value, length


def client_in_network(client: str | None, net: tuple[int, int, int]) -> bool:
    """Client address in any valid text form; IPv4-mapped IPv6 is treated as the IPv4 address.
    A missing or unparsable client address never matches (fail closed)."""
    if not isinstance(client, str) or "%" in client:  # no zone ids
        return False
    try:
        addr = ipaddress.ip_address(client)
    except ValueError:
        return False
    if addr.version == 6 and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    version, network, length = net
    if addr.version != version:
        return False
    shift = (32 if version == 4 else 128) - length
    return (int(addr) >> shift) == (network >> shift)


# ---- Section 1: reserved values --------------------------------------------------------------

def check_host(text: str) -> None:
    """au_h: lowercase DNS name / IPv4 / [canonical IPv6], optional :port 1-65535."""
    m = HOST_RE.fullmatch(text)
    if not m:
        raise Malformed("au_h not a lowercase host[:port]")
    if m.group("port") is not None and int(m.group("port")) > 65535:
        raise Malformed("au_h port out of range")
    host = m.group("host")
    if host.startswith("[") and parse_ipv6_canonical(host[1:-1]) is None:
        raise Malformed("au_h IPv6 address not canonical")
    # A name made only of digits and dots must be a canonical IPv4 address.
    if re.fullmatch(r"[0-9.]+", host) and parse_ipv4_canonical(host) is None:
        raise Malformed("au_h all-numeric name is not a canonical IPv4 address")


def parse_origins(text: str) -> list[str]:
    """au_o: 1 to 8 origins joined by `,`, each `http://` or `https://` followed by a host in
    the form of au_h (lowercase, optional :port, no path, no trailing `/`), in strictly
    ascending byte order (hence no origin twice)."""
    origins = text.split(",")
    if len(origins) > 8:
        raise Malformed("au_o has more than 8 origins")
    for origin in origins:
        for scheme in ("https://", "http://"):
            if origin.startswith(scheme):
                check_host(origin[len(scheme):])   # raises Malformed (empty, path, `/`, ...)
                break
        else:
            raise Malformed("au_o origin is not http:// or https://")
    encoded = [o.encode("utf-8") for o in origins]   # every checked origin is ASCII anyway
    if any(a >= b for a, b in zip(encoded, encoded[1:])):
        raise Malformed("au_o not in strictly ascending byte order")
    return origins


def check_methods(text: str) -> None:
    """Non-empty comma-separated list from METHOD_ORDER, each once, in that order."""
    last = -1
    for name in text.split(","):
        if name not in METHOD_ORDER or METHOD_ORDER.index(name) <= last:
            raise Malformed("au_m not in canonical form")
        last = METHOD_ORDER.index(name)


def check_reserved(res: dict[str, str]) -> None:
    if any(name not in res for name in REQUIRED):
        raise Malformed("a required reserved parameter is missing")
    if res["au_v"] != "1":
        raise Malformed("au_v must be 1")
    if decimal(res["au_k"]) == 0:
        raise Malformed("au_k must be >= 1")
    b64url_canonical(res["au_id"], 22, 16)
    b64url_canonical(res["au_sig"], 86, 64)
    for name in ("au_iat", "au_nbf", "au_exp"):   # au_nbf is optional
        decimal(res.get(name, "0"))
    check_methods(res["au_m"])
    if "au_pfx" in res and canonical_path(res["au_pfx"].encode()) != res["au_pfx"]:
        raise Malformed("au_pfx is not a canonical path")
    if "au_h" in res:
        check_host(res["au_h"])
    if "au_ip" in res:
        parse_cidr(res["au_ip"])
    if "au_f" in res and res["au_f"] not in FLAGS:
        raise Malformed("au_f must be u, p, c or a combination in that order")
    if "c" in res.get("au_f", "") and "au_pfx" not in res:
        raise Malformed("flag c without au_pfx")
    if "au_o" in res:
        parse_origins(res["au_o"])


# ---- Section 2: the request target; section 3: canonical path; section 4: query --------------

def split_target(target: str) -> tuple[str | None, bytes, bytes | None]:
    """-> (authority or None for origin-form, raw path, raw query or None)."""
    try:  # a JSON string may hold lone surrogates: these are not UTF-8, hence malformed
        raw = target.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed("target is not UTF-8") from None
    if any(b < 0x20 or b == 0x7F or b in (0x20, 0x23) for b in raw):
        raise Malformed("target holds a fragment, space or control character")
    authority = None
    m = re.match(rb"(?i:https?)://", raw)
    if m:
        rest = raw[m.end():]
        # the authority ends where the path (or, with an empty path, the query) begins
        end = min((p for p in (rest.find(b"/"), rest.find(b"?")) if p != -1), default=len(rest))
        authority, raw = rest[:end].decode("utf-8"), rest[end:]  # target was UTF-8 text
        if not authority or "@" in authority:
            raise Malformed("empty authority or userinfo")
    elif not raw.startswith(b"/"):
        raise Malformed("target is neither http(s) absolute-form nor origin-form")
    path, sep, query = raw.partition(b"?")
    return authority, path, (query if sep else None)


def canonical_path(raw: bytes) -> str:
    """Section 3. Raises Malformed on every rejection."""
    if not raw.startswith(b"/"):
        raise Malformed("path does not start with /")
    if b"\\" in raw:
        raise Malformed("backslash in path")
    decoded, escaped = percent_decode(raw, plus_is_space=False)
    for b, was_escaped in zip(decoded, escaped):
        if was_escaped and b in (0x2F, 0x5C):
            raise Malformed("%2F or %5C in path")
        if b < 0x20 or b == 0x7F:
            raise Malformed("control byte in path")
    if not is_utf8(decoded):
        raise Malformed("path is not UTF-8")
    # Split on the raw '/' only: an encoded '/' was rejected above, so these are the same.
    segments = decoded[1:].split(b"/")
    for i, seg in enumerate(segments):
        if seg in (b".", b".."):
            raise Malformed("dot segment")
        if seg == b"" and i != len(segments) - 1:
            raise Malformed("empty segment")
    if len(segments) > 128:
        raise Malformed("more than 128 segments")
    canonical = "/" + "/".join(enc(seg) for seg in segments)
    if len(canonical) > 4096:
        raise Malformed("longer than 4096 bytes")
    return canonical


def parse_query(raw: bytes | None) -> tuple[dict[str, str], list[tuple[bytes, bytes]]]:
    """Section 4 -> (reserved name -> verbatim value, application (name, value) decoded)."""
    if raw is None:
        raise Malformed("no query, hence no reserved parameters")
    if not is_utf8(raw):
        raise Malformed("query is not printable ASCII / UTF-8")
    reserved: dict[str, str] = {}
    app: list[tuple[bytes, bytes]] = []
    for piece in raw.split(b"&"):
        if not piece:
            raise Malformed("empty query piece")
        raw_name, _, raw_value = piece.partition(b"=")
        name, _ = percent_decode(raw_name, plus_is_space=True)
        value, _ = percent_decode(raw_value, plus_is_space=True)
        if not name:
            raise Malformed("empty parameter name")
        if not is_utf8(name) or not is_utf8(value) or b"\x00" in name or b"\x00" in value:
            raise Malformed("parameter is not UTF-8 or holds NUL")
        if name.startswith(b"au_"):
            add_reserved(reserved, raw_name.decode(), raw_value.decode())
        else:
            app.append((name, value))
    return reserved, app


def add_reserved(reserved: dict[str, str], key: str, value: str) -> None:
    """Section 1: a listed name written as is (so au%5Fk is refused), once; value verbatim."""
    if key not in RESERVED:
        raise Malformed(f"unknown or encoded reserved name {key!r}")
    if key in reserved:
        raise Malformed(f"duplicate {key}")
    reserved[key] = value


# ---- Section 11: path-carried tokens ---------------------------------------------------------

TOKEN_MARK = b"/~au/"


def split_path_token(raw_path: bytes) -> tuple[dict[str, str], bytes]:
    """`/~au/<token>/rest` -> (reserved parameters from the token, raw request path `/rest`)."""
    after = raw_path[len(TOKEN_MARK):]
    end = after.find(b"/")
    if end == -1:
        raise Malformed("path token not followed by /")
    token = after[:end]
    if not 1 <= len(token) <= 4096 or not re.fullmatch(rb"[A-Za-z0-9_-]+", token) \
            or len(token) % 4 == 1:
        raise Malformed("path token is not 1-4096 base64url characters")
    data = base64.urlsafe_b64decode(token + b"=" * (-len(token) % 4))
    if base64.urlsafe_b64encode(data).rstrip(b"=") != token:   # unused low bits must be zero
        raise Malformed("path token is not canonical base64url")
    if not is_utf8(data):
        raise Malformed("path token is not UTF-8")
    reserved: dict[str, str] = {}
    for piece in data.decode("utf-8").split("&"):
        name, _, value = piece.partition("=")
        if not name.startswith("au_"):
            raise Malformed("path token piece is not a reserved parameter")
        add_reserved(reserved, name, value)
    return reserved, after[end:]


# ---- Parsing a link and building the signed message (section 4) ------------------------------

@dataclass
class Link:
    res: dict[str, str]        # reserved parameters, verbatim
    authority: str | None      # from an absolute target, else None
    path: str                  # canonical request path (after the token, for a path token)
    message: bytes             # the signed message: 13 lines, 14 with au_o
    signature: bytes           # the 64 bytes of au_sig
    origins: list[str] | None = None   # au_o's origins (section 13), None without au_o


def parse_link(target: str) -> Link:
    authority, raw_path, raw_query = split_target(target)
    in_path = raw_path.startswith(TOKEN_MARK)
    if in_path:   # section 11
        res, raw_path = split_path_token(raw_path)
        app: list[tuple[bytes, bytes]] = []
        if raw_query is not None:   # the target's own query: application parameters only
            outer, app = parse_query(raw_query)
            if outer:
                raise Malformed("reserved parameter in the query of a path-token target")
    else:
        res, app = parse_query(raw_query)
    path = canonical_path(raw_path)
    if path == "/~au" or path.startswith("/~au/"):   # section 11: %7Eau is ~au to a proxy
        raise Malformed("the path is under /~au/ (an encoded path-carried token marker)")
    check_reserved(res)
    prefix = "au_pfx" in res
    if in_path and not prefix:
        raise Malformed("a path token must carry a prefix link")
    query = "&".join(enc(n) + "=" + enc(v) for n, v in app)
    lines = [CONTEXT, "epoch=" + res["au_k"], "id=" + res["au_id"],
             "issued_at=" + res["au_iat"], "not_before=" + res.get("au_nbf", ""),
             "expires_at=" + res["au_exp"], "methods=" + res["au_m"],
             "scope=" + ("prefix" if prefix else "exact"), "host=" + res.get("au_h", ""),
             "ip=" + res.get("au_ip", ""), "flags=" + res.get("au_f", ""),
             "path=" + (res["au_pfx"] if prefix else path),
             "query=" + ("" if prefix else query)]
    origins = parse_origins(res["au_o"]) if "au_o" in res else None
    if origins is not None:   # section 4: the fourteenth line, only for a link with au_o
        lines.append("origins=" + res["au_o"])
    message = "".join(line + "\n" for line in lines).encode("ascii")
    signature = b64url_canonical(res["au_sig"], 86, 64)
    return Link(res, authority, path, message, signature, origins)


# ---- Section 6: the check, steps 1-7 ---------------------------------------------------------

def split_host_port(host: str) -> tuple[str, str | None]:
    if host.startswith("["):
        end = host.find("]")
        if end != -1 and host[end + 1:end + 2] == ":":
            return host[:end + 1], host[end + 2:]
        return host, None
    name, sep, port = host.rpartition(":")
    return (name, port) if sep else (host, None)


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def host_matches(bound: str, request_host: str | None) -> bool:
    """Request host lowercased (ASCII); au_h without a port ignores the request's port,
    au_h with a port requires the same port. No host at all never matches."""
    if request_host is None:
        return False
    req_name, req_port = split_host_port(request_host.translate(ASCII_LOWER))
    name, port = split_host_port(bound)
    return req_name == name and (port is None or req_port == port)


def under_prefix(path: str, prefix: str) -> bool:
    return path == prefix or (prefix.endswith("/") and path.startswith(prefix)) \
        or path.startswith(prefix + "/")


def check(target: str, method: str, host: str | None, client_ip: str | None, now: int,
          keys: dict[int, bytes], leeway: int = DEFAULT_LEEWAY) -> tuple[str, Link | None]:
    """Returns (reason, parsed link or None when malformed). `host` is the forwarded Host
    for an origin-form target; an absolute target's own authority takes precedence."""
    try:
        link = parse_link(target)
    except Malformed:
        return "malformed", None
    res = link.res
    key = keys.get(int(res["au_k"]))
    if key is None:
        return "unknown_key", link
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(link.signature, link.message)
    except (InvalidSignature, ValueError):
        return "bad_signature", link
    if now >= int(res["au_exp"]):
        return "expired", link
    if "au_nbf" in res and now < int(res["au_nbf"]) - leeway:
        return "not_yet_valid", link
    if method not in res["au_m"].split(","):
        return "method_not_allowed", link
    request_host = link.authority if link.authority is not None else host
    if "au_h" in res and not host_matches(res["au_h"], request_host):
        return "resource_mismatch", link
    if "au_pfx" in res and not under_prefix(link.path, res["au_pfx"]):
        return "resource_mismatch", link
    if "au_ip" in res and not client_in_network(client_ip, parse_cidr(res["au_ip"])):
        return "ip_mismatch", link
    return "ok", link


# ---- Test vectors (section 9) ----------------------------------------------------------------

def b64url_loose(text: str) -> bytes:
    """Decode a base64url field of the vectors file (no padding)."""
    if not isinstance(text, str) or not B64URL_RE.fullmatch(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def run_entry(entry: dict) -> list[str]:
    """Check one vector; returns the list of differences (empty when it fully matches)."""
    problems: list[str] = []
    key = b64url_loose(entry["public_key"])
    if len(key) != 32:
        return ["public_key is not 32 bytes"]
    leeway = entry.get("not_before_leeway")
    reason, link = check(entry["url"], entry["method"], entry.get("host"), entry.get("client_ip"),
                         int(entry["now"]), {int(entry["epoch"]): key},
                         DEFAULT_LEEWAY if leeway is None else int(leeway))
    if reason != entry["reason"]:
        problems.append(f"reason: expected {entry['reason']!r}, got {reason!r}")
    if (reason == "ok") != entry["valid"]:
        problems.append(f"valid: expected {entry['valid']!r}, got {reason == 'ok'!r}")
    want_msg, want_sig = entry.get("signed_message"), entry.get("signature")
    if link is None:
        if want_msg is not None or want_sig is not None:
            problems.append("link is malformed here, but the entry has signed_message/signature")
        return problems
    if want_msg is None:
        problems.append("link parses here, but the entry has no signed_message")
    elif b64url_loose(want_msg) != link.message:
        pairs = zip_longest(b64url_loose(want_msg).split(b"\n"), link.message.split(b"\n"))
        i, (w, g) = next((i, p) for i, p in enumerate(pairs) if p[0] != p[1])
        problems.append(f"signed_message differs at line {i + 1} (split on LF): "
                        f"expected {w!r}, rebuilt {g!r} (None = no such line)")
    if want_sig is None:
        problems.append("link parses here, but the entry has no signature")
    elif b64url_loose(want_sig) != link.signature:
        problems.append("signature bytes differ from the link's au_sig")
    return problems


def main(argv: list[str]) -> int:
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "link-v1.json")
    path = argv[1] if len(argv) > 1 else default
    try:
        with open(path, "rb") as f:
            entries = json.loads(f.read())
        if not isinstance(entries, list):
            raise ValueError("not a JSON array")
    except FileNotFoundError:
        print(f"error: vectors file not found: {path}", file=sys.stderr)
        return 2
    except (OSError, ValueError) as e:   # unreadable, not JSON, or not an array
        print(f"error: {path}: {e}", file=sys.stderr)
        return 2
    passed = failed = 0
    for index, entry in enumerate(entries):
        name = entry.get("name", f"#{index}") if isinstance(entry, dict) else f"#{index}"
        try:
            problems = run_entry(entry)
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            problems = [f"bad vector entry: {type(e).__name__}: {e}"]
        if problems:
            failed += 1
            print(f"FAIL {name}: " + "; ".join(problems))
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed >= 1 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
