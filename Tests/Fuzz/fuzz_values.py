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


# Requests around the bodies: media types, member names and paths that do not exist, methods,
# forward-auth headers, and HTTP that is not HTTP/1.1.
CONTENT_TYPES = [
    None, "application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "application/json;",
    " application/json ", "text/plain", "application/x-www-form-urlencoded", "application/json-patch+json",
    "application/jsonx", "", "multipart/form-data; boundary=x", "application/json, text/plain", "*/*",
    "application/\u212ason",
]

UNKNOWN_NAMES = ["max_use", "", "__proto__", "TTL", "Resource", "ttl ", " ttl", "\u212a", "resource\u0000",
                 "\uff52\uff45\uff53\uff4f\uff55\uff52\uff43\uff45", "x" * 300, "id\u0301", "forced", "constructor"]

UNKNOWN_PATHS = ["/", "/v1", "/v1/", "/v1/links/", "/v1/Links", "/V1/health", "/v1/health/", "//v1/health",
                 "/v1/health%00", "/v1/%68ealth", "/v2/links", "/v1/keys/", "/v1/keys//retire", "/v1/keys/1/retire/",
                 "/v1/keys/1", "/v1/keys/abc/retire", "/v1/keys/-1/retire", "/v1/keys/1.0/retire", "/v1/keys/%31/retire",
                 "/v1/keys/\uff11/retire", "/v1/keys/18446744073709551616/retire", "/metrics/", "/v1/revocations/", "/v1/revocations//1",
                 "/v1/links/check/", "/v1/health;x", "/v1/au", "/v1/authx", "/" + "a" * 5000]

OTHER_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE", "FOO", "M-SEARCH", "PROPFIND"]

AUTH_HEADERS = ["X-Original-URI", "X-Original-Method", "X-Original-Host", "X-Forwarded-Uri", "X-Forwarded-Method",
                "X-Forwarded-Host", "X-Forwarded-Proto", "X-Real-IP", "X-Forwarded-For", "Cookie", "Host"]

MALFORMED_HTTP = [
    b"GARBAGE\r\n\r\n",
    b"GET /v1/health HTTP/9.9\r\nHost: x\r\n\r\n",
    b"GET  /v1/health HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nHost x\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nHo st: x\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nHost: x\x00y\r\n\r\n",
    b"GET /v1/he alth HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/health\xff HTTP/1.1\r\nHost: x\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"POST /v1/links HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    b"POST /v1/links HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/links HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n{}\r\n0\r\n\r\n",
    b"POST /v1/links HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}XX0\r\n\r\n",
    b"POST /v1/links HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\nX: " + b"a" * 90000 + b"\r\n\r\n",
    b"GET /v1/health HTTP/1.1\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(3000)) + b"\r\n",
    b"GET /v1/health HTTP/1.1\r\n folded: x\r\n\r\n",
    b"GET /" + b"a" * 90000 + b" HTTP/1.1\r\n\r\n",
    b"\r\n\r\nGET /v1/health HTTP/1.1\r\n\r\n",
    b"GET /v1/health HTTP/1.1\nHost: x\n\n",
    b"GET /v1/health HTTP/1.0\r\n\r\n",
    b"GET /v1/health\r\n\r\n",
    b"GET http://localhost/v1/health HTTP/1.1\r\n\r\n",
    b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + b"\x00" * 32 + b"\r\n\r\n",
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
]

SEGMENTS = ["", "abc", "\u0661", "\uff11", "01", "+1", " 1", "0x10", "%", "1%00", "\u212a"]
