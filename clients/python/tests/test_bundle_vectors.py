"""Every case of Tests/Vectors/bundle-v1.json (docs/revocation-bundle.md section 9).

`accept` cases: the `held` object (binary form) is accepted first, at its own issued_at; then
`object` in the case's form, at the case's `now`, must give `answer`; a refusal must leave the
held state as it was. `checks` cases: the bundle (binary form) is accepted at its own issued_at,
then the link is checked at `now`. Each case also runs with the other spellings of its form
(JSON as text and as a dict; binary as bytes and bytearray), and each check also with the
bundle's JSON twin."""
import json
import unittest

from _support import BUNDLE_VECTORS, answer, load_json, state, unb64

from authority_edge import BundleRefused, EdgeVerifier, parse_binary

# At least this many cases (the file may grow; a shrinking file is a mistake).
EXPECTED = {"accept": 62, "checks": 32}


answer_of, snapshot = answer, state


class BundleVectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.file = load_json(BUNDLE_VECTORS)
        cls.objects = {o["name"]: o for o in cls.file["objects"]}
        cls.keys = cls.file["keys"]
        cls.leeway = cls.file["not_before_leeway"]

    def verifier_holding(self, name):
        verifier = EdgeVerifier(self.keys, self.leeway)
        if name is not None:
            data = unb64(self.objects[name]["binary"])
            self.assertEqual(verifier.accept(data, parse_binary(data).statement.issued_at), "ok")
        return verifier

    def spellings(self, obj, form):
        if form == "binary":
            data = unb64(obj["binary"])
            return [data, bytearray(data)]
        twin = obj["json"]
        return [twin, json.dumps(twin), json.dumps(twin).encode()]

    def test_file_shape(self):
        self.assertGreater(len(self.objects), 0)
        for member, count in EXPECTED.items():
            self.assertGreaterEqual(len(self.file[member]), count, member)
        for case in self.file["accept"]:
            self.assertIsNotNone(self.objects[case["object"]][case["form"]], case["name"])

    def test_accept_cases(self):
        passed = 0
        for case in self.file["accept"]:
            obj = self.objects[case["object"]]
            for spelling in self.spellings(obj, case["form"]):
                with self.subTest(case["name"], spelling=type(spelling).__name__):
                    verifier = self.verifier_holding(case["held"])
                    before = snapshot(verifier)
                    answer = answer_of(verifier, spelling, case["now"])
                    self.assertEqual(answer, case["answer"])
                    if answer not in ("ok",):
                        self.assertEqual(snapshot(verifier), before, "a refusal changed the state")
                    else:
                        self.assertIsNotNone(verifier.held)
            passed += 1
        self.assertEqual(passed, len(self.file["accept"]))

    def test_check_cases(self):
        passed = 0
        for case in self.file["checks"]:
            forms = [None] if case["bundle"] is None else ["binary", "json"]
            for form in forms:
                with self.subTest(case["name"], bundle_form=form):
                    verifier = EdgeVerifier(self.keys, self.leeway)
                    if form is not None:
                        obj = self.objects[case["bundle"]]
                        data = unb64(obj["binary"])
                        issued_at = parse_binary(data).statement.issued_at
                        spelling = data if form == "binary" else obj["json"]
                        self.assertEqual(verifier.accept(spelling, issued_at), "ok")
                    reason = verifier.check(case["url"], case["host"], case["method"],
                                            case["client_ip"], case["now"])
                    self.assertEqual(reason, case["reason"])
            passed += 1
        self.assertEqual(passed, len(self.file["checks"]))

    def test_binary_and_json_twins_agree(self):
        """Every object that has both forms reads to the same statement and content, or is
        bad_format in both."""
        from authority_edge import parse_json
        both = [o for o in self.file["objects"] if o["binary"] and o["json"]]
        self.assertGreater(len(both), 10)
        for obj in both:
            with self.subTest(obj["name"]):
                try:
                    a = parse_binary(unb64(obj["binary"]))
                except BundleRefused as refused:
                    self.assertEqual(refused.code, "bad_format")
                    with self.assertRaises(BundleRefused) as caught:
                        parse_json(obj["json"])
                    self.assertEqual(caught.exception.code, "bad_format")
                    continue
                b = parse_json(obj["json"])
                self.assertEqual(a.kind, b.kind)
                self.assertEqual(a.statement, b.statement)
                self.assertEqual(a.signature, b.signature)
                if a.content is not None:
                    self.assertEqual(bytes(a.content.encoded()), bytes(b.content.encoded()))
                if a.changes is not None:
                    self.assertEqual(a.changes, b.changes)


if __name__ == "__main__":
    unittest.main()
