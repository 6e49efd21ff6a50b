"""Signed links, format version 1 (docs/link-format.md): parsing (the link in the query, or in
a path-carried token, section 11; the origins of au_o, section 13), the signed message and the
offline check, steps 1-7 of its section 6.

Adapted from Tests/Vectors/verify_vectors.py (the independent verifier written from the
specification); the logic of sections 1-5 is that file's.
"""
from __future__ import annotations

import base64
import ipaddress
import re
from dataclasses import dataclass
from typing import Callable, Mapping, Optional, Tuple, Union

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
FLAGS = ("u", "p", "c", "up", "uc", "pc", "upc")   # each at most once, in the order u, p, c
MAX_ORIGINS = 8
PATH_TOKEN = b"/~au/"
MAX_TOKEN_CHARS = 4096
MAX_PATH_SEGMENTS = 128
MAX_PATH_BYTES = 4096


class Malformed(Exception):
    """Any rule of sections 1-4 is broken (reason `malformed`)."""


# ---- Keys ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    """One epoch's public key as an offline verifier holds it."""
    epoch: int
    public_key: Ed25519PublicKey
    retired: bool = False


class KeySetError(ValueError):
    """A JWK set that cannot be read."""


def load_jwks(jwks: Mapping) -> dict[int, Key]:
    """A JWK set (`{"keys": [...]}`, the shape of `GET /v1/keys`) -> {epoch: Key}.

    Keys of another type than OKP/Ed25519 are skipped. `kid` must be the epoch in decimal (no
    leading zero, >= 1), `x` 43 canonical base64url characters (32 bytes); an epoch may appear
    once. `status: "retired"` makes the key retired. Anything else raises KeySetError."""
    if not isinstance(jwks, Mapping) or not isinstance(jwks.get("keys"), list):
        raise KeySetError('not a JWK set (an object with a "keys" array)')
    keys: dict[int, Key] = {}
    for index, jwk in enumerate(jwks["keys"]):
        if not isinstance(jwk, Mapping):
            raise KeySetError(f"key {index} is not an object")
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            continue
        kid = jwk.get("kid")
        if not isinstance(kid, str) or not KID_RE.fullmatch(kid) or int(kid) > MAX_EPOCH:
            raise KeySetError(f"key {index}: kid must be the epoch in decimal")
        x = jwk.get("x")
        try:
            raw = b64url_canonical(x, 43, 32) if isinstance(x, str) else None
        except Malformed:
            raw = None
        if raw is None:
            raise KeySetError(f"key {index}: x must be 32 bytes of base64url")
        epoch = int(kid)
        if epoch in keys:
            raise KeySetError(f"epoch {epoch} appears twice")
        keys[epoch] = Key(epoch, Ed25519PublicKey.from_public_bytes(raw),
                          jwk.get("status") == "retired")
    return keys


KID_RE = re.compile(r"[1-9][0-9]{0,18}")
MAX_EPOCH = 2**63 - 1

KeyLike = Union[Key, Ed25519PublicKey, bytes]


def normalise_keys(keys) -> dict[int, Key]:
    """Accepts a JWK set, or a mapping epoch (int) -> Key, Ed25519PublicKey or 32 raw bytes."""
    if not isinstance(keys, Mapping):
        raise KeySetError("keys: a JWK set, or a mapping epoch -> key")
    if "keys" in keys:
        return load_jwks(keys)
    out: dict[int, Key] = {}
    for epoch, value in keys.items():
        if isinstance(value, Key):
            out[int(epoch)] = value
        elif isinstance(value, Ed25519PublicKey):
            out[int(epoch)] = Key(int(epoch), value)
        elif isinstance(value, (bytes, bytearray)):
            out[int(epoch)] = Key(int(epoch), Ed25519PublicKey.from_public_bytes(bytes(value)))
        else:
            raise KeySetError(f"key of epoch {epoch}: expected Key, Ed25519PublicKey or bytes")
    return out


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
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


B64URL_RE = re.compile(r"[A-Za-z0-9_-]*")
DECIMAL_RE = re.compile(r"0|[1-9][0-9]{0,17}")


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def b64url_canonical(text: str, nchars: int, nbytes: int) -> bytes:
    """Exact length, RFC 4648 section 5 alphabet, no padding, unused bits zero."""
    if len(text) != nchars or not B64URL_RE.fullmatch(text):
        raise Malformed("base64url value has wrong length or alphabet")
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    # Canonical iff re-encoding gives the same text (this checks the unused low bits).
    if len(data) != nbytes or b64url_encode(data) != text:
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


def parse_ipv4_canonical(text: str) -> Optional[int]:
    """Four decimal octets 0-255 without leading zeros; None if not in that exact form."""
    if not IPV4_RE.fullmatch(text):
        return None
    octets = [int(p) for p in text.split(".")]
    return None if max(octets) > 255 else int.from_bytes(bytes(octets), "big")


def ipv6_rfc5952(value: int) -> str:
    """RFC 5952 text (never an embedded-IPv4 form), written here rather than taken from
    str(IPv6Address), whose output for IPv4-mapped addresses depends on the Python version."""
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


def parse_ipv6_canonical(text: str) -> Optional[int]:
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


def client_in_network(client: Optional[str], net: tuple[int, int, int]) -> bool:
    """Client address in any valid text form; IPv4-mapped IPv6 is treated as the IPv4 address.
    A missing or unparsable client address (a zone id included) never matches."""
    if not isinstance(client, str) or "%" in client:
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


ORIGIN_RE = re.compile(r"https?://(?P<host>.*)", re.DOTALL)


def parse_origins(text: str) -> tuple[str, ...]:
    """au_o (section 1 "Origins", section 13): 1 to 8 origins joined by `,`, each `http://` or
    `https://` and a host in the form of au_h (lowercase, optional :port, no path, no trailing
    `/`), in strictly ascending byte order (so none twice)."""
    origins = tuple(text.split(","))
    if len(origins) > MAX_ORIGINS:
        raise Malformed("au_o lists more than 8 origins")
    for i, origin in enumerate(origins):
        m = ORIGIN_RE.fullmatch(origin)
        if not m:
            raise Malformed("au_o: an origin does not start with http:// or https://")
        try:
            check_host(m.group("host"))
        except Malformed:
            raise Malformed("au_o: an origin is not a lowercase scheme://host[:port]") from None
        # a checked origin is ASCII, so comparing code points is comparing bytes
        if i and not origins[i - 1] < origin:
            raise Malformed("au_o is not in strictly ascending order")
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
        raise Malformed("au_f is not a canonical flag list (u, p, c in that order)")
    if "c" in res.get("au_f", "") and "au_pfx" not in res:
        raise Malformed("the flag c (grant cookie) needs a prefix link (au_pfx)")
    if "au_o" in res:
        parse_origins(res["au_o"])


# ---- Section 2: the request target; section 3: canonical path; section 4: query --------------

def split_target(target: str) -> tuple[Optional[str], bytes, Optional[bytes]]:
    """-> (authority or None for origin-form, raw path, raw query or None)."""
    if not isinstance(target, str):
        raise Malformed("target is not a string")
    try:  # a string may hold lone surrogates: these are not UTF-8, hence malformed
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
        authority, raw = rest[:end].decode("utf-8"), rest[end:]
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
    if len(segments) > MAX_PATH_SEGMENTS:
        raise Malformed("more than 128 segments")
    canonical = "/" + "/".join(enc(seg) for seg in segments)
    if len(canonical) > MAX_PATH_BYTES:
        raise Malformed("longer than 4096 bytes")
    return canonical


def parse_query(raw: Optional[bytes]) -> tuple[dict[str, str], list[tuple[bytes, bytes]]]:
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
            set_reserved(reserved, raw_name.decode(), raw_value.decode())
        else:
            app.append((name, value))
    return reserved, app


def set_reserved(reserved: dict[str, str], key: str, value: str) -> None:
    """A reserved piece: the raw name must be listed (so written without encoding: au%5Fk is
    malformed) and appear once; the value is kept verbatim, no decoding."""
    if key not in RESERVED:
        raise Malformed(f"unknown or encoded reserved name {key!r}")
    if key in reserved:
        raise Malformed(f"duplicate {key}")
    reserved[key] = value


def parse_path_token(raw_path: bytes) -> tuple[dict[str, str], bytes]:
    """Section 11: `/~au/<token>/rest` -> (the token's reserved parameters, raw request path
    `/rest`). The token is 1 to 4096 canonical base64url characters of `au_...=...` pieces
    joined by `&`."""
    token, slash, rest = raw_path[len(PATH_TOKEN):].partition(b"/")
    if not slash:
        raise Malformed("the path-carried token is not followed by /")
    if not 1 <= len(token) <= MAX_TOKEN_CHARS or not B64URL_RE.fullmatch(token.decode("latin-1")):
        raise Malformed("the path-carried token is not 1 to 4096 base64url characters")
    text = token.decode("ascii")
    try:
        decoded = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except ValueError:   # binascii.Error: a length of 4n + 1
        raise Malformed("the path-carried token is not canonical base64url") from None
    if b64url_encode(decoded) != text:   # the unused low bits of the last character are set
        raise Malformed("the path-carried token is not canonical base64url")
    if not is_utf8(decoded):
        raise Malformed("the path-carried token is not UTF-8")
    reserved: dict[str, str] = {}
    for piece in decoded.decode("utf-8").split("&"):
        key, _, value = piece.partition("=")
        if not key.startswith("au_"):
            raise Malformed("the path-carried token holds a piece that is not a reserved parameter")
        set_reserved(reserved, key, value)
    return reserved, b"/" + rest


# ---- Parsing a link and building the signed message (section 4) ------------------------------

@dataclass(frozen=True)
class Link:
    res: dict              # reserved parameters, verbatim (name -> value)
    authority: Optional[str]  # from an absolute target, else None
    path: str              # canonical request path (for a path-carried token, after the token)
    message: bytes         # the signed message: 13 lines, 14 with au_o
    signature: bytes       # the 64 bytes of au_sig
    carrier: str = "query"  # where the target carried the link: "query", or "path" (section 11)

    @property
    def epoch(self) -> int:
        return int(self.res["au_k"])

    @property
    def id(self) -> bytes:
        return b64url_canonical(self.res["au_id"], 22, 16)

    @property
    def issued_at(self) -> int:
        return int(self.res["au_iat"])

    @property
    def flags(self) -> str:
        return self.res.get("au_f", "")

    @property
    def origins(self) -> Optional[Tuple[str, ...]]:
        """The origins of au_o (section 13), or None when the link lists none."""
        return parse_origins(self.res["au_o"]) if "au_o" in self.res else None

    def allowed_origin(self, origin: Optional[str]) -> Optional[str]:
        """The listed origin that a request's `Origin` header names (ASCII letters lowercased,
        then compared exactly: a non-ASCII Origin never matches), or None. For a proxy to put
        in Access-Control-Allow-Origin once the link passed; it never changes the verdict."""
        if not isinstance(origin, str) or self.origins is None:
            return None
        folded = origin.translate(ASCII_LOWER)
        return folded if folded in self.origins else None


def parse_link(target: str) -> Link:
    """Steps of sections 1-4 and 11; raises Malformed."""
    authority, raw_path, raw_query = split_target(target)
    carrier = "path" if raw_path.startswith(PATH_TOKEN) else "query"
    if carrier == "path":
        res, raw_path = parse_path_token(raw_path)
        # the target's own query holds only the application's parameters
        outer, app = parse_query(raw_query) if raw_query is not None else ({}, [])
        if outer:
            raise Malformed("a reserved parameter in the query of a path-carried token")
    path = canonical_path(raw_path)
    if path == "/~au" or path.startswith("/~au/"):   # section 11: %7Eau is ~au to a proxy
        raise Malformed("the path is under /~au/ (an encoded path-carried token marker)")
    if carrier == "query":
        res, app = parse_query(raw_query)
    check_reserved(res)
    prefix = "au_pfx" in res
    if carrier == "path" and not prefix:
        raise Malformed("a path-carried token must hold a prefix link (au_pfx)")
    query = "&".join(enc(n) + "=" + enc(v) for n, v in app)
    lines = [CONTEXT, "epoch=" + res["au_k"], "id=" + res["au_id"],
             "issued_at=" + res["au_iat"], "not_before=" + res.get("au_nbf", ""),
             "expires_at=" + res["au_exp"], "methods=" + res["au_m"],
             "scope=" + ("prefix" if prefix else "exact"), "host=" + res.get("au_h", ""),
             "ip=" + res.get("au_ip", ""), "flags=" + res.get("au_f", ""),
             "path=" + (res["au_pfx"] if prefix else path),
             "query=" + ("" if prefix else query)]
    if "au_o" in res:   # the fourteenth line, only for a link with au_o
        lines.append("origins=" + res["au_o"])
    message = "".join(line + "\n" for line in lines).encode("ascii")
    signature = b64url_canonical(res["au_sig"], 86, 64)
    return Link(res, authority, path, message, signature, carrier)


# ---- Section 6: the check, steps 1-7 ---------------------------------------------------------

def split_host_port(host: str) -> tuple[str, Optional[str]]:
    if host.startswith("["):
        end = host.find("]")
        if end != -1 and host[end + 1:end + 2] == ":":
            return host[:end + 1], host[end + 2:]
        return host, None
    name, sep, port = host.rpartition(":")
    return (name, port) if sep else (host, None)


ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def host_matches(bound: str, request_host: Optional[str]) -> bool:
    """Request host lowercased (ASCII letters only); au_h without a port ignores the request's
    port, au_h with a port requires the same port. No host at all never matches. Compared as
    code points, which for the ASCII-only au_h is comparing bytes: a non-ASCII request host
    never matches."""
    if not isinstance(request_host, str):
        return False
    req_name, req_port = split_host_port(request_host.translate(ASCII_LOWER))
    name, port = split_host_port(bound)
    return req_name == name and (port is None or req_port == port)


def under_prefix(path: str, prefix: str) -> bool:
    """docs/link-format.md section 6, "Prefix match"."""
    return path == prefix or (prefix.endswith("/") and path.startswith(prefix)) \
        or path.startswith(prefix + "/")


# A key resolver: epoch -> None (unknown_key) or (public key, retired).
KeyResolver = Callable[[int], Optional[Tuple[Ed25519PublicKey, bool]]]


def check_steps(url: str, host: Optional[str], method: str, client_ip: Optional[str],
                resolve: KeyResolver, now: int,
                not_before_leeway: int = DEFAULT_LEEWAY) -> tuple[str, Optional[Link]]:
    """Steps 1-7 with a key resolver -> (reason, the parsed link or None when malformed)."""
    try:
        link = parse_link(url)
    except Malformed:
        return "malformed", None
    res = link.res
    entry = resolve(link.epoch)
    if entry is None:
        return "unknown_key", link
    public_key, retired = entry
    if retired:
        return "retired_key", link
    try:
        public_key.verify(link.signature, link.message)
    except (InvalidSignature, ValueError):
        return "bad_signature", link
    if now >= int(res["au_exp"]):
        return "expired", link
    if "au_nbf" in res and now < int(res["au_nbf"]) - not_before_leeway:
        return "not_yet_valid", link
    if not isinstance(method, str) or method not in res["au_m"].split(","):
        return "method_not_allowed", link
    request_host = link.authority if link.authority is not None else host
    if "au_h" in res and not host_matches(res["au_h"], request_host):
        return "resource_mismatch", link
    if "au_pfx" in res and not under_prefix(link.path, res["au_pfx"]):
        return "resource_mismatch", link
    if "au_ip" in res and not client_in_network(client_ip, parse_cidr(res["au_ip"])):
        return "ip_mismatch", link
    return "ok", link


def check_link_detail(url: str, host: Optional[str], method: str, client_ip: Optional[str],
                      keys, now: int,
                      not_before_leeway: int = DEFAULT_LEEWAY) -> tuple[str, Optional[Link]]:
    """check_link, also returning the parsed link (None when malformed)."""
    ring = normalise_keys(keys)

    def resolve(epoch: int):
        key = ring.get(epoch)
        return None if key is None else (key.public_key, key.retired)

    return check_steps(url, host, method, client_ip, resolve, now, not_before_leeway)


def check_link(url: str, host: Optional[str], method: str, client_ip: Optional[str], keys,
               now: int, not_before_leeway: int = DEFAULT_LEEWAY) -> str:
    """The reason of docs/link-format.md section 6, steps 1-7 (`ok` or a refusal).

    `url`: the request target (absolute http(s) URL or origin form); `host`: the forwarded Host
    for an origin-form target (an absolute URL's own authority wins); `keys`: a JWK set, or a
    mapping epoch -> Key / Ed25519PublicKey / 32 raw bytes; `now`: Unix seconds."""
    return check_link_detail(url, host, method, client_ip, keys, now, not_before_leeway)[0]
