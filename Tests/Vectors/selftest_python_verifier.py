#!/usr/bin/env python3
"""Self-test of verify_vectors.py against a mini-issuer written from docs/link-format.md.

Issues links with the spec's example key (seed 00..1f, epoch 7), checks the verifier's reason
codes, checks the worked example's signed message against spec section 8, and runs the vectors
driver over a small generated vectors file. Run: python3 selftest_python_verifier.py
"""
from __future__ import annotations

import base64
import contextlib
import io
import json
import os
import sys
import tempfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import verify_vectors as vv  # noqa: E402

SEED = bytes(range(32))
EPOCH = 7
PRIVATE = Ed25519PrivateKey.from_private_bytes(SEED)
PUBLIC = PRIVATE.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
KEYS = {EPOCH: PUBLIC}
ID = bytes(range(16))
IAT = 1790000000

# Spec section 8, verbatim.
SPEC_MESSAGE = """authority-link-v1
epoch=7
id=AAECAwQFBgcICQoLDA0ODw
issued_at=1790000000
not_before=
expires_at=1790000900
methods=GET,HEAD
scope=exact
host=
ip=
flags=
path=/files/report%202026.pdf
query=download=1
"""


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def pct(text: str) -> str:
    """Issuer-side encoding: unreserved ASCII as is, every other UTF-8 byte as %XX."""
    ok = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    return "".join(chr(b) if chr(b) in ok else "%%%02X" % b for b in text.encode())


def issue(origin, path, params=(), *, iat=IAT, ttl=900, methods="GET,HEAD", nbf=None,
          prefix=False, host=None, ip=None, flags=None, origins=None, ident=ID):
    """Mini-issuer (spec section 7). `path` is the raw resource path (unencoded); `params` the
    application's (name, value) pairs; `origins` the au_o text, taken as is. Returns (url,
    signed message)."""
    cpath = "/".join(pct(seg) for seg in path.split("/"))
    cquery = "&".join(pct(n) + "=" + pct(v) for n, v in params)
    reserved = [("au_v", "1"), ("au_k", str(EPOCH)), ("au_id", b64(ident)),
                ("au_iat", str(iat)), ("au_nbf", None if nbf is None else str(nbf)),
                ("au_exp", str(iat + ttl)), ("au_m", methods),
                ("au_pfx", cpath if prefix else None), ("au_h", host), ("au_ip", ip),
                ("au_f", flags), ("au_o", origins)]
    r = {k: v for k, v in reserved if v is not None}
    message = "".join(line + "\n" for line in [
        "authority-link-v1", "epoch=" + r["au_k"], "id=" + r["au_id"],
        "issued_at=" + r["au_iat"], "not_before=" + r.get("au_nbf", ""),
        "expires_at=" + r["au_exp"], "methods=" + r["au_m"],
        "scope=" + ("prefix" if prefix else "exact"), "host=" + r.get("au_h", ""),
        "ip=" + r.get("au_ip", ""), "flags=" + r.get("au_f", ""),
        "path=" + cpath, "query=" + ("" if prefix else cquery)]
        + ([] if origins is None else ["origins=" + origins])).encode()
    sig = b64(PRIVATE.sign(message))
    query = "&".join(([cquery] if cquery else []) + [f"{k}={v}" for k, v in r.items()]
                     + ["au_sig=" + sig])
    return origin + cpath + "?" + query, message


failures = 0


def expect(label, got, want):
    global failures
    if got == want:
        print(f"ok   {label}")
    else:
        failures += 1
        print(f"FAIL {label}: got {got!r}, want {want!r}")


def reason(url, method="GET", now=IAT, host=None, ip=None, keys=KEYS):
    return vv.check(url, method, host, ip, now, keys)[0]


# --- the worked example (spec section 8) ---------------------------------------------------
expect("public key", b64(PUBLIC), "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg")
EXACT, msg = issue("https://cdn.example.com", "/files/report 2026.pdf", [("download", "1")])
print("-- signed message of the exact example --")
print(msg.decode(), end="")
print("-- link --\n" + EXACT)
expect("issuer message == spec section 8", msg.decode(), SPEC_MESSAGE)
_, link = vv.check(EXACT, "GET", None, None, IAT, KEYS)
expect("verifier rebuilds spec section 8 message", link.message.decode(), SPEC_MESSAGE)

# --- canonical path / query examples of sections 3 and 4 -----------------------------------
for raw, want in [("/a+b", "/a%2Bb"), ("/a%2bb", "/a%2Bb"), ("/caf%c3%a9", "/caf%C3%A9"),
                  ("/café", "/caf%C3%A9"), ("/%7Euser", "/~user"), ("/a(1)", "/a%281%29"),
                  ("/dir/", "/dir/"), ("/", "/")]:
    expect(f"canonical_path {raw}", vv.canonical_path(raw.encode()), want)
for raw in ["/a//b", "/a/%2e%2E/b", "/a%2Fb", "/a\\b", "/a%5cb", "/a%zz", "/a%00", "/%ff", "a"]:
    try:
        vv.canonical_path(raw.encode())
        expect(f"canonical_path {raw} rejected", "accepted", "Malformed")
    except vv.Malformed:
        expect(f"canonical_path {raw} rejected", "Malformed", "Malformed")
for raw in ["q=a+b", "q=a%20b"]:
    expect(f"query {raw}", vv.parse_query(raw.encode() + b"&au_v=1")[1], [(b"q", b"a b")])

# --- exact link ----------------------------------------------------------------------------
expect("exact ok", reason(EXACT), "ok")
expect("exact HEAD ok", reason(EXACT, "HEAD"), "ok")
expect("exact over http ok", reason("http" + EXACT[5:]), "ok")
expect("exact origin-form ok", reason(EXACT[len("https://cdn.example.com"):]), "ok")
expect("exact PUT", reason(EXACT, "PUT"), "method_not_allowed")
expect("exact at exp", reason(EXACT, now=IAT + 900), "expired")
expect("exact at exp-1", reason(EXACT, now=IAT + 899), "ok")
expect("unknown epoch", reason(EXACT, keys={8: PUBLIC}), "unknown_key")
head, sig = EXACT.rsplit("au_sig=", 1)
tampered = head + "au_sig=" + ("B" if sig[0] == "A" else "A") + sig[1:]
expect("tampered signature", reason(tampered), "bad_signature")
expect("changed query", reason(EXACT.replace("download=1", "download=2")), "bad_signature")
expect("equivalent path spelling", reason(EXACT.replace("/report", "/%72eport")), "ok")
expect("dot segment", reason(EXACT.replace("/files/", "/files/./")), "malformed")
expect("encoded dot segment", reason(EXACT.replace("/files/", "/files/%2e%2E/")), "malformed")
expect("duplicate au_k", reason(EXACT.replace("&au_k=7", "&au_k=7&au_k=7")), "malformed")
noncanon_id = EXACT.replace("au_id=AAECAwQFBgcICQoLDA0ODw", "au_id=AAECAwQFBgcICQoLDA0ODx")
expect("non-canonical base64 id", reason(noncanon_id), "malformed")
expect("encoded reserved name", reason(EXACT.replace("&au_k=", "&au%5Fk=")), "malformed")
expect("unknown au_ name", reason(EXACT + "&au_x=1"), "malformed")
expect("fragment", reason(EXACT + "#x"), "malformed")
expect("userinfo", reason(EXACT.replace("https://", "https://u@")), "malformed")
expect("empty piece", reason(EXACT.replace("?", "?&")), "malformed")
expect("methods out of order", reason(EXACT.replace("GET,HEAD", "HEAD,GET")), "malformed")

# --- not before ----------------------------------------------------------------------------
NBF, _ = issue("https://cdn.example.com", "/f", nbf=IAT + 100)
expect("nbf within leeway", reason(NBF, now=IAT + 70), "ok")
expect("nbf too early", reason(NBF, now=IAT + 69), "not_yet_valid")

# --- prefix link ---------------------------------------------------------------------------
PFX, _ = issue("https://cdn.example.com", "/videos/abc/", prefix=True, methods="GET")
base = PFX.split("?", 1)
seg = base[0] + "seg1.ts?x=1&" + base[1]
expect("prefix covers child", reason(seg), "ok")
expect("prefix itself", reason(PFX), "ok")
outside = seg.replace("/videos/abc/", "/videos/abcd/", 1)   # request path only, not au_pfx
expect("prefix outside", reason(outside), "resource_mismatch")
expect("prefix bad app param", reason(seg.replace("x=1", "x=%zz")), "malformed")
PFX2, _ = issue("https://cdn.example.com", "/videos/abc", prefix=True)
expect("prefix w/o slash, child", reason(PFX2.replace("/videos/abc?", "/videos/abc/s.ts?")), "ok")
expect("prefix w/o slash, sibling", reason(PFX2.replace("/videos/abc?", "/videos/abcd?")),
       "resource_mismatch")

# --- the flag c (section 1) -----------------------------------------------------------------
for flags in ["c", "uc", "pc", "upc"]:
    FL, _ = issue("https://cdn.example.com", "/videos/abc/", prefix=True, flags=flags)
    expect(f"prefix flag {flags} ok", reason(FL), "ok")   # offline: u/p are the daemon's
for flags in ["cu", "cc", "pu", "cp", "C"]:
    FL, _ = issue("https://cdn.example.com", "/videos/abc/", prefix=True, flags=flags)
    expect(f"prefix flag {flags} malformed", reason(FL), "malformed")
for flags in ["c", "uc", "pc", "upc"]:
    FL, _ = issue("https://cdn.example.com", "/f", flags=flags)
    expect(f"exact flag {flags} malformed", reason(FL), "malformed")


# --- path-carried tokens (section 11) ------------------------------------------------------
def path_form(url, rest=None, query=None, token=None):
    """The link `url` with its reserved pieces moved into a /~au/<token> path segment."""
    head, _, q = url.partition("?")
    cut = head.index("/", len("https://")) if head.startswith("https://") else 0
    pieces = q.split("&")
    if token is None:
        token = b64("&".join(p for p in pieces if p.startswith("au_")).encode())
    app = "&".join(p for p in pieces if not p.startswith("au_")) if query is None else query
    return (head[:cut] + "/~au/" + token + (head[cut:] if rest is None else rest)
            + ("?" + app if app else ""))


TOK = path_form(PFX, rest="/videos/abc/seg1.ts")
expect("path token ok", reason(TOK), "ok")
expect("path token signs the query form's message",
       vv.check(TOK, "GET", None, None, IAT, KEYS)[1].message,
       vv.check(PFX, "GET", None, None, IAT, KEYS)[1].message)
expect("path token request path", vv.parse_link(TOK).path, "/videos/abc/seg1.ts")
expect("path token origin form", reason(TOK[len("https://cdn.example.com"):]), "ok")
expect("path token app query", reason(TOK + "?x=1&y"), "ok")
expect("path token outside", reason(path_form(PFX, rest="/videos/abcd/x")), "resource_mismatch")
expect("path token reserved in query", reason(TOK + "?au_v=1"), "malformed")
expect("path token unknown au_ in query", reason(TOK + "?x=1&au_zz=1"), "malformed")
expect("path token of exact link", reason(path_form(EXACT)), "malformed")
TOKEN = TOK.split("/")[4]
for name in ["/videos/t1/", "/videos/t12/"]:   # one of the two leaves unused low bits
    NC = path_form(issue("https://cdn.example.com", name, prefix=True)[0])
    nc_token = NC.split("/")[4]
    if len(nc_token) % 4:
        break
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
sloppy = nc_token[:-1] + B64[B64.index(nc_token[-1]) | 1]
expect("path token with unused bits ok", reason(NC), "ok")
expect("path token non-canonical", reason(NC.replace(nc_token, sloppy)), "malformed")
expect("path token padded", reason(TOK.replace(TOKEN, TOKEN + "=")), "malformed")
expect("path token without /", reason("https://cdn.example.com/~au/" + TOKEN), "malformed")
expect("path token empty", reason("https://cdn.example.com/~au//videos/abc/x"), "malformed")
reserved_text = base64.urlsafe_b64decode(TOKEN + "=" * (-len(TOKEN) % 4)).decode()
expect("path token non-au piece",
       reason(path_form(PFX, token=b64(("x=1&" + reserved_text).encode()))), "malformed")
expect("path token %7E is no token", reason(TOK.replace("/~au/", "/%7Eau/")), "malformed")
too_long = b64(("au_zz=" + "a" * 3100).encode())   # > 4096 characters
expect("path token too long", reason(path_form(PFX, token=too_long)), "malformed")

# --- origins (au_o: sections 1, 4 and 13) -------------------------------------------------
ORIG, omsg = issue("https://cdn.example.com", "/f", origins="https://app.example")
expect("origins one ok", reason(ORIG), "ok")
expect("origins fourteenth line", omsg.decode().split("\n")[-3:],
       ["query=", "origins=https://app.example", ""])
expect("origins parsed", vv.parse_link(ORIG).origins, ["https://app.example"])
expect("no origins parsed", vv.parse_link(EXACT).origins, None)
expect("no origins: thirteen lines", vv.parse_link(EXACT).message.count(b"\n"), 13)
SEVERAL = ["http://127.0.0.1:8080", "http://[2001:db8::1]:8443", "http://localhost:3000",
           "https://a.example", "https://app.example", "https://app.example:8443",
           "https://player.example.com", "https://xn--caf-dma.example"]
ORIG8, _ = issue("https://cdn.example.com", "/v/", prefix=True, origins=",".join(SEVERAL))
expect("origins eight ok", reason(ORIG8), "ok")
expect("origins eight parsed", vv.parse_link(ORIG8).origins, SEVERAL)
expect("origins in a path token", reason(path_form(ORIG8, rest="/v/a.ts")), "ok")
expect("origins path token message", vv.parse_link(path_form(ORIG8, rest="/v/a.ts")).message,
       vv.parse_link(ORIG8).message)
expect("origins first in the query",
       reason(ORIG.replace("&au_o=https://app.example", "").replace("?", "?au_o=https://app.example&")),
       "ok")
for bad in ["https://b.example,https://a.example", "https://a.example,https://a.example",
            ",".join(SEVERAL + ["https://z.example"]), "https://app.example/",
            "https://app.example/x", "https://APP.example", "HTTPS://app.example",
            "ftp://app.example", "https://a.example,,https://b.example", "https://a.example,", "",
            "https://app.example:0", "https://app.example:080", "https://app.example:65536",
            "https://café.example", "https://caf%C3%A9.example", "https://", "app.example",
            "https://[2001:DB8::1]", "https://1.2.3"]:
        BADO, _ = issue("https://cdn.example.com", "/v/", prefix=True, origins=bad)
        expect(f"origins {bad!r} malformed", reason(BADO), "malformed")
        expect(f"origins {bad!r} malformed in a path token", reason(path_form(BADO)), "malformed")
expect("origins twice", reason(ORIG.replace("&au_sig", "&au_o=https://app.example&au_sig")),
       "malformed")
expect("origins changed", reason(ORIG.replace("app.example", "evil.example")), "bad_signature")
expect("origins dropped", reason(ORIG.replace("&au_o=https://app.example", "")), "bad_signature")
expect("origins added", reason(EXACT.replace("&au_sig", "&au_o=https://app.example&au_sig")),
       "bad_signature")
expect("origins do not change a refusal", reason(ORIG, "PUT"), "method_not_allowed")

# --- IP-bound and host-bound links ---------------------------------------------------------
IP4, _ = issue("https://cdn.example.com", "/f", ip="192.0.2.0/24")
expect("ip inside", reason(IP4, ip="192.0.2.7"), "ok")
expect("ip mapped inside", reason(IP4, ip="::ffff:192.0.2.7"), "ok")
expect("ip outside", reason(IP4, ip="198.51.100.1"), "ip_mismatch")
expect("ip missing", reason(IP4), "ip_mismatch")
expect("ip bits set", reason(IP4.replace("192.0.2.0/24", "192.0.2.7/24")), "malformed")
IP6, _ = issue("https://cdn.example.com", "/f", ip="2001:db8::/32")
expect("ip6 inside", reason(IP6, ip="2001:DB8:0::1"), "ok")
expect("ip6 vs v4 client", reason(IP6, ip="192.0.2.7"), "ip_mismatch")
BAD6, _ = issue("https://cdn.example.com", "/f", ip="::ffff:192.0.2.0/120")
expect("embedded IPv4 in au_ip", reason(BAD6), "malformed")
HOST, _ = issue("", "/f", host="cdn.example.com")
expect("host ok, port ignored", reason(HOST, host="CDN.Example.com:8443"), "ok")
expect("host other", reason(HOST, host="evil.example.com"), "resource_mismatch")
expect("host missing", reason(HOST), "resource_mismatch")
HOSTP, _ = issue("https://cdn.example.com:8443", "/f", host="cdn.example.com:8443")
expect("host:port ok", reason(HOSTP), "ok")
expect("host:port other port", reason(HOSTP.replace(":8443/", ":9443/")), "resource_mismatch")

# --- the vectors driver on a generated file ------------------------------------------------
def vector(name, url, want, now=IAT, method="GET", host=None, ip=None):
    _, link = vv.check(url, method, host, ip, now, KEYS)
    entry = {"name": name, "public_key": b64(PUBLIC), "epoch": EPOCH, "now": now,
             "not_before_leeway": 30, "url": url, "host": host, "method": method,
             "client_ip": ip, "valid": want == "ok", "reason": want}
    if link is not None:   # for the worked example, the issuer's own message
        entry["signed_message"] = b64(msg if url == EXACT else link.message)
        entry["signature"] = b64(link.signature)
    return entry


def run_driver(entries_or_text):
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        is_text = isinstance(entries_or_text, str)
        f.write(entries_or_text if is_text else json.dumps(entries_or_text))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
        code = vv.main(["verify_vectors.py", f.name])
    os.unlink(f.name)
    return code, out.getvalue().strip().splitlines()[-1]


good = [vector("exact-basic", EXACT, "ok"), vector("expired", EXACT, "expired", now=IAT + 900),
        vector("tampered", tampered, "bad_signature"),
        vector("noncanonical-id", noncanon_id, "malformed"),
        vector("ip", IP4, "ip_mismatch", ip="198.51.100.1"), vector("path-token", TOK, "ok"),
        vector("origins", ORIG, "ok")]
expect("driver on good vectors", run_driver(good), (0, "7 passed, 0 failed"))
bad = good + [dict(good[0], name="wrong-reason", reason="expired", valid=False)]
expect("driver counts a failure", run_driver(bad), (1, "7 passed, 1 failed"))
thirteen = dict(good[-1], name="origins-13-lines", signed_message=b64(
    vv.parse_link(ORIG).message.replace(b"origins=https://app.example\n", b"")))
expect("driver catches a missing fourteenth line", run_driver([thirteen]), (1, "0 passed, 1 failed"))
expect("driver on empty array", run_driver([]), (1, "0 passed, 0 failed"))
expect("driver on non-array", run_driver("{}")[0], 2)
with contextlib.redirect_stderr(io.StringIO()):
    expect("driver on missing file", vv.main(["x", "/nonexistent/link-v1.json"]), 2)

print(f"\nselftest: {failures} failure(s)")
sys.exit(1 if failures else 0)
