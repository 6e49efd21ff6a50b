"""Shared by the tests: the import path, the vectors' location, and a small issuer of links and
bundle objects written from the specification (its own encoder, independent of the package's),
so tests can build well-formed, tampered and malformed objects with keys they generate."""
from __future__ import annotations

import base64
import hashlib
import json
import re
import struct
import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
PACKAGE_ROOT = TESTS_DIR.parent                # clients/python
REPO_ROOT = TESTS_DIR.parents[2]               # tests -> python -> clients -> the repository
VECTORS_DIR = REPO_ROOT / "Tests" / "Vectors"
LINK_VECTORS = VECTORS_DIR / "link-v1.json"
BUNDLE_VECTORS = VECTORS_DIR / "bundle-v1.json"

if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

STANDING = 2**63 - 1
STATES = {"active": 1, "verify_only": 2, "retired": 3}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_json(path: Path):
    with open(path, "rb") as f:
        return json.loads(f.read())


class Signer:
    """An epoch's key pair from a fixed seed: 32 bytes, or one byte repeated 32 times."""

    def __init__(self, epoch: int, seed_byte: int | bytes):
        self.epoch = epoch
        seed = bytes([seed_byte]) * 32 if isinstance(seed_byte, int) else seed_byte
        self.private = Ed25519PrivateKey.from_private_bytes(seed)
        self.public = self.private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

    def sign(self, message: bytes) -> bytes:
        return self.private.sign(message)

    def jwk(self, status: str = "active") -> dict:
        return {"kty": "OKP", "crv": "Ed25519", "alg": "EdDSA", "use": "sig",
                "kid": str(self.epoch), "x": b64(self.public), "status": status}


def jwks(*entries) -> dict:
    """jwks((signer, status), ...)"""
    return {"keys": [signer.jwk(status) for signer, status in entries]}


# ---- Links (docs/link-format.md section 4) ---------------------------------------------------

def link(signer: Signer, path: str, link_id: bytes, iat: int, exp: int, methods: str = "GET,HEAD",
         host: str = "cdn.example.com", prefix: str | None = None, flags: str | None = None,
         epoch: int | None = None, origins: str | None = None, query: str = "") -> str:
    """An exact (or, with `prefix`, prefix) link for a canonical `path`; `query` is the
    canonical application query, `origins` the verbatim au_o (a fourteenth signed line)."""
    epoch = signer.epoch if epoch is None else epoch
    lines = ["authority-link-v1", f"epoch={epoch}", f"id={b64(link_id)}", f"issued_at={iat}",
             "not_before=", f"expires_at={exp}", f"methods={methods}",
             "scope=" + ("prefix" if prefix else "exact"), "host=", "ip=",
             "flags=" + (flags or ""), "path=" + (prefix or path),
             "query=" + ("" if prefix else query)]
    if origins is not None:
        lines.append("origins=" + origins)
    # UTF-8, not ASCII: tests sign malformed (non-ASCII) origins too
    signature = signer.sign("".join(line + "\n" for line in lines).encode("utf-8"))
    reserved = (f"au_v=1&au_k={epoch}&au_id={b64(link_id)}&au_iat={iat}&au_exp={exp}&au_m={methods}"
                + (f"&au_pfx={prefix}" if prefix else "") + (f"&au_f={flags}" if flags else "")
                + (f"&au_o={origins}" if origins is not None else "")
                + f"&au_sig={b64(signature)}")
    return f"https://{host}{path}?" + (query + "&" if query else "") + reserved


def path_token(url: str, path: str | None = None, query: str | None = None) -> str:
    """The same link as a path-carried token (docs/link-format.md section 11): the reserved
    pieces of its query, in their order, as base64url before the request path (`path`, else the
    link's own); `query` (else the link's application pieces) stays the target's query."""
    target = re.fullmatch(r"((?:https?://[^/?]*)?)([^?]*)\?(.*)", url, re.DOTALL)
    origin, own_path, own_query = target.groups()
    pieces = own_query.split("&")
    token = b64("&".join(p for p in pieces if p.startswith("au_")).encode())
    app = "&".join(p for p in pieces if not p.startswith("au_")) if query is None else query
    return f"{origin}/~au/{token}{own_path if path is None else path}" + (f"?{app}" if app else "")


# ---- Bundle objects (docs/revocation-bundle.md sections 1-5) ---------------------------------

def u32(n: int) -> bytes:
    return struct.pack(">I", n)


def epochs_bytes(epochs) -> bytes:
    """epochs: [(epoch, "active" | "verify_only" | "retired" | raw state int)], as given."""
    out = u32(len(epochs))
    for epoch, state in epochs:
        out += struct.pack(">QB", epoch, STATES.get(state, state) if isinstance(state, str) else state)
    return out


def prefix_bytes(prefix) -> bytes:
    raw = prefix.encode() if isinstance(prefix, str) else prefix
    return struct.pack(">H", len(raw)) + raw


def rules_bytes(rules) -> bytes:
    """rules: [(prefix, cutoff)], as given (cutoff STANDING for a standing block)."""
    return u32(len(rules)) + b"".join(prefix_bytes(p) + struct.pack(">q", c) for p, c in rules)


def ids_bytes(ids) -> bytes:
    return u32(len(ids)) + b"".join(ids)


def content(epochs, rules, ids) -> bytes:
    """Section 3, written in the order given (so tests can write unsorted lists)."""
    return epochs_bytes(epochs) + rules_bytes(rules) + ids_bytes(ids)


def canonical_content(epochs, rules, ids) -> bytes:
    """The content with every list sorted as section 3 requires."""
    return content(sorted(epochs), sorted(rules, key=lambda r: r[0].encode()), sorted(ids))


def statement(epoch: int, serial: int, iat: int, not_after: int, digest: bytes) -> bytes:
    return (f"authority-bundle-v1\nepoch={epoch}\nserial={serial}\nissued_at={iat}\n"
            f"not_after={not_after}\ndigest={b64(digest)}\n").encode("ascii")


def binary(kind: int, signer: Signer, serial: int, iat: int, not_after: int, digest: bytes,
           body: bytes = b"", epoch: int | None = None, signature: bytes | None = None) -> bytes:
    epoch = signer.epoch if epoch is None else epoch
    if signature is None:
        signature = signer.sign(statement(epoch, serial, iat, not_after, digest))
    return (b"AUBUNDL1" + bytes([kind]) + struct.pack(">QQqq", epoch, serial, iat, not_after)
            + digest + signature + body)


def full(signer: Signer, serial: int, iat: int, not_after: int, epochs, rules=(), ids=(),
         digest: bytes | None = None, raw_content: bytes | None = None) -> bytes:
    body = raw_content if raw_content is not None else content(list(epochs), list(rules), list(ids))
    return binary(1, signer, serial, iat, not_after,
                  hashlib.sha256(body).digest() if digest is None else digest, body)


def delta(signer: Signer, serial: int, iat: int, not_after: int, base: int, epochs,
          removed_rules=(), set_rules=(), removed_ids=(), added_ids=(), *, digest: bytes) -> bytes:
    body = (struct.pack(">Q", base) + epochs_bytes(list(epochs))
            + u32(len(removed_rules)) + b"".join(prefix_bytes(p) for p in removed_rules)
            + rules_bytes(list(set_rules)) + ids_bytes(list(removed_ids))
            + ids_bytes(list(added_ids)))
    return binary(2, signer, serial, iat, not_after, digest, body)


def freshness(signer: Signer, serial: int, iat: int, not_after: int, digest: bytes,
              epoch: int | None = None) -> bytes:
    return binary(3, signer, serial, iat, not_after, digest, epoch=epoch)


def json_twin(data: bytes) -> dict:
    """The JSON twin of a well-formed binary object (section 2.2), written from the bytes."""
    kind, epoch, serial, iat, not_after = struct.unpack_from(">BQQqq", data, 8)
    out = {"format": "authority-bundle-v1", "kind": {1: "full", 2: "delta", 3: "freshness"}[kind],
           "epoch": epoch, "serial": serial, "issued_at": iat, "not_after": not_after,
           "digest": b64(data[41:73]), "signature": b64(data[73:137])}
    pos = 137
    names = {1: "active", 2: "verify_only", 3: "retired"}

    def take(n):
        nonlocal pos
        pos += n
        return data[pos - n:pos]

    def count():
        return struct.unpack(">I", take(4))[0]

    def epochs():
        return [{"epoch": e, "state": names[s]}
                for e, s in (struct.unpack(">QB", take(9)) for _ in range(count()))]

    def prefix():
        return take(struct.unpack(">H", take(2))[0]).decode()

    def rules():
        out_rules = []
        for _ in range(count()):
            p = prefix()
            c = struct.unpack(">q", take(8))[0]
            out_rules.append({"prefix": p, "issued_before": None if c == STANDING else c})
        return out_rules

    def ids():
        return [b64(take(16)) for _ in range(count())]

    if kind == 1:
        out.update(epochs=epochs(), rules=rules(), ids=ids())
    elif kind == 2:
        out["base_serial"] = struct.unpack(">Q", take(8))[0]
        out["epochs"] = epochs()
        out["removed_rules"] = [prefix() for _ in range(count())]
        out["set_rules"] = rules()
        out["removed_ids"] = ids()
        out["added_ids"] = ids()
    assert pos == len(data), "json_twin: trailing bytes"
    return out


def resign_json(twin: dict, signer: Signer) -> dict:
    """Signs a JSON twin's statement again (after a test changed its numbers)."""
    digest = unb64(twin["digest"])
    twin = dict(twin)
    twin["signature"] = b64(signer.sign(statement(twin["epoch"], twin["serial"],
                                                  twin["issued_at"], twin["not_after"], digest)))
    return twin


def answer(verifier, obj, now):
    """What accepting `obj` answers: "ok"/"newer", or the refusal's code."""
    from authority_edge import BundleRefused
    try:
        return verifier.accept(obj, now)
    except BundleRefused as refused:
        return refused.code


def state(verifier):
    """The held state as comparable values (None when nothing is held)."""
    held = verifier.held
    return None if held is None else (held.serial, held.digest, held.not_after,
                                      bytes(held.content.encoded()))
