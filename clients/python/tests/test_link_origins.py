"""The origins of a link (au_o, docs/link-format.md section 1 "Origins", section 4 the fourteenth
line, section 13), with links signed here (tests/_support.py) by the worked example's key: seed
00 01 .. 1f, epoch 7."""
import re
import unittest

import _support as s

from authority_edge import EdgeVerifier, Malformed, check_link, check_link_detail, parse_link

T = 1_790_000_000
K7 = s.Signer(7, bytes(range(32)))
KEYS = s.jwks((K7, "active"))

EIGHT = ("http://127.0.0.1:8080", "http://[2001:db8::1]:8443", "http://localhost:3000",
         "https://a.example", "https://app.example", "https://app.example:8443",
         "https://player.example.com", "https://xn--caf-dma.example")

MALFORMED = (
    "https://b.example,https://a.example",          # unsorted
    "https://app.example,https://app.example",      # repeated
    "https://app.example:8443,https://app.example",  # unsorted: a prefix sorts first
    ",".join(EIGHT + ("https://z.example",)),        # 9 origins
    "https://app.example/", "https://app.example/x", "https://app.example?x",
    "https://app.example:443/", "https://APP.example", "HTTPS://app.example",
    "Https://app.example", "ftp://app.example", "app.example", "//app.example",
    "https:/app.example", "https://", "https://:443", "https://u@app.example",
    "https://app.example,", ",https://app.example", "https://a.example,,https://b.example", "",
    "https://app.example:0", "https://app.example:08443", "https://app.example:65536",
    "https://app.example:", "https://app.example:443:443", "https://café.example",
    "https://caf%C3%A9.example", "https://\u212aiosk.example", "https%3A%2F%2Fapp.example",
    "https://app.example%2Chttps://b.example", "https://app+example", "https://1.2.3",
    "https://256.1.1.1", "https://01.1.1.1", "https://[2001:DB8::1]", "https://[2001:db8:0::1]",
    "https://[::ffff:c000:201]", "https://2001:db8::1", "https://a..example", "https://.example",
    "https://a_b.example", "https://app.example\n",
)


def lid(n: int) -> bytes:
    return bytes([0x0A] * 12) + n.to_bytes(4, "big")


def exact(n=1, **kw) -> str:
    return s.link(K7, "/files/a.pdf", lid(n), T, T + 900, query="download=1", **kw)


def prefixed(n=1, path="/videos/42/seg1.ts", **kw) -> str:
    return s.link(K7, path, lid(n), T, T + 900, methods="GET", prefix="/videos/42/", **kw)


def reason(url, host=None, method="GET", client_ip=None, now=T + 1):
    return check_link(url, host, method, client_ip, KEYS, now)


def detail(url):
    return check_link_detail(url, None, "GET", None, KEYS, T + 1)


def token_of(target: str) -> str:
    return re.search(r"/~au/([^/?]*)", target).group(1)


def with_token_text(target: str, text: str) -> str:
    return target.replace(token_of(target), s.b64(text.encode()), 1)


class Origins(unittest.TestCase):
    def test_one_origin_signs_a_fourteenth_line(self):
        url = exact(origins="https://app.example")
        self.assertIn("&au_o=https://app.example&au_sig=", url)
        got, parsed = detail(url)
        self.assertEqual(got, "ok")
        self.assertEqual(parsed.origins, ("https://app.example",))
        lines = parsed.message.split(b"\n")
        self.assertEqual(len(lines), 15)   # fourteen lines, each ending in LF
        self.assertEqual(lines[-3:], [b"query=download=1", b"origins=https://app.example", b""])

    def test_without_au_o_thirteen_lines_and_no_origins(self):
        parsed = parse_link(exact())
        self.assertIsNone(parsed.origins)
        self.assertEqual(len(parsed.message.split(b"\n")), 14)
        self.assertNotIn(b"origins=", parsed.message)

    def test_several_origins(self):
        for origins in (EIGHT[3:5], EIGHT[:3], EIGHT):
            text = ",".join(origins)
            for url in (exact(origins=text), prefixed(origins=text)):
                with self.subTest(url=url):
                    got, parsed = detail(url)
                    self.assertEqual(got, "ok")
                    self.assertEqual(parsed.origins, origins)
                    self.assertTrue(parsed.message.endswith(f"\norigins={text}\n".encode()))

    def test_any_position_and_path_token(self):
        url = prefixed(origins="https://app.example,https://b.example")
        piece = re.search(r"&(au_o=[^&]*)", url).group(1)
        moved = url.replace("&" + piece, "").replace("?", f"?x=1&{piece}&", 1)
        self.assertRegex(moved, r"\?x=1&au_o=[^&]*&au_v=1&")
        self.assertEqual(reason(moved), "ok")
        path = s.path_token(url)
        self.assertIn("&au_o=https://app.example,https://b.example&au_sig=",
                      s.unb64(token_of(path)).decode())
        a, b = parse_link(url), parse_link(path)
        self.assertEqual(b.carrier, "path")
        self.assertEqual(b.origins, ("https://app.example", "https://b.example"))
        self.assertEqual(b.message, a.message)
        self.assertEqual(reason(path), "ok")
        token = token_of(path)
        self.assertEqual(reason(f"/~au/{token}/videos/42/hd/s.ts", host="cdn.example.com"), "ok")
        self.assertEqual(reason(path + "?au_o=https://app.example"), "malformed")

    def test_malformed_lists(self):
        for n, origins in enumerate(MALFORMED):
            url = prefixed(n=n, origins=origins)
            with self.subTest(origins=origins):
                if "\n" not in origins:   # a raw LF breaks the target itself
                    self.assertEqual(reason(url), "malformed")
                    with self.assertRaisesRegex(Malformed, "au_o|UTF-8"):
                        parse_link(url)
                self.assertEqual(reason(s.path_token(url)), "malformed")
                with self.assertRaisesRegex(Malformed, "au_o"):
                    parse_link(s.path_token(url))

    def test_repeated_encoded_or_empty_au_o(self):
        url = exact(origins="https://app.example")
        for bad in (url.replace("&au_sig=", "&au_o=https://app.example&au_sig="),
                    url.replace("&au_sig=", "&au_o=https://b.example&au_sig="),
                    url.replace("&au_o=", "&au%5Fo="),
                    url.replace("&au_o=https://app.example", "&au_o"),
                    url.replace("&au_o=https://app.example", "&au_o=")):
            with self.subTest(bad=bad):
                self.assertEqual(reason(bad), "malformed")

    def test_tampering_breaks_the_signature(self):
        one, two, plain = (exact(origins="https://app.example"),
                           exact(origins="https://app.example,https://b.example"), exact())
        for url in (one.replace("au_o=https://app.example", "au_o=https://evil.example"),
                    one.replace("au_o=https://app.example", "au_o=http://app.example"),
                    one.replace("au_o=https://app.example", "au_o=https://app.example:8443"),
                    one.replace("au_o=https://app.example",
                                "au_o=https://app.example,https://evil.example"),
                    two.replace(",https://b.example", ""), two.replace("https://app.example,", ""),
                    one.replace("&au_o=https://app.example", ""),
                    plain.replace("&au_sig=", "&au_o=https://app.example&au_sig=")):
            with self.subTest(url=url):
                self.assertEqual(reason(url), "bad_signature")
        token = s.path_token(prefixed(origins="https://app.example"))
        text = s.unb64(token_of(token)).decode()
        self.assertEqual(reason(with_token_text(token, text)), "ok")
        self.assertEqual(reason(with_token_text(token, text.replace("app.", "evil."))),
                         "bad_signature")
        self.assertEqual(reason(with_token_text(token, re.sub(r"&au_o=[^&]*", "", text))),
                         "bad_signature")

    def test_no_verdict_changes(self):
        url = prefixed(origins="https://app.example")
        self.assertEqual(reason(url, now=T + 900), "expired")
        self.assertEqual(reason(url, method="OPTIONS"), "method_not_allowed")
        self.assertEqual(reason(url, method="HEAD"), "method_not_allowed")
        self.assertEqual(reason(url.replace("/videos/42/seg1", "/videos/43/seg1", 1)),
                         "resource_mismatch")
        self.assertEqual(reason(url, now=T + 1), "ok")

    def test_edge_verifier_keeps_its_verdicts(self):
        verifier = EdgeVerifier(KEYS)
        bundle = s.full(K7, 1, T, T + 300, [(7, "active")], [("/videos/42/hd/", T + 1)], ())
        self.assertEqual(verifier.accept(bundle, T), "ok")
        url = prefixed(origins="https://app.example")
        got, parsed = verifier.check_detail(url, None, "GET", None, T + 1)
        self.assertEqual((got, parsed.origins), ("ok", ("https://app.example",)))
        self.assertEqual(verifier.check(prefixed(path="/videos/42/hd/a.ts",
                                                 origins="https://app.example"),
                                        None, "GET", None, T + 1), "revoked")
        self.assertEqual(verifier.check(prefixed(flags="u", origins="https://app.example"),
                                        None, "GET", None, T + 1), "needs_daemon")

    def test_allowed_origin(self):
        parsed = parse_link(exact(origins="http://localhost:3000,https://app.example"))
        self.assertEqual(parsed.allowed_origin("https://app.example"), "https://app.example")
        self.assertEqual(parsed.allowed_origin("HTTPS://App.Example"), "https://app.example")
        self.assertEqual(parsed.allowed_origin("http://localhost:3000"), "http://localhost:3000")
        for origin in ("http://app.example", "https://app.example:443", "https://app.example/",
                       "http://localhost", "https://\u212aapp.example", "https://app.\u212aexample",
                       "null", "", None):
            with self.subTest(origin=origin):
                self.assertIsNone(parsed.allowed_origin(origin))
        self.assertIsNone(parse_link(exact()).allowed_origin("https://app.example"))


if __name__ == "__main__":
    unittest.main()
