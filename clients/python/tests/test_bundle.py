"""The revocation bundle with objects built here (tests/_support.py writes them from the
specification with keys made from fixed seeds): parsing, tampering, deltas, rollback,
staleness, freshness, signers, the id lookup and the link check of section 7."""
import hashlib
import json
import random
import struct
import unittest

import _support as s

from authority_edge import BundleRefused, EdgeVerifier, parse_binary, parse_json

K6, K7, K8, K9 = s.Signer(6, 0x06), s.Signer(7, 0x07), s.Signer(8, 0x08), s.Signer(9, 0x09)
KEYS = s.jwks((K6, "verify_only"), (K7, "active"), (K8, "retired"))
EPOCHS = [(6, "verify_only"), (7, "active"), (8, "retired")]
T = 1_790_000_000          # the clock of these tests
AGE = 300                  # bundle-max-age


def lid(n: int) -> bytes:
    """A 16-byte id from an integer (big-endian, so integer order is byte order)."""
    return n.to_bytes(16, "big")


answer, state = s.answer, s.state


RULES = [("/a", T - 10), ("/b/", s.STANDING), ("/c", T + 100)]
IDS = [lid(3), lid(5), lid(9)]


def base_full(serial=10, iat=T, not_after=T + AGE, rules=RULES, ids=IDS, epochs=EPOCHS):
    return s.full(K7, serial, iat, not_after, epochs, rules, ids)


class Parsing(unittest.TestCase):
    def test_full_bundle_accepted_in_both_forms(self):
        data = base_full()
        for obj in (data, s.json_twin(data), json.dumps(s.json_twin(data))):
            verifier = EdgeVerifier(KEYS)
            self.assertEqual(verifier.accept(obj, T + 1), "ok")
            self.assertEqual(verifier.held.serial, 10)
            self.assertEqual(verifier.held.not_after, T + AGE)
            self.assertEqual(bytes(verifier.held.content.encoded()), data[137:])
            self.assertEqual(verifier.held.digest, hashlib.sha256(data[137:]).digest())

    def test_every_truncation_is_bad_format(self):
        data = base_full()
        for length in range(len(data)):
            with self.subTest(length=length):
                self.assertEqual(answer(EdgeVerifier(KEYS), data[:length], T + 1), "bad_format")

    def test_a_trailing_byte_is_bad_format(self):
        for data in (base_full(), s.freshness(K7, 10, T, T + AGE, bytes(32))):
            self.assertEqual(answer(EdgeVerifier(KEYS), data + b"\x00", T + 1), "bad_format")

    def test_every_flipped_bit_is_refused_and_changes_nothing(self):
        held = base_full(serial=10)
        data = base_full(serial=11, ids=IDS + [lid(10)])
        for offset in range(len(data)):
            for bit in (0x01, 0x80):
                with self.subTest(offset=offset, bit=bit):
                    tampered = bytearray(data)
                    tampered[offset] ^= bit
                    verifier = EdgeVerifier(KEYS)
                    verifier.accept(held, T + 1)
                    before = state(verifier)
                    code = answer(verifier, bytes(tampered), T + 1)
                    self.assertNotIn(code, ("ok", "newer"))
                    self.assertEqual(state(verifier), before)
        # and the untampered object is accepted
        verifier = EdgeVerifier(KEYS)
        verifier.accept(held, T + 1)
        self.assertEqual(verifier.accept(data, T + 1), "ok")

    def test_header_fields_refused_as_bad_format(self):
        good = base_full()
        body = good[137:]
        cases = {
            "bad magic": b"AUBUNDL2" + good[8:],
            "kind 0": good[:8] + b"\x00" + good[9:],
            "kind 4": good[:8] + b"\x04" + good[9:],
            "epoch 0": s.binary(1, K7, 10, T, T + AGE, hashlib.sha256(body).digest(), body, epoch=0),
            "serial 0": s.full(K7, 0, T, T + AGE, EPOCHS, RULES, IDS),
            "serial 2^63": s.full(K7, 2**63, T, T + AGE, EPOCHS, RULES, IDS),
            "negative issued_at": s.full(K7, 10, -1, T + AGE, EPOCHS, RULES, IDS),
            "negative not_after": s.full(K7, 10, T, -5, EPOCHS, RULES, IDS),
            "freshness with a body": s.binary(3, K7, 10, T, T + AGE, bytes(32), b"\x00"),
            "header only": good[:137],
            "empty": b"",
        }
        for name, data in cases.items():
            with self.subTest(name):
                self.assertEqual(answer(EdgeVerifier(KEYS), data, T + 1), "bad_format")

    def test_content_rules_refused_as_bad_format(self):
        huge = bytearray(s.content(EPOCHS, RULES, IDS))
        huge[-16 * len(IDS) - 4:-16 * len(IDS)] = b"\xff\xff\xff\xff"  # id count 2^32 - 1
        cases = {
            "no epoch": s.content([], RULES, IDS),
            "two active epochs": s.content([(6, "active"), (7, "active")], RULES, IDS),
            "no active epoch": s.content([(6, "verify_only"), (7, "verify_only")], RULES, IDS),
            "epoch state 0": s.content([(6, 0), (7, "active")], RULES, IDS),
            "epoch state 4": s.content([(6, 4), (7, "active")], RULES, IDS),
            "epoch 0 listed": s.content([(0, "retired"), (7, "active")], RULES, IDS),
            "epochs descending": s.content([(7, "active"), (6, "verify_only")], RULES, IDS),
            "epoch repeated": s.content([(7, "active"), (7, "retired")], RULES, IDS),
            "rules unsorted": s.content(EPOCHS, [("/b/", 1), ("/a", 1)], IDS),
            "rule repeated": s.content(EPOCHS, [("/a", 1), ("/a", 2)], IDS),
            "longer prefix first": s.content(EPOCHS, [("/a/", 1), ("/a", 1)], IDS),
            "empty prefix": s.content(EPOCHS, [("", 1)], IDS),
            "prefix without /": s.content(EPOCHS, [("a", 1)], IDS),
            "prefix not canonical (%7E)": s.content(EPOCHS, [("/%7Euser", 1)], IDS),
            "prefix not canonical (lowercase hex)": s.content(EPOCHS, [("/caf%c3%a9", 1)], IDS),
            "prefix with an empty segment": s.content(EPOCHS, [("/a//b", 1)], IDS),
            "prefix with a dot segment": s.content(EPOCHS, [("/a/../b", 1)], IDS),
            "prefix with raw UTF-8": s.content(EPOCHS, [("/café", 1)], IDS),
            "prefix longer than 4096": s.content(EPOCHS, [("/" + "a" * 4096, 1)], IDS),
            "ids unsorted": s.content(EPOCHS, RULES, [lid(5), lid(3)]),
            "id repeated": s.content(EPOCHS, RULES, [lid(3), lid(3)]),
            "an id count beyond the object": bytes(huge),
        }
        for name, body in cases.items():
            with self.subTest(name):
                data = s.full(K7, 10, T, T + AGE, (), raw_content=body)
                self.assertEqual(answer(EdgeVerifier(KEYS), data, T + 1), "bad_format")

    def test_prefixes_that_are_canonical_are_accepted(self):
        rules = [("/", 1), ("/%C3%A9t%C3%A9/", 2), ("/a", 3), ("/a%2Bb", 4), ("/a/", 5), ("/~user", 6)]
        rules.sort(key=lambda r: r[0].encode())
        data = s.full(K7, 10, T, T + AGE, EPOCHS, rules, IDS)
        self.assertEqual(EdgeVerifier(KEYS).accept(data, T + 1), "ok")
        self.assertEqual(EdgeVerifier(KEYS).accept(s.json_twin(data), T + 1), "ok")


class JSONForm(unittest.TestCase):
    def setUp(self):
        self.data = base_full()
        self.twin = s.json_twin(self.data)

    def refused(self, obj):
        return answer(EdgeVerifier(KEYS), obj, T + 1)

    def test_twin_and_text_accepted(self):
        self.assertEqual(self.refused(self.twin), "ok")
        self.assertEqual(self.refused(json.dumps(self.twin, indent=2)), "ok")
        self.assertEqual(self.refused(b"\n  " + json.dumps(self.twin).encode()), "ok")

    def test_numbers(self):
        for name, value in [("serial", True), ("serial", 10.0), ("serial", "10"), ("serial", None),
                            ("serial", 0), ("serial", -10), ("epoch", 0), ("issued_at", -1),
                            ("not_after", 2**53), ("not_after", float(T + AGE)),
                            ("issued_at", False)]:
            with self.subTest(name=name, value=value):
                twin = dict(self.twin, **{name: value})
                self.assertEqual(self.refused(twin), "bad_format")

    def test_largest_integer_is_a_number_not_bad_format(self):
        twin = s.resign_json(dict(self.twin, not_after=2**53 - 1), K7)
        self.assertEqual(self.refused(twin), "ok")

    def test_nested_numbers(self):
        twin = json.loads(json.dumps(self.twin))
        twin["epochs"][0]["epoch"] = True
        self.assertEqual(self.refused(twin), "bad_format")
        twin = json.loads(json.dumps(self.twin))
        twin["rules"][0]["issued_before"] = float(T - 10)
        self.assertEqual(self.refused(twin), "bad_format")
        twin = json.loads(json.dumps(self.twin))
        twin["rules"][0]["issued_before"] = s.STANDING   # a standing block is written null
        self.assertEqual(self.refused(twin), "bad_format")

    def test_members(self):
        for name in self.twin:
            with self.subTest(missing=name):
                twin = dict(self.twin)
                del twin[name]
                self.assertEqual(self.refused(twin), "bad_format")
        self.assertEqual(self.refused(dict(self.twin, extra=1)), "bad_format")
        self.assertEqual(self.refused(dict(self.twin, base_serial=9)), "bad_format")  # delta's
        self.assertEqual(self.refused(dict(self.twin, format="authority-bundle-v2")), "bad_format")
        self.assertEqual(self.refused(dict(self.twin, kind="Full")), "bad_format")
        twin = json.loads(json.dumps(self.twin))
        twin["epochs"][1]["note"] = "x"
        self.assertEqual(self.refused(twin), "bad_format")
        twin = json.loads(json.dumps(self.twin))
        twin["rules"][1]["cutoff"] = 1
        self.assertEqual(self.refused(twin), "bad_format")
        twin = json.loads(json.dumps(self.twin))
        twin["epochs"][1]["state"] = "Active"
        self.assertEqual(self.refused(twin), "bad_format")

    def test_texts(self):
        text = json.dumps(self.twin)
        self.assertEqual(self.refused(text[:-1]), "bad_format")                   # truncated
        self.assertEqual(self.refused(text[:-1] + ',"serial":10}'), "bad_format")  # twice
        self.assertEqual(self.refused(text.replace(str(T + AGE), "NaN")), "bad_format")
        self.assertEqual(self.refused(text.replace(str(T + AGE), "1.7900003e9")), "bad_format")
        self.assertEqual(self.refused("[" + text + "]"), "bad_format")
        self.assertEqual(self.refused(b"\xff" + text.encode()), "bad_format")

    def test_base64(self):
        for name, value in [("digest", self.twin["digest"] + "="),
                            ("digest", self.twin["digest"][:-1] + "B"),   # unused bits set
                            ("signature", self.twin["signature"][:-1]),
                            ("signature", "+" + self.twin["signature"][1:])]:
            with self.subTest(name=name, value=value):
                self.assertEqual(self.refused(dict(self.twin, **{name: value})), "bad_format")
        twin = json.loads(json.dumps(self.twin))
        twin["ids"][0] = twin["ids"][0][:-1] + "B"
        self.assertEqual(self.refused(twin), "bad_format")

    def test_ids_are_sorted_by_bytes_not_by_text(self):
        # base64url text order differs from byte order: "-" sorts before "A" as text, but it
        # stands for 62 while "A" is 0.
        low, high = lid(1), b"\xfb" + bytes(15)
        self.assertLess(s.b64(high), s.b64(low))
        data = s.full(K7, 10, T, T + AGE, EPOCHS, RULES, [low, high])
        twin = s.json_twin(data)
        self.assertEqual(twin["ids"], [s.b64(low), s.b64(high)])
        self.assertEqual(self.refused(twin), "ok")
        twin["ids"].reverse()
        self.assertEqual(self.refused(twin), "bad_format")

    def test_prefixes(self):
        for prefix in ["/%7Euser", "a", "", "/a//b", "/\ud800", "/a?b"]:
            with self.subTest(prefix=prefix):
                twin = json.loads(json.dumps(self.twin))
                twin["rules"] = [{"prefix": prefix, "issued_before": None}]
                self.assertEqual(self.refused(twin), "bad_format")

    def test_digest_is_of_the_binary_content(self):
        twin = json.loads(json.dumps(self.twin))
        twin["rules"][0]["issued_before"] += 1      # signed digest no longer matches
        self.assertEqual(self.refused(twin), "digest_mismatch")
        twin = json.loads(json.dumps(self.twin))
        twin["epochs"][0]["state"] = "retired"       # the state byte is in the digest too
        self.assertEqual(self.refused(twin), "digest_mismatch")


class Signers(unittest.TestCase):
    def test_unknown_and_retired_keys(self):
        epochs = [(7, "verify_only"), (8, "retired"), (9, "active")]
        self.assertEqual(answer(EdgeVerifier(KEYS), s.full(K9, 10, T, T + AGE, epochs), T + 1),
                         "unknown_key")
        epochs = [(7, "verify_only"), (8, "active")]
        self.assertEqual(answer(EdgeVerifier(KEYS), s.full(K8, 10, T, T + AGE, epochs), T + 1),
                         "unknown_key")   # the JWK set says retired

    def test_signature_under_another_key(self):
        data = bytearray(s.full(K6, 10, T, T + AGE, EPOCHS, RULES, IDS))
        data[9:17] = struct.pack(">Q", 7)             # claims epoch 7, signed by 6
        self.assertEqual(answer(EdgeVerifier(KEYS), bytes(data), T + 1), "bad_signature")

    def test_a_link_signature_is_not_a_bundle_signature(self):
        body = s.content(EPOCHS, RULES, IDS)
        digest = hashlib.sha256(body).digest()
        wrong = K7.sign(s.statement(7, 10, T, T + AGE, digest).replace(b"bundle", b"link"))
        data = s.binary(1, K7, 10, T, T + AGE, digest, body, signature=wrong)
        self.assertEqual(answer(EdgeVerifier(KEYS), data, T + 1), "bad_signature")

    def test_inactive_signer(self):
        # signed by 6, which the object's own list says is verify_only
        self.assertEqual(answer(EdgeVerifier(KEYS), s.full(K6, 10, T, T + AGE, EPOCHS), T + 1),
                         "inactive_signer")
        # signed by 6, active in the list the object brings: accepted (the list decides)
        epochs = [(6, "active"), (7, "verify_only")]
        verifier = EdgeVerifier(KEYS)
        self.assertEqual(verifier.accept(s.full(K6, 10, T, T + AGE, epochs), T + 1), "ok")
        # a freshness object of the held serial is judged by the held list ...
        digest = verifier.held.digest
        self.assertEqual(answer(verifier, s.freshness(K7, 10, T + 5, T + 400, digest), T + 6),
                         "inactive_signer")
        self.assertEqual(verifier.accept(s.freshness(K6, 10, T + 5, T + 400, digest), T + 6), "ok")
        # ... and one of a later serial cannot be, so it only says "newer"
        self.assertEqual(verifier.accept(s.freshness(K7, 11, T + 5, T + 400, bytes(32)), T + 6),
                         "newer")


class Deltas(unittest.TestCase):
    def setUp(self):
        self.verifier = EdgeVerifier(KEYS)
        self.assertEqual(self.verifier.accept(base_full(serial=10), T + 1), "ok")
        # the expected result of the changes below, written independently
        self.rules = [("/b/", T + 50), ("/c", T + 100), ("/d/", s.STANDING)]
        self.ids = [lid(3), lid(9), lid(11)]
        self.epochs = [(6, "retired"), (7, "active"), (8, "retired")]
        self.digest = hashlib.sha256(s.canonical_content(self.epochs, self.rules, self.ids)).digest()

    def changes(self, **overrides):
        args = dict(signer=K7, serial=12, iat=T + 60, not_after=T + 60 + AGE, base=10,
                    epochs=self.epochs,
                    removed_rules=["/a", "/zz"],                    # /zz is absent: ignored
                    set_rules=[("/b/", T + 50), ("/d/", s.STANDING)],  # replace one, add one
                    removed_ids=[lid(4), lid(5)],                   # lid(4) absent: ignored
                    added_ids=[lid(3), lid(11)],                    # lid(3) present already
                    digest=self.digest)
        args.update(overrides)
        return s.delta(args.pop("signer"), args.pop("serial"), args.pop("iat"),
                       args.pop("not_after"), args.pop("base"), args.pop("epochs"),
                       args.pop("removed_rules"), args.pop("set_rules"), args.pop("removed_ids"),
                       args.pop("added_ids"), digest=args.pop("digest"))

    def test_delta_applied(self):
        for form in ("binary", "json"):
            with self.subTest(form=form):
                self.setUp()
                data = self.changes()
                self.assertEqual(self.verifier.accept(data if form == "binary" else s.json_twin(data),
                                                      T + 61), "ok")
                held = self.verifier.held
                self.assertEqual((held.serial, held.digest, held.not_after),
                                 (12, self.digest, T + 60 + AGE))
                self.assertEqual(bytes(held.content.encoded()),
                                 s.canonical_content(self.epochs, self.rules, self.ids))
                self.assertEqual([held.content.has_id(lid(n)) for n in (3, 5, 9, 11, 4)],
                                 [True, False, True, True, False])

    def test_digest_mismatch_changes_nothing(self):
        before = state(self.verifier)
        data = self.changes(digest=hashlib.sha256(b"something else").digest())
        self.assertEqual(answer(self.verifier, data, T + 61), "digest_mismatch")
        self.assertEqual(state(self.verifier), before)
        self.assertTrue(self.verifier.held.content.has_id(lid(5)))

    def test_base_mismatch(self):
        self.assertEqual(answer(self.verifier, self.changes(base=11), T + 61), "base_mismatch")
        self.assertEqual(answer(EdgeVerifier(KEYS), self.changes(), T + 61), "base_mismatch")

    def test_rolled_back_comes_before_base_mismatch(self):
        self.assertEqual(answer(self.verifier, self.changes(serial=9, base=8), T + 61), "rolled_back")
        self.assertEqual(answer(self.verifier, self.changes(serial=9, base=10), T + 61), "rolled_back")

    def test_unsorted_changes_are_bad_format(self):
        for name, value in [("removed_rules", ["/zz", "/a"]),
                            ("set_rules", [("/d/", 1), ("/b/", 1)]),
                            ("removed_ids", [lid(5), lid(4)]),
                            ("added_ids", [lid(11), lid(11)])]:
            with self.subTest(name):
                self.assertEqual(answer(self.verifier, self.changes(**{name: value}), T + 61),
                                 "bad_format")

    def test_empty_delta_moves_not_after_only(self):
        held = self.verifier.held
        data = self.changes(serial=10, removed_rules=[], set_rules=[], removed_ids=[],
                            added_ids=[], epochs=EPOCHS, digest=held.digest,
                            not_after=T + 900)
        self.assertEqual(self.verifier.accept(data, T + 400), "ok")
        self.assertEqual(self.verifier.held.not_after, T + 900)
        self.assertEqual(self.verifier.held.digest, held.digest)


class Ordering(unittest.TestCase):
    def setUp(self):
        self.verifier = EdgeVerifier(KEYS)
        self.verifier.accept(base_full(serial=10), T + 1)

    def test_rollback(self):
        self.assertEqual(answer(self.verifier, base_full(serial=9), T + 1), "rolled_back")
        self.assertEqual(answer(self.verifier, base_full(serial=10, ids=[lid(1)]), T + 1),
                         "rolled_back")
        self.assertEqual(answer(self.verifier, s.freshness(K7, 9, T, T + AGE,
                                                           self.verifier.held.digest), T + 1),
                         "rolled_back")
        self.assertEqual(answer(self.verifier, s.freshness(K7, 10, T, T + AGE, bytes(32)), T + 1),
                         "rolled_back")
        self.assertEqual(self.verifier.held.serial, 10)

    def test_same_state_again(self):
        self.assertEqual(self.verifier.accept(base_full(serial=10, iat=T + 50,
                                                        not_after=T + 50 + AGE), T + 51), "ok")
        self.assertEqual(self.verifier.held.not_after, T + 50 + AGE)
        # an older answer for the same state does not shorten the time held
        self.assertEqual(self.verifier.accept(base_full(serial=10), T + 52), "ok")
        self.assertEqual(self.verifier.held.not_after, T + 50 + AGE)

    def test_a_newer_full_replaces(self):
        self.assertEqual(self.verifier.accept(base_full(serial=20, ids=[lid(1)]), T + 1), "ok")
        self.assertEqual(self.verifier.held.serial, 20)
        self.assertTrue(self.verifier.held.content.has_id(lid(1)))
        self.assertFalse(self.verifier.held.content.has_id(lid(3)))


class Freshness(unittest.TestCase):
    def setUp(self):
        self.verifier = EdgeVerifier(KEYS)
        self.verifier.accept(base_full(serial=10), T + 1)
        self.digest = self.verifier.held.digest
        self.url = s.link(K7, "/files/a.pdf", lid(100), T, T + 3600)

    def check(self, now):
        return self.verifier.check(self.url, None, "GET", None, now)

    def test_staleness_and_extension(self):
        self.assertEqual(self.check(T + AGE - 1), "ok")
        self.assertEqual(self.check(T + AGE), "stale_bundle")
        fresh = s.freshness(K7, 10, T + 200, T + 200 + AGE, self.digest)
        self.assertEqual(self.verifier.accept(fresh, T + 201), "ok")
        self.assertEqual(self.verifier.held.not_after, T + 200 + AGE)
        self.assertEqual(self.check(T + AGE), "ok")
        self.assertEqual(self.check(T + 200 + AGE), "stale_bundle")
        # an earlier freshness object does not move not_after back
        older = s.freshness(K7, 10, T + 100, T + 100 + AGE, self.digest)
        self.assertEqual(self.verifier.accept(older, T + 201), "ok")
        self.assertEqual(self.verifier.held.not_after, T + 200 + AGE)
        self.assertEqual(s.json_twin(fresh)["kind"], "freshness")
        self.assertEqual(self.verifier.accept(s.json_twin(fresh), T + 202), "ok")

    def test_stale_objects_refused(self):
        self.assertEqual(answer(EdgeVerifier(KEYS), base_full(), T + AGE), "stale")
        self.assertEqual(EdgeVerifier(KEYS).accept(base_full(), T + AGE - 1), "ok")
        fresh = s.freshness(K7, 10, T + 10, T + 20, self.digest)
        before = state(self.verifier)
        self.assertEqual(answer(self.verifier, fresh, T + 20), "stale")
        self.assertEqual(state(self.verifier), before)

    def test_newer(self):
        before = state(self.verifier)
        later = s.freshness(K7, 11, T + 10, T + 10 + AGE, bytes(32))
        self.assertEqual(self.verifier.accept(later, T + 11), "newer")
        self.assertEqual(state(self.verifier), before)
        self.assertEqual(EdgeVerifier(KEYS).accept(later, T + 11), "newer")
        self.assertIsNone(EdgeVerifier(KEYS).held)

    def test_stale_comes_before_newer(self):
        """Section 6's table: `stale` (8) is a check, `newer` an answer after all checks."""
        later = s.freshness(K7, 11, T + 10, T + 20, bytes(32))
        self.assertEqual(answer(self.verifier, later, T + 20), "stale")
        self.assertEqual(answer(EdgeVerifier(KEYS), later, T + 20), "stale")


class Lookup(unittest.TestCase):
    def test_binary_search_over_many_ids(self):
        rng = random.Random(7)
        ids = sorted({rng.randbytes(16) for _ in range(3000)})
        data = s.full(K7, 10, T, T + AGE, EPOCHS, [], ids)
        for obj in (data, s.json_twin(data)):
            verifier = EdgeVerifier(KEYS)
            verifier.accept(obj, T + 1)
            content = verifier.held.content
            self.assertEqual(len(content.ids), len(ids))
            present = set(ids)
            for link_id in ids:
                self.assertTrue(content.has_id(link_id))
            probes = [bytes(16), b"\xff" * 16, ids[0][:-1] + b"\x00", ids[-1][:-1] + b"\xff"]
            probes += [rng.randbytes(16) for _ in range(2000)]
            probes += [(int.from_bytes(i, "big") + 1).to_bytes(16, "big") for i in ids[:-1]]
            for probe in probes:
                self.assertEqual(content.has_id(probe), probe in present)

    def test_no_ids(self):
        verifier = EdgeVerifier(KEYS)
        verifier.accept(base_full(ids=[]), T + 1)
        self.assertFalse(verifier.held.content.has_id(lid(3)))


class LinkChecks(unittest.TestCase):
    def setUp(self):
        self.verifier = EdgeVerifier(KEYS)
        self.verifier.accept(base_full(), T + 1)

    def check(self, url, now=T + 2, method="GET"):
        return self.verifier.check(url, None, method, None, now)

    def test_rules_and_ids(self):
        L = lambda path, n=200, iat=T - 100, **kw: s.link(K7, path, lid(n), iat, T + 3600, **kw)
        cases = [
            (L("/x"), "ok"),
            (L("/x", n=5), "revoked"),                            # by id
            (L("/a"), "revoked"),                                 # /a covers itself
            (L("/a/b/c"), "revoked"),
            (L("/ab"), "ok"),
            (L("/a", iat=T - 10), "ok"),                          # issued at the cutoff
            (L("/a", iat=T - 11), "revoked"),
            (L("/b"), "ok"),                                      # /b/ covers only below it
            (L("/b/"), "revoked"),
            (L("/b/x", iat=T + 1), "revoked"),                    # standing: whenever issued
            (L("/c/d", iat=T + 99), "revoked"),
            (L("/c/d", iat=T + 100), "ok"),
            (L("/b/x", prefix="/"), "revoked"),                   # the request path counts
            (L("/bx", prefix="/"), "ok"),
            (L("/x", flags="u"), "needs_daemon"),
            (L("/x", flags="up"), "needs_daemon"),
            (L("/x", flags="p", n=9), "revoked"),                 # revoked before needs_daemon
            (L("/x", epoch=6), "bad_signature"),                  # says 6, signed by 7
            (s.link(K6, "/x", lid(1), T, T + 3600), "ok"),        # verify_only epoch
            (s.link(K8, "/x", lid(1), T, T + 3600), "retired_key"),
            (s.link(K9, "/x", lid(1), T, T + 3600), "unknown_key"),
            (L("/x") + "&au_zz=1", "malformed"),
        ]
        for url, reason in cases:
            with self.subTest(url=url):
                self.assertEqual(self.check(url), reason)
        self.assertEqual(self.check(L("/x"), method="PUT"), "method_not_allowed")
        self.assertEqual(self.check(L("/x", n=5), now=T + 3600), "expired")
        self.assertEqual(self.check(L("/x", n=5), now=T + AGE), "stale_bundle")

    def test_the_bundle_decides_retirement_and_membership(self):
        keys = s.jwks((K6, "active"), (K7, "active"), (K8, "active"))
        verifier = EdgeVerifier(keys)
        verifier.accept(s.full(K7, 10, T, T + AGE, [(6, "retired"), (7, "active")]), T + 1)
        self.assertEqual(verifier.check(s.link(K6, "/x", lid(1), T, T + 3600), None, "GET", None,
                                        T + 2), "retired_key")
        self.assertEqual(verifier.check(s.link(K8, "/x", lid(1), T, T + 3600), None, "GET", None,
                                        T + 2), "unknown_key")
        self.assertEqual(verifier.check(s.link(K7, "/x", lid(1), T, T + 3600), None, "GET", None,
                                        T + 2), "ok")

    def test_nothing_held(self):
        verifier = EdgeVerifier(KEYS)
        self.assertEqual(verifier.check(s.link(K7, "/x", lid(1), T, T + 3600), None, "GET", None,
                                        T + 2), "stale_bundle")
        self.assertEqual(verifier.check(s.link(K8, "/x", lid(1), T, T + 3600), None, "GET", None,
                                        T + 2), "retired_key")

    def test_update_keys(self):
        verifier = EdgeVerifier(s.jwks((K7, "active")))
        epochs = [(7, "verify_only"), (9, "active")]
        self.assertEqual(answer(verifier, s.full(K9, 10, T, T + AGE, epochs), T + 1), "unknown_key")
        verifier.update_keys(s.jwks((K7, "verify_only"), (K9, "active")))
        self.assertEqual(verifier.accept(s.full(K9, 10, T, T + AGE, epochs), T + 1), "ok")


if __name__ == "__main__":
    unittest.main()
