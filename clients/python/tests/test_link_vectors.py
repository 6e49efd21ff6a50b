"""Every entry of Tests/Vectors/link-v1.json (docs/link-format.md section 9): the reason, and,
whenever the link parses, the rebuilt signed message and the signature bytes."""
import unittest

from _support import LINK_VECTORS, load_json, unb64

from authority_edge import check_link, check_link_detail

MIN_COUNT = 122   # the file grows with the format (flags-cookie*, path-token-*): at least these


class LinkVectors(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.entries = load_json(LINK_VECTORS)

    def test_file_has_the_vectors(self):
        self.assertIsInstance(self.entries, list)
        self.assertGreaterEqual(len(self.entries), MIN_COUNT)
        self.assertEqual(len({e["name"] for e in self.entries}), len(self.entries))

    def test_every_vector(self):
        passed = 0
        for entry in self.entries:
            with self.subTest(entry["name"]):
                keys = {entry["epoch"]: unb64(entry["public_key"])}
                reason, link = check_link_detail(
                    entry["url"], entry["host"], entry["method"], entry["client_ip"], keys,
                    entry["now"], entry["not_before_leeway"])
                self.assertEqual(reason, entry["reason"])
                self.assertEqual(reason == "ok", entry["valid"])
                self.assertEqual(check_link(entry["url"], entry["host"], entry["method"],
                                            entry["client_ip"], keys, entry["now"],
                                            entry["not_before_leeway"]), reason)
                if entry["signed_message"] is None:
                    self.assertIsNone(link)
                    self.assertIsNone(entry["signature"])
                else:
                    self.assertIsNotNone(link)
                    self.assertEqual(link.message, unb64(entry["signed_message"]))
                    self.assertEqual(link.signature, unb64(entry["signature"]))
                passed += 1
        self.assertEqual(passed, len(self.entries))


if __name__ == "__main__":
    unittest.main()
