"""JSON as raw text, so that the fuzzer can write what `json.dumps` cannot: duplicate members,
number tokens exactly as given (`1e3`, `-0.0`, 2^64), escapes of lone surrogates, invalid UTF-8."""
import json


class Raw:
    """Bytes written into the JSON text as they are."""

    def __init__(self, data):
        self.data = data if isinstance(data, bytes) else data.encode("utf-8", "surrogatepass")

    def __repr__(self):
        return f"Raw({self.data[:40]!r}{'…' if len(self.data) > 40 else ''})"


class Obj(list):
    """A JSON object as a list of (name, value) pairs: order kept, duplicates allowed."""

    def names(self):
        return [name for name, _ in self]


def dump(value):
    if isinstance(value, Raw):
        return value.data
    if isinstance(value, Obj):
        return b"{" + b",".join(dump(name) + b":" + dump(member) for name, member in value) + b"}"
    if isinstance(value, dict):
        return dump(Obj(value.items()))
    if isinstance(value, (list, tuple)):
        return b"[" + b",".join(dump(item) for item in value) + b"]"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")
    if value is None:
        return b"null"
    if value is True:
        return b"true"
    if value is False:
        return b"false"
    if isinstance(value, int):
        return str(value).encode()
    return repr(value).encode()


# Integers at every boundary that matters to Int32, UInt32, Double, Int64 and UInt64, and number
# tokens a strict integer decoder must refuse or bound, written raw.
INTEGER_TOKENS = [
    "0", "-1", "1", "2147483647", "2147483648", "-2147483649", "4294967295", "4294967296",
    "9007199254740992", "9007199254740993", "9223372036854775807", "9223372036854775808",
    "-9223372036854775808", "-9223372036854775809", "18446744073709551615", "18446744073709551616",
    "1e308", "1e309", "-1e309", "-0.0", "-0", "1.5", "1e3", "1E3", "1e+3", "1e-3", "0.0", "100.0",
    "604800", "604801", "1000000000", "1000000001", "99999999999999999999999999999999999999",
    "0.0000000000000000000000000001", "1e-400", "9223372036854775807.0", "9.223372036854775807e18",
]

# Strings: empty, non-ASCII (Kelvin sign, fullwidth, RTL, combining), escapes of NUL and of
# lone surrogates, raw invalid UTF-8, traversal, control characters.
STRING_TOKENS = [
    b'""', b'" "', '"\u212a"'.encode(), '"\uff0f\uff46\uff49\uff4c\uff45\uff53\uff0f"'.encode(),
    '"/files/\u202eevil\u200f.pdf"'.encode(), '"e\u0301\u0301\u0301"'.encode(), b'"\\u0000"',
    b'"/files/a\\u0000.pdf"', b'"\\ud800"', b'"\\udc00\\ud800"', b'"\\uDBFF\\uDFFF"', b'"\xff\xfe"',
    b'"\xc0\xaf"', b'"\xed\xa0\x80"', b'"\xf4\x90\x80\x80"', b'"\x80"', '"\U0001f600"'.encode(),
    b'"/../../etc/passwd"', b'"/files/%2e%2e/%2F"', b'"%00"', b'"%"', b'"\\/files\\/a"',
    b'"\x01"', b'"\t"', b'"a\\nb"', b'"\\x41"', b'"\\u004"', b'"GET"', b'"get"', b'"\\u0047ET"',
    '"G\u0395T"'.encode(), b'"https://"', b'"http://[::1"', b'"javascript:alert(1)"',
    b'"203.0.113.0/33"', b'"::ffff:203.0.113.7"', b'"999.1.1.1"', b'"203.0.113.7%eth0"',
    b'"/' + b'a' * 4000 + b'"', b'"' + '\u212a'.encode() * 1000 + b'"',
]

OTHER_TOKENS = [
    b"null", b"true", b"false", b"[]", b"{}", b'[1,"a",null]', b'{"a":1}', b'["GET"]', b'[[]]',
    b"[" * 64 + b"]" * 64, b'{"a":' * 64 + b"0" + b"}" * 64,
]


def every_type_tokens():
    return [Raw(t) for t in INTEGER_TOKENS] + [Raw(t) for t in STRING_TOKENS] + [Raw(t) for t in OTHER_TOKENS]


def deep_array(depth):
    return Raw(b"[" * depth + b"]" * depth)


def deep_object(depth):
    return Raw(b'{"a":' * depth + b"0" + b"}" * depth)
