"""The revocation bundle (docs/revocation-bundle.md): reading its binary and JSON forms,
accepting full bundles, deltas and freshness objects (section 6), and checking a link with the
state held (section 7)."""
from __future__ import annotations

import bisect
import hashlib
import json
import struct
from dataclasses import dataclass
from typing import Mapping, Optional, Union

from cryptography.exceptions import InvalidSignature

from .link import (DEFAULT_LEEWAY, Key, Link, Malformed, b64url_canonical, b64url_encode,
                   canonical_path, check_steps, load_jwks, normalise_keys)

CONTEXT = "authority-bundle-v1"
MAGIC = b"AUBUNDL1"
HEADER_SIZE = 137
ID_SIZE = 16
MAX_PREFIX_BYTES = 4096
INT63_MAX = 2**63 - 1
STANDING_BLOCK = INT63_MAX          # the cutoff of a standing prefix block (section 3)
JSON_INT_MAX = 2**53 - 1            # section 2.2: JSON integers are within +-(2^53 - 1)

KIND_FULL, KIND_DELTA, KIND_FRESHNESS = 1, 2, 3
KIND_NAMES = {KIND_FULL: "full", KIND_DELTA: "delta", KIND_FRESHNESS: "freshness"}
ACTIVE, VERIFY_ONLY, RETIRED = 1, 2, 3
STATE_NAMES = {ACTIVE: "active", VERIFY_ONLY: "verify_only", RETIRED: "retired"}
STATE_BYTES = {name: byte for byte, name in STATE_NAMES.items()}

_HEADER = struct.Struct(">8sBQQqq32s64s")
_U16, _U32, _U64, _I64 = struct.Struct(">H"), struct.Struct(">I"), struct.Struct(">Q"), struct.Struct(">q")
_EPOCH = struct.Struct(">QB")


class BundleRefused(Exception):
    """An object refused by accept(): `code` is one of section 6 (`bad_format`, `unknown_key`,
    `bad_signature`, `inactive_signer`, `rolled_back`, `base_mismatch`, `digest_mismatch`,
    `stale`), `message` says why."""

    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def _bad(message: str) -> BundleRefused:
    return BundleRefused("bad_format", message)


# ---- Section 1: the statement ----------------------------------------------------------------

@dataclass(frozen=True)
class Statement:
    epoch: int
    serial: int
    issued_at: int
    not_after: int
    digest: bytes   # 32 bytes

    def message(self) -> bytes:
        """The six signed lines."""
        return (f"{CONTEXT}\nepoch={self.epoch}\nserial={self.serial}\n"
                f"issued_at={self.issued_at}\nnot_after={self.not_after}\n"
                f"digest={b64url_encode(self.digest)}\n").encode("ascii")


# ---- Section 3: the content, read in place ---------------------------------------------------

class _IdView:
    """The sorted 16-byte ids of a content as a sequence of bytes, for bisect: item i is the 16
    bytes at `start + 16 i` of the buffer as it arrived (no list of ids is ever built)."""
    __slots__ = ("data", "start", "count")

    def __init__(self, data: bytes, start: int, count: int):
        self.data, self.start, self.count = data, start, count

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> bytes:
        if not 0 <= index < self.count:
            raise IndexError(index)
        offset = self.start + ID_SIZE * index
        return self.data[offset:offset + ID_SIZE]


class Content:
    """A state's content (section 3): the encoded bytes `data[start:end]` (what the digest is
    of), the epoch list (epoch -> state byte), the rules (prefix -> cutoff, sorted) and the ids,
    looked up by binary search over the bytes."""
    __slots__ = ("data", "start", "end", "epochs", "rules", "ids")

    def __init__(self, data: bytes, start: int, end: int, epochs: dict[int, int],
                 rules: dict[str, int], ids_start: int, ids_count: int):
        self.data, self.start, self.end = data, start, end
        self.epochs = epochs
        self.rules = rules
        self.ids = _IdView(data, ids_start, ids_count)

    def encoded(self) -> memoryview:
        return memoryview(self.data)[self.start:self.end]

    def digest(self) -> bytes:
        return hashlib.sha256(self.encoded()).digest()

    def has_id(self, link_id: bytes) -> bool:
        """About log2(N) comparisons of 16 bytes."""
        index = bisect.bisect_left(self.ids, link_id)
        return index < len(self.ids) and self.ids[index] == link_id

    def ids_blob(self) -> memoryview:
        start = self.ids.start
        return memoryview(self.data)[start:start + ID_SIZE * self.ids.count]

    def revokes(self, path: str, issued_at: int) -> bool:
        """A rule whose prefix covers the canonical `path` (docs/link-format.md section 6,
        "Prefix match") and whose cutoff is above `issued_at`. The prefixes that can cover a
        path are the path itself and its beginnings that end just before or just after a `/`,
        so this looks up at most 2 x 128 + 1 names whatever the number of rules."""
        rules = self.rules
        if not rules:
            return False

        def hit(prefix: str) -> bool:
            cutoff = rules.get(prefix)
            return cutoff is not None and issued_at < cutoff

        if hit(path):
            return True
        slash = path.find("/")
        while slash != -1:
            if hit(path[:slash + 1]) or (slash > 0 and hit(path[:slash])):
                return True
            slash = path.find("/", slash + 1)
        return False


def encode_content(epochs: Mapping[int, int], rules: Mapping[str, int],
                   ids_blob: Union[bytes, memoryview], ids_count: int) -> Content:
    """Writes a content (section 3) from checked, sorted parts; the result reads in place."""
    out = bytearray(_U32.pack(len(epochs)))
    for epoch, state in epochs.items():
        out += _EPOCH.pack(epoch, state)
    out += _U32.pack(len(rules))
    for prefix, cutoff in rules.items():
        raw = prefix.encode("ascii")          # a canonical path is ASCII
        out += _U16.pack(len(raw)) + raw + _I64.pack(cutoff)
    out += _U32.pack(ids_count)
    ids_start = len(out)
    out += ids_blob
    data = bytes(out)
    return Content(data, 0, len(data), dict(epochs), dict(rules), ids_start, ids_count)


# ---- Objects ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Changes:
    """A delta's body (section 4)."""
    base_serial: int
    epochs: dict            # epoch -> state byte, the new state's complete list
    removed_rules: tuple    # prefixes
    set_rules: tuple        # (prefix, cutoff)
    removed_ids: tuple      # 16-byte ids
    added_ids: tuple

    def applied_to(self, base: Content) -> Content:
        """Step 3 of section 4: the content after the changes."""
        rules = dict(base.rules)
        for prefix in self.removed_rules:
            rules.pop(prefix, None)
        for prefix, cutoff in self.set_rules:
            rules[prefix] = cutoff
        rules = {p: rules[p] for p in sorted(rules, key=lambda p: p.encode("ascii"))}
        if not self.removed_ids and not self.added_ids:
            return encode_content(self.epochs, rules, base.ids_blob(), len(base.ids))
        ids = set(base.ids[i] for i in range(len(base.ids)))
        ids.difference_update(self.removed_ids)
        ids.update(self.added_ids)
        return encode_content(self.epochs, rules, b"".join(sorted(ids)), len(ids))


@dataclass(frozen=True)
class BundleObject:
    """One object of the format, read (section 2) but not yet checked against keys or state."""
    kind: str                     # "full", "delta" or "freshness"
    statement: Statement
    signature: bytes
    content: Optional[Content] = None     # full bundle
    changes: Optional[Changes] = None     # delta

    @property
    def epochs(self) -> Optional[dict]:
        """The epoch list the object brings (None for freshness)."""
        if self.content is not None:
            return self.content.epochs
        if self.changes is not None:
            return self.changes.epochs
        return None


# ---- Section 2.1: the binary form ------------------------------------------------------------

class _Reader:
    __slots__ = ("data", "pos")

    def __init__(self, data: bytes, pos: int):
        self.data, self.pos = data, pos

    @property
    def remaining(self) -> int:
        return len(self.data) - self.pos

    def _need(self, size: int) -> int:
        if size > self.remaining:
            raise _bad(f"truncated at byte {self.pos}")
        start = self.pos
        self.pos += size
        return start

    def take(self, size: int) -> bytes:
        start = self._need(size)
        return self.data[start:start + size]

    def u8(self) -> int:
        return self.data[self._need(1)]

    def u16(self) -> int:
        return _U16.unpack_from(self.data, self._need(2))[0]

    def u64(self) -> int:
        return _U64.unpack_from(self.data, self._need(8))[0]

    def i64(self) -> int:
        return _I64.unpack_from(self.data, self._need(8))[0]

    def count(self, minimum_size: int) -> int:
        """A count whose items of at least `minimum_size` bytes each fit in what is left."""
        count = _U32.unpack_from(self.data, self._need(4))[0]
        if count * minimum_size > self.remaining:
            raise _bad(f"a count of {count} is longer than the object")
        return count

    def epochs(self) -> dict[int, int]:
        epochs: dict[int, int] = {}
        last = 0
        for _ in range(self.count(9)):
            epoch, state = self.u64(), self.u8()
            if not 1 <= epoch <= INT63_MAX:
                raise _bad(f"epoch {epoch} out of range")
            if state not in STATE_NAMES:
                raise _bad(f"epoch {epoch} has state {state}")
            if epoch <= last:
                raise _bad("epochs out of order or repeated")
            epochs[epoch] = state
            last = epoch
        _check_one_active(epochs)
        return epochs

    def prefix(self) -> tuple[bytes, str]:
        length = self.u16()
        if not 1 <= length <= MAX_PREFIX_BYTES:
            raise _bad(f"prefix length {length}")
        raw = self.take(length)
        return raw, _check_prefix(raw)

    def rules(self, with_cutoff: bool) -> list[tuple[str, int]]:
        rules: list[tuple[str, int]] = []
        last: Optional[bytes] = None
        for _ in range(self.count(11 if with_cutoff else 3)):
            raw, prefix = self.prefix()
            cutoff = self.i64() if with_cutoff else 0
            if last is not None and not last < raw:
                raise _bad("rules out of order or repeated")
            rules.append((prefix, cutoff))
            last = raw
        return rules

    def ids(self) -> tuple[int, int]:
        """-> (offset of the first id, count), after checking they ascend strictly."""
        count = self.count(ID_SIZE)
        start = self._need(ID_SIZE * count)
        data = self.data
        previous = None
        for offset in range(start, start + ID_SIZE * count, ID_SIZE):
            current = data[offset:offset + ID_SIZE]
            if previous is not None and not previous < current:
                raise _bad("ids out of order or repeated")
            previous = current
        return start, count

    def id_tuple(self) -> tuple:
        start, count = self.ids()
        return tuple(self.data[o:o + ID_SIZE] for o in range(start, start + ID_SIZE * count, ID_SIZE))


def _check_one_active(epochs: Mapping[int, int]) -> None:
    if sum(1 for state in epochs.values() if state == ACTIVE) != 1:
        raise _bad("not exactly one active epoch")


def _check_prefix(raw: bytes) -> str:
    """A rule's prefix: starts with `/`, at most 4096 bytes, a canonical path (section 3)."""
    if not 1 <= len(raw) <= MAX_PREFIX_BYTES or raw[:1] != b"/":
        raise _bad("a prefix that is not a path")
    try:
        text = raw.decode("ascii")
        if canonical_path(raw) != text:
            raise _bad(f"prefix {text[:60]!r} is not a canonical path")
    except (UnicodeDecodeError, Malformed):
        raise _bad("a prefix that is not a canonical path") from None
    return text


def parse_binary(data: bytes) -> BundleObject:
    """Reads the binary form, checking every rule of sections 2-4 (`bad_format`), not the
    signature. The object ends exactly where its body ends."""
    if len(data) < HEADER_SIZE:
        raise _bad(f"{len(data)} bytes, shorter than the header")
    magic, kind, epoch, serial, issued_at, not_after, digest, signature = \
        _HEADER.unpack_from(data, 0)
    if magic != MAGIC:
        raise _bad("not a bundle (magic)")
    if kind not in KIND_NAMES:
        raise _bad(f"kind {kind}")
    if not 1 <= epoch <= INT63_MAX:
        raise _bad(f"epoch {epoch} out of range")
    if not 1 <= serial <= INT63_MAX:
        raise _bad(f"serial {serial} out of range")
    if issued_at < 0 or not_after < 0:
        raise _bad("negative time")
    statement = Statement(epoch, serial, issued_at, not_after, digest)
    reader = _Reader(data, HEADER_SIZE)
    content = changes = None
    if kind == KIND_FULL:
        epochs = reader.epochs()
        rules = dict(reader.rules(with_cutoff=True))
        ids_start, ids_count = reader.ids()
        content = Content(data, HEADER_SIZE, reader.pos, epochs, rules, ids_start, ids_count)
    elif kind == KIND_DELTA:
        base = reader.u64()
        if base > INT63_MAX:
            raise _bad("base serial out of range")
        epochs = reader.epochs()
        removed_rules = tuple(prefix for prefix, _ in reader.rules(with_cutoff=False))
        set_rules = tuple(reader.rules(with_cutoff=True))
        removed_ids = reader.id_tuple()
        added_ids = reader.id_tuple()
        changes = Changes(base, epochs, removed_rules, set_rules, removed_ids, added_ids)
    if reader.remaining:
        raise _bad(f"{reader.remaining} bytes after the body")
    return BundleObject(KIND_NAMES[kind], statement, signature, content, changes)


# ---- Section 2.2: the JSON twin --------------------------------------------------------------

class _Members:
    """The members of one JSON object, each taken once; finish() refuses any left over."""

    def __init__(self, obj, what: str):
        if not isinstance(obj, dict):
            raise _bad(f"{what} is not an object")
        self.left = dict(obj)
        self.what = what

    def take(self, name: str):
        if name not in self.left:
            raise _bad(f"{self.what}: no member {name}")
        return self.left.pop(name)

    def finish(self) -> None:
        if self.left:
            raise _bad(f"{self.what}: unknown member {sorted(map(str, self.left))[0][:40]!r}")

    def integer(self, name: str, minimum: int) -> int:
        return _json_int(self.take(name), name, minimum)

    def string(self, name: str) -> str:
        value = self.take(name)
        if type(value) is not str:
            raise _bad(f"{name} is not a string")
        return value

    def base64(self, name: str, nchars: int, nbytes: int) -> bytes:
        try:
            return b64url_canonical(self.string(name), nchars, nbytes)
        except Malformed:
            raise _bad(f"{name} is not {nbytes} bytes of canonical base64url") from None

    def array(self, name: str) -> list:
        value = self.take(name)
        if type(value) is not list:
            raise _bad(f"{name} is not an array")
        return value


def _json_int(value, name: str, minimum: int) -> int:
    """A JSON integer (not a boolean, not a fraction, not a string) from `minimum` to 2^53 - 1."""
    if type(value) is not int or not max(minimum, -JSON_INT_MAX) <= value <= JSON_INT_MAX:
        raise _bad(f"{name} is not an integer from {minimum} to 2^53 - 1")
    return value


def _json_epochs(items: list) -> dict[int, int]:
    epochs: dict[int, int] = {}
    last = 0
    for item in items:
        members = _Members(item, "an epoch")
        epoch = members.integer("epoch", 1)
        state = STATE_BYTES.get(members.string("state"))
        members.finish()
        if state is None:
            raise _bad(f"epoch {epoch} has an unknown state")
        if epoch <= last:
            raise _bad("epochs out of order or repeated")
        epochs[epoch] = state
        last = epoch
    _check_one_active(epochs)
    return epochs


def _json_prefix(value) -> tuple[bytes, str]:
    if type(value) is not str:
        raise _bad("a prefix that is not a string")
    try:
        raw = value.encode("utf-8")
    except UnicodeEncodeError:
        raise _bad("a prefix that is not UTF-8") from None
    return raw, _check_prefix(raw)


def _json_rules(items: list, name: str) -> list[tuple[str, int]]:
    rules: list[tuple[str, int]] = []
    last: Optional[bytes] = None
    for item in items:
        members = _Members(item, f"a rule of {name}")
        raw, prefix = _json_prefix(members.take("prefix"))
        cutoff = members.take("issued_before")
        members.finish()
        cutoff = STANDING_BLOCK if cutoff is None else _json_int(cutoff, "issued_before", -JSON_INT_MAX)
        if last is not None and not last < raw:
            raise _bad(f"{name} out of order or repeated")
        rules.append((prefix, cutoff))
        last = raw
    return rules


def _json_removed_rules(items: list) -> tuple:
    prefixes = []
    last: Optional[bytes] = None
    for item in items:
        raw, prefix = _json_prefix(item)
        if last is not None and not last < raw:
            raise _bad("removed_rules out of order or repeated")
        prefixes.append(prefix)
        last = raw
    return tuple(prefixes)


def _json_ids(items: list, name: str) -> tuple:
    ids = []
    for item in items:
        if type(item) is not str:
            raise _bad(f"{name} holds something not a link id")
        try:
            link_id = b64url_canonical(item, 22, ID_SIZE)
        except Malformed:
            raise _bad(f"{name} holds something not a link id") from None
        if ids and not ids[-1] < link_id:
            raise _bad(f"{name} out of order or repeated")
        ids.append(link_id)
    return tuple(ids)


def parse_json(obj) -> BundleObject:
    """Reads the JSON twin (a parsed object), checking every rule of sections 2-4
    (`bad_format`): the members of its kind and no other, exact integers, sorted lists. The
    content of a full bundle is written in binary form (its digest is of those bytes)."""
    members = _Members(obj, "the object")
    if members.string("format") != CONTEXT:
        raise _bad(f"format is not {CONTEXT}")
    kind = members.string("kind")
    if kind not in ("full", "delta", "freshness"):
        raise _bad(f"kind {kind[:20]!r}")
    epoch = members.integer("epoch", 1)
    serial = members.integer("serial", 1)
    issued_at = members.integer("issued_at", 0)
    not_after = members.integer("not_after", 0)
    digest = members.base64("digest", 43, 32)
    signature = members.base64("signature", 86, 64)
    statement = Statement(epoch, serial, issued_at, not_after, digest)
    content = changes = None
    if kind == "full":
        epochs = _json_epochs(members.array("epochs"))
        rules = dict(_json_rules(members.array("rules"), "rules"))
        ids = _json_ids(members.array("ids"), "ids")
        content = encode_content(epochs, rules, b"".join(ids), len(ids))
    elif kind == "delta":
        base = members.integer("base_serial", 0)
        epochs = _json_epochs(members.array("epochs"))
        removed_rules = _json_removed_rules(members.array("removed_rules"))
        set_rules = tuple(_json_rules(members.array("set_rules"), "set_rules"))
        removed_ids = _json_ids(members.array("removed_ids"), "removed_ids")
        added_ids = _json_ids(members.array("added_ids"), "added_ids")
        changes = Changes(base, epochs, removed_rules, set_rules, removed_ids, added_ids)
    members.finish()
    return BundleObject(kind, statement, signature, content, changes)


def _no_duplicates(pairs):
    obj = {}
    for name, value in pairs:
        if name in obj:
            raise _bad(f"member {name[:40]!r} appears twice")
        obj[name] = value
    return obj


def _no_constant(name):
    raise _bad(f"{name} is not a JSON number")


def parse_json_text(text: Union[str, bytes]) -> BundleObject:
    """Reads the JSON twin from its text (UTF-8 when bytes). A member given twice, NaN or
    Infinity are `bad_format` like everything else that is not the JSON of section 2.2."""
    if isinstance(text, (bytes, bytearray, memoryview)):
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise _bad("JSON text is not UTF-8") from None
    try:
        obj = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise _bad(f"not JSON ({str(error)[:60]})") from None
    return parse_json(obj)


def parse_bundle(obj) -> BundleObject:
    """An object in either form: bytes are the binary form unless their first non-blank byte is
    `{` (then JSON text); a str is JSON text; a dict is the parsed JSON twin."""
    if isinstance(obj, BundleObject):
        return obj
    if isinstance(obj, dict):
        return parse_json(obj)
    if isinstance(obj, str):
        return parse_json_text(obj)
    if isinstance(obj, (bytes, bytearray, memoryview)):
        data = bytes(obj)   # no copy for bytes; a private copy of a mutable buffer
        if data[:1] in (b"{", b" ", b"\t", b"\r", b"\n") and data.lstrip(b" \t\r\n")[:1] == b"{":
            return parse_json_text(data)
        return parse_binary(data)
    raise TypeError("a bundle object is bytes (binary or JSON text), a str or a dict")


# ---- Sections 6 and 7: the verifier ----------------------------------------------------------

@dataclass(frozen=True)
class HeldState:
    """What the verifier holds: serial, digest, content and not_after."""
    serial: int
    digest: bytes
    not_after: int
    content: Content

    @property
    def epochs(self) -> dict:
        return self.content.epochs


class EdgeVerifier:
    """Verifies links the way the daemon does, without it: a JWK set, the revocation state
    accepted last, and the caller's clock (`now`, Unix seconds, a parameter of every call).

    Feed it every object the origin answers (full bundles, deltas, freshness objects) with
    accept(); ask check() for each request."""

    def __init__(self, jwks, not_before_leeway: int = DEFAULT_LEEWAY):
        self._keys: dict[int, Key] = normalise_keys(jwks)
        self.not_before_leeway = not_before_leeway
        self._held: Optional[HeldState] = None

    def update_keys(self, jwks) -> None:
        """Replaces the JWK set (after a rotation: accept() answered unknown_key)."""
        self._keys = normalise_keys(jwks)

    @property
    def held(self) -> Optional[HeldState]:
        return self._held

    def accept(self, obj, now: int) -> str:
        """Section 6: `ok` (the held state is now the object's; for freshness, not_after moved
        forward) or `newer` (a freshness object of a later serial, or any while nothing is held:
        fetch a delta or a full bundle). Any refusal raises BundleRefused and changes nothing."""
        bundle = parse_bundle(obj)                                          # 1 bad_format
        statement = bundle.statement
        key = self._keys.get(statement.epoch)
        if key is None or key.retired:                                      # 2 unknown_key
            raise BundleRefused("unknown_key", f"no usable key for epoch {statement.epoch}")
        try:
            key.public_key.verify(bundle.signature, statement.message())
        except InvalidSignature:                                            # 3 bad_signature
            raise BundleRefused("bad_signature",
                                "the signature does not verify over the statement") from None
        held = self._held
        epochs = bundle.epochs
        if epochs is None and held is not None and statement.serial == held.serial:
            epochs = held.epochs
        if epochs is not None and epochs.get(statement.epoch) != ACTIVE:   # 4 inactive_signer
            raise BundleRefused("inactive_signer",
                                f"epoch {statement.epoch} is not the active epoch of the state")
        if held is not None and (statement.serial < held.serial or         # 5 rolled_back
                                 (statement.serial == held.serial and statement.digest != held.digest)):
            raise BundleRefused("rolled_back", f"serial {statement.serial} after {held.serial}"
                                + (" with another digest" if statement.serial == held.serial else ""))
        content: Optional[Content] = None
        if bundle.kind == "delta":
            base = bundle.changes.base_serial
            if held is None or base != held.serial:                        # 6 base_mismatch
                raise BundleRefused("base_mismatch", f"the delta is from serial {base}, the state "
                                    f"held is {'none' if held is None else held.serial}")
            if statement.serial < base:  # section 4 step 2 (already caught by step 5 here)
                raise BundleRefused("rolled_back", f"serial {statement.serial} below its base {base}")
            content = bundle.changes.applied_to(held.content)
        elif bundle.kind == "full":
            content = bundle.content
        if content is not None and content.digest() != statement.digest:   # 7 digest_mismatch
            raise BundleRefused("digest_mismatch", "the content does not hash to the signed digest")
        if now >= statement.not_after:                                      # 8 stale
            raise BundleRefused("stale", f"not after {statement.not_after}")
        if content is None:                                                 # freshness
            if held is None or statement.serial > held.serial:
                return "newer"
            self._held = HeldState(held.serial, held.digest,
                                   max(held.not_after, statement.not_after), held.content)
            return "ok"
        not_after = statement.not_after
        if held is not None and held.serial == statement.serial:
            not_after = max(not_after, held.not_after)
        self._held = HeldState(statement.serial, statement.digest, not_after, content)
        return "ok"

    def check_detail(self, url: str, host: Optional[str], method: str, client_ip: Optional[str],
                     now: int) -> tuple[str, Optional[Link]]:
        """check(), also returning the parsed link (None when malformed)."""
        held = self._held
        keys = self._keys

        def resolve(epoch: int):
            key = keys.get(epoch)
            if key is None:
                return None
            retired = key.retired
            if held is not None:
                state = held.epochs.get(epoch)
                if state is None:
                    return None
                retired = retired or state == RETIRED
            return key.public_key, retired

        reason, link = check_steps(url, host, method, client_ip, resolve, now,
                                   self.not_before_leeway)
        if reason != "ok":
            return reason, link
        if held is None or now >= held.not_after:
            return "stale_bundle", link
        if held.content.has_id(link.id) or held.content.revokes(link.path, link.issued_at):
            return "revoked", link
        if "u" in link.flags or "p" in link.flags:
            return "needs_daemon", link
        return "ok", link

    def check(self, url: str, host: Optional[str], method: str, client_ip: Optional[str],
              now: int) -> str:
        """Section 7: the daemon's reason for steps 1-8 of docs/link-format.md section 6, or
        `stale_bundle` (no state held, or past its not_after) or `needs_daemon` (a `u`/`p`
        link; the flag `c` needs no daemon state). The revocation rules are matched against the
        canonical request path (for a path-carried token, the path after the token). Anything
        but `ok` refuses the request."""
        return self.check_detail(url, host, method, client_ip, now)[0]


__all__ = ["BundleRefused", "BundleObject", "Changes", "Content", "EdgeVerifier", "HeldState",
           "Statement", "encode_content", "load_jwks", "parse_binary", "parse_bundle",
           "parse_json", "parse_json_text"]
