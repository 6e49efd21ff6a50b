"""check_link's API beyond the vectors: the worked example of docs/link-format.md section 8,
the forms `keys` may take, and a JWK set's retired keys."""
import unittest

import _support as s

from authority_edge import KeySetError, check_link, load_jwks, parse_link

SPEC_MESSAGE = (b"authority-link-v1\nepoch=7\nid=AAECAwQFBgcICQoLDA0ODw\nissued_at=1790000000\n"
                b"not_before=\nexpires_at=1790000900\nmethods=GET,HEAD\nscope=exact\nhost=\n"
                b"ip=\nflags=\npath=/files/report%202026.pdf\nquery=download=1\n")
SPEC_LINK = ("https://cdn.example.com/files/report%202026.pdf?download=1&au_v=1&au_k=7"
             "&au_id=AAECAwQFBgcICQoLDA0ODw&au_iat=1790000000&au_exp=1790000900&au_m=GET,HEAD"
             "&au_sig=gtu6lRo98XU_n6kxnKSjkaWAS0lxBMk6amNw1oNO3WkclRvHrzLuYElVkkqLPKN_6dZ72aWIAUuW"
             "dZ1ofQleAw")
SPEC_KEY = "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg"
NOW = 1790000100


def spec_jwks(status="active"):
    return {"keys": [{"kty": "OKP", "crv": "Ed25519", "kid": "7", "x": SPEC_KEY, "status": status}]}


class WorkedExample(unittest.TestCase):
    def test_message(self):
        self.assertEqual(parse_link(SPEC_LINK).message, SPEC_MESSAGE)

    def test_key_forms(self):
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
        raw = s.unb64(SPEC_KEY)
        for keys in (spec_jwks(), load_jwks(spec_jwks()), {7: raw},
                     {7: Ed25519PublicKey.from_public_bytes(raw)}):
            with self.subTest(keys=type(keys)):
                self.assertEqual(check_link(SPEC_LINK, None, "GET", None, keys, NOW), "ok")
                self.assertEqual(check_link(SPEC_LINK, None, "PUT", None, keys, NOW),
                                 "method_not_allowed")
                self.assertEqual(check_link(SPEC_LINK, None, "GET", None, keys, 1790000900),
                                 "expired")
        self.assertEqual(check_link(SPEC_LINK, None, "GET", None, {8: raw}, NOW), "unknown_key")
        self.assertEqual(check_link(SPEC_LINK, None, "GET", None, spec_jwks("retired"), NOW),
                         "retired_key")
        self.assertEqual(check_link(SPEC_LINK, None, "GET", None, spec_jwks("verify_only"), NOW),
                         "ok")
        tampered = SPEC_LINK.replace("download=1", "download=2")
        self.assertEqual(check_link(tampered, None, "GET", None, spec_jwks(), NOW), "bad_signature")
        self.assertEqual(check_link(SPEC_LINK + "#x", None, "GET", None, spec_jwks(), NOW),
                         "malformed")


class KeySets(unittest.TestCase):
    def test_bad_sets(self):
        good = spec_jwks()["keys"][0]
        for jwks in ([], {"keys": {}}, {"keys": [1]}, {"keys": [dict(good, kid="07")]},
                     {"keys": [dict(good, kid="0")]}, {"keys": [dict(good, kid=7)]},
                     {"keys": [dict(good, x=SPEC_KEY[:-1])]}, {"keys": [good, good]}):
            with self.subTest(jwks=jwks):
                with self.assertRaises(KeySetError):
                    load_jwks(jwks)

    def test_other_key_types_are_skipped(self):
        keys = load_jwks({"keys": [{"kty": "RSA", "kid": "x"}, spec_jwks()["keys"][0]]})
        self.assertEqual(list(keys), [7])
        self.assertFalse(keys[7].retired)


if __name__ == "__main__":
    unittest.main()
