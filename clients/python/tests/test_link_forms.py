"""The flag c (grant cookie, docs/link-format.md section 1) and path-carried tokens (section 11),
with links signed here (tests/_support.py) by the worked example's key: seed 00 01 .. 1f,
epoch 7."""
import base64
import re
import unittest

import _support as s

from authority_edge import EdgeVerifier, Malformed, check_link, check_link_detail, parse_link

T = 1_790_000_000
ORIGIN = "https://cdn.example.com"
B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


K7 = s.Signer(7, bytes(range(32)))    # the worked example's key
KEYS = s.jwks((K7, "active"))


def lid(n: int) -> bytes:
    return bytes([0x77] * 12) + n.to_bytes(4, "big")


def link(path="/videos/42/", prefix="/videos/42/", n=1, **kw) -> str:
    """A link signed by K7, issued at T for 900 s; a prefix link unless prefix=None."""
    return s.link(K7, path, lid(n), T, T + 900, methods="GET", prefix=prefix, **kw)


def reason(url, host=None, method="GET", client_ip=None, now=T + 1):
    return check_link(url, host, method, client_ip, KEYS, now)


def token_of(target: str) -> str:
    return re.search(r"/~au/([^/?]*)", target).group(1)


def with_token(target: str, token: str) -> str:
    return target.replace("/~au/" + token_of(target), "/~au/" + token, 1)


def raw_token(text) -> str:
    return s.b64(text.encode() if isinstance(text, str) else text)


def token_text(target: str) -> str:
    return s.unb64(token_of(target)).decode()


class CookieFlag(unittest.TestCase):
    def test_c_combinations_are_accepted_and_signed(self):
        self.assertEqual(s.b64(K7.public), "A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg")
        for flags in ("c", "uc", "pc", "upc", "u", "p", "up"):
            with self.subTest(flags=flags):
                url = link(path="/videos/42/seg1.ts", flags=flags)
                got, parsed = check_link_detail(url, None, "GET", None, KEYS, T + 1)
                self.assertEqual(got, "ok")
                self.assertEqual(parsed.flags, flags)
                self.assertIn(f"\nflags={flags}\npath=/videos/42/\n".encode(), parsed.message)

    def test_bad_orders_and_repeats_are_malformed(self):
        for flags in ("cu", "cc", "pu", "cp", "pcu", "cpu", "ucp", "uu", "upcc", "C", "x", "uxc"):
            with self.subTest(flags=flags):
                self.assertEqual(reason(link(flags=flags)), "malformed")
                with self.assertRaisesRegex(Malformed, "au_f"):
                    parse_link(link(flags=flags))
        self.assertEqual(reason(link().replace("&au_sig=", "&au_f=&au_sig=")), "malformed")

    def test_c_on_an_exact_link_is_malformed(self):
        for flags in ("c", "uc", "pc", "upc"):
            with self.subTest(flags=flags):
                url = link(path="/files/a.pdf", prefix=None, flags=flags)
                self.assertEqual(reason(url), "malformed")
                with self.assertRaisesRegex(Malformed, "needs a prefix link"):
                    parse_link(url)
        self.assertEqual(reason(link(path="/files/a.pdf", prefix=None, flags="up")), "ok")


def edge_holding(rules=(), ids=()) -> EdgeVerifier:
    verifier = EdgeVerifier(KEYS)
    assert verifier.accept(s.full(K7, 3, T, T + 300, [(7, "active")], rules, ids), T) == "ok"
    return verifier


def edge_reason(verifier, url, now=T + 1):
    return verifier.check(url, None, "GET", None, now)


class EdgeFlags(unittest.TestCase):
    def test_c_is_ok_u_and_p_need_the_daemon(self):
        verifier = edge_holding()
        expected = {"c": "ok", "uc": "needs_daemon", "pc": "needs_daemon", "upc": "needs_daemon",
                    "u": "needs_daemon"}
        for flags, want in expected.items():
            with self.subTest(flags=flags):
                url = link(path="/videos/42/a.ts", flags=flags)
                self.assertEqual(edge_reason(verifier, url), want)
                self.assertEqual(edge_reason(verifier, s.path_token(url)), want)
        self.assertEqual(edge_reason(verifier, link(path="/f", prefix=None, flags="c")),
                         "malformed")


class PathTokens(unittest.TestCase):
    def test_good_token_and_one_signature_for_both_forms(self):
        query = link(path="/videos/42/master.m3u8")
        path = s.path_token(query)
        self.assertRegex(path, r"^https://cdn\.example\.com/~au/[A-Za-z0-9_-]+/videos/42/"
                               r"master\.m3u8$")
        a, b = parse_link(query), parse_link(path)
        self.assertEqual((a.carrier, b.carrier), ("query", "path"))
        self.assertEqual(b.path, "/videos/42/master.m3u8")
        self.assertEqual(b.message, a.message)
        self.assertEqual(b.signature, a.signature)
        self.assertEqual(reason(query), "ok")
        self.assertEqual(reason(path), "ok")
        token = token_of(path)
        for rest in ("/videos/42/seg1.ts", "/videos/42/", "/videos/42/hd/seg%201.ts",
                     "/videos/42/a+b.ts?x=1&y"):
            with self.subTest(rest=rest):
                self.assertEqual(reason(f"{ORIGIN}/~au/{token}{rest}"), "ok")
        self.assertEqual(reason(f"/~au/{token}/videos/42/seg1.ts", host="cdn.example.com"), "ok")
        self.assertEqual(reason(f"http://cdn.example.com/~au/{token}/videos/42/s.ts"), "ok")
        self.assertEqual(parse_link(f"/~au/{token}/videos/42/%73eg%2b1.ts").path,
                         "/videos/42/seg%2B1.ts")
        for rest in ("/videos/42/../43/x", "/videos/42//x", "/videos/42/a%2Fb", "/videos/42/%zz"):
            with self.subTest(rest=rest):
                self.assertEqual(reason(f"/~au/{token}{rest}"), "malformed")

    def test_request_path_outside_the_prefix(self):
        token = token_of(s.path_token(link()))
        for rest in ("/videos/43/a.ts", "/videos/42", "/videos/421/a.ts", "/"):
            with self.subTest(rest=rest):
                self.assertEqual(reason(f"{ORIGIN}/~au/{token}{rest}"), "resource_mismatch")
        # a request path under /~au/ again (or %7Eau, which a proxy decodes) is refused outright
        for rest in ("/~au/x/videos/42/a.ts", "/%7Eau/x/videos/42/a.ts", "/%7eau"):
            with self.subTest(rest=rest):
                self.assertEqual(reason(f"{ORIGIN}/~au/{token}{rest}"), "malformed")
        bare = token_of(s.path_token(link(path="/videos/42", prefix="/videos/42")))
        self.assertEqual(reason(f"{ORIGIN}/~au/{bare}/videos/42"), "ok")
        self.assertEqual(reason(f"{ORIGIN}/~au/{bare}/videos/42/a.ts"), "ok")
        self.assertEqual(reason(f"{ORIGIN}/~au/{bare}/videos/42x"), "resource_mismatch")

    def test_exact_link_in_a_token_is_malformed(self):
        url = s.path_token(link(path="/files/a.pdf", prefix=None))
        self.assertEqual(reason(url), "malformed")
        with self.assertRaisesRegex(Malformed, "prefix link"):
            parse_link(url)

    def test_non_canonical_or_long_token_is_malformed(self):
        url = next(u for u in (s.path_token(link(n=n)) for n in (1, 2, 3))
                   if len(token_of(u)) % 4)
        token = token_of(url)
        sloppy = token[:-1] + B64[B64.index(token[-1]) | 1]    # a low unused bit set
        self.assertEqual(base64.urlsafe_b64decode(sloppy + "=" * (-len(sloppy) % 4)),
                         s.unb64(token), "a lax decoder reads the same bytes")
        self.assertEqual(reason(url), "ok")
        self.assertEqual(reason(with_token(url, sloppy)), "malformed")
        padded = token + "=" * (-len(token) % 4)
        for bad in (padded, token.replace("-", "+").replace("_", "."), token[:-1], token + "%41",
                    token + "A", token + "AAA", "é" + token):
            if bad != token:
                with self.subTest(bad=bad):
                    self.assertEqual(reason(with_token(url, bad)), "malformed")

        def long_link(length):
            return s.path_token(link(path="/" + "a" * length, prefix="/" + "a" * length))
        probe = len(s.unb64(token_of(long_link(2000))))
        at = long_link(2000 + 3072 - probe)
        self.assertEqual(len(token_of(at)), 4096)
        self.assertEqual(reason(at), "ok")
        over = long_link(2000 + 3073 - probe)
        self.assertEqual(len(token_of(over)), 4098)
        self.assertEqual(reason(over), "malformed")
        self.assertEqual(reason(re.sub(r"/~au/[^/]*", "", over) + "?" + token_text(over)), "ok")

    def test_missing_slash_and_empty_token_are_malformed(self):
        url = s.path_token(link())
        token = token_of(url)
        for target in (f"{ORIGIN}/~au/{token}", f"{ORIGIN}/~au/{token}?x=1", f"/~au/{token}",
                       f"{ORIGIN}/~au/", f"{ORIGIN}/~au//videos/42/a.ts", f"{ORIGIN}/~au//",
                       f"{ORIGIN}/~au/?x=1"):
            with self.subTest(target=target):
                self.assertEqual(reason(target, host="cdn.example.com"), "malformed")
        # only the raw bytes /~au/ start a token: /%7Eau/ is an ordinary path, without a query
        self.assertEqual(reason(url.replace("/~au/", "/%7Eau/")), "malformed")
        self.assertEqual(reason(url.replace("/~au/", "/~AU/")), "malformed")

    def test_bad_pieces_in_the_token_are_malformed(self):
        url = s.path_token(link())
        text = token_text(url)
        self.assertEqual(reason(with_token(url, raw_token(text))), "ok")
        sig = text[text.index("&au_sig="):]
        variants = [f"x=1&{text}", f"{text}&download=1", f"{text}&", f"&{text}",
                    text.replace("&", "&&", 1), f"{text}&au_zz=1", f"{text}&au_v=1",
                    text.replace("au_k=", "au%5Fk="), text.replace("au_k=", "AU_k="),
                    text.replace(sig, "&au_f" + sig), text.replace(sig, "&au_f=" + sig),
                    re.sub(r"&au_pfx=[^&]*", "", text), text.replace("au_k=7", "au_k=07"),
                    text.replace("au_m=GET", "au_m=GET "), text + "\n"]
        for variant in variants:
            with self.subTest(variant=variant):
                self.assertEqual(reason(with_token(url, raw_token(variant))), "malformed")
        self.assertEqual(reason(with_token(url, raw_token(text.encode() + b"&\xff"))), "malformed")

    def test_reserved_parameter_in_the_outer_query_is_malformed(self):
        query = link(path="/videos/42/a.ts")
        url = s.path_token(query)
        self.assertEqual(reason(url + "?download=1&q=a+b"), "ok")
        for outer in ("au_v=1", "x=1&au_v=1", "au_zz=1", "au%5Fk=7", "au_sig=x",
                      query.split("?", 1)[1], "x=%zz", "a=1&&b=2", "&", "", "x=%00"):
            with self.subTest(outer=outer):
                self.assertEqual(reason(f"{url}?{outer}"), "malformed")

    def test_tampered_token(self):
        url = s.path_token(link())
        text = token_text(url)
        for tampered, want in ((text.replace("au_exp=", "au_nbf=1&au_exp="), "bad_signature"),
                               (text.replace("au_pfx=/videos/42/", "au_pfx=/videos/"),
                                "bad_signature"),
                               (text.replace("au_k=7", "au_k=8"), "unknown_key")):
            with self.subTest(tampered=tampered):
                self.assertEqual(reason(with_token(url, raw_token(tampered))), want)

    def test_revocation_rules_match_the_request_path_after_the_token(self):
        verifier = edge_holding(rules=[("/videos/42/hd/", s.STANDING), ("/videos/42/old", T + 1),
                                       ("/~au/", s.STANDING)], ids=[lid(9)])
        token = token_of(s.path_token(link()))
        for rest, want in (("/videos/42/a.ts", "ok"), ("/videos/42/hd/a.ts", "revoked"),
                           ("/videos/42/old", "revoked"), ("/videos/43/a.ts", "resource_mismatch")):
            with self.subTest(rest=rest):
                self.assertEqual(edge_reason(verifier, f"{ORIGIN}/~au/{token}{rest}"), want)
        self.assertEqual(edge_reason(verifier, s.path_token(link(n=9))), "revoked")
        got, parsed = verifier.check_detail(f"{ORIGIN}/~au/{token}/videos/42/b.ts", None, "GET",
                                            None, T + 300)
        self.assertEqual((got, parsed.path), ("stale_bundle", "/videos/42/b.ts"))


if __name__ == "__main__":
    unittest.main()
