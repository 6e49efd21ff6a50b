"""Generated requests: schema-valid values for every operation of docs/openapi.yaml and
mutations of them, written as exact HTTP/1.1 bytes."""
import urllib.parse

from fuzz_case import Case
from fuzz_values import (AUTH_HEADERS, CONTENT_TYPES, INTEGER_TOKENS, MALFORMED_HTTP, OTHER_METHODS, SEGMENTS,
                         UNKNOWN_NAMES, UNKNOWN_PATHS, Obj, Raw, deep_array, deep_object, dump, every_type_tokens)


ALL_RIGHTS = frozenset(["check", "issue", "revoke", "admin"])


class Generator:
    _table = None

    def __init__(self, spec, context, rng, rights=ALL_RIGHTS):
        self.spec = spec
        self.context = context
        self.rng = rng
        self.rights = rights  # the caller's: a route needing another answers 403 `forbidden`
        self.limit = context.body_limit
        self.exact = None  # set by a mutation whose answer the documents fix

    # -- values -------------------------------------------------------------------------------

    def valid_value(self, name, schema):
        rng, ctx = self.rng, self.context
        schema = self.spec.resolve(schema)
        if name in ("url",):
            if rng.random() < 0.5:
                return self.mutated_link()
            return rng.choice(ctx.urls + ["/files/a.pdf", "/files/a.pdf?au_v=1"])
        if name == "id":
            return rng.choice(ctx.ids + ["AAECAwQFBgcICQoLDA0ODw"])
        if name == "password":
            return rng.choice(["pw", "wrong"])
        if name in ("expires_at",):
            return ctx.now + rng.randint(60, 600000)
        if name in ("not_before", "issued_before"):
            return ctx.now + rng.randint(-100000, 100)
        if name == "prefix" and schema.get("type") == "string":
            return rng.choice(["/files/private/", "/fuzz/", "/", "/files/report%202026.pdf"])
        if name == "reason":
            return rng.choice(["fuzz", "leaked in a ticket"])
        if name == "resource":
            return rng.choice(["/fuzz/a.pdf", "https://cdn.example.com/fuzz/b.pdf?x=1", "/fuzz/dir/"])
        examples = schema.get("examples") or ([schema["example"]] if "example" in schema else [])
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if "enum" in schema:
            return rng.choice(schema["enum"])
        if kind == "array":
            items = self.spec.resolve(schema.get("items", {}))
            pool = items.get("enum") or ["GET"]
            return rng.sample(pool, rng.randint(1, len(pool)))
        if examples and rng.random() < 0.8:
            return rng.choice(examples)
        if kind == "boolean":
            return rng.random() < 0.5
        if kind == "integer":
            low = schema.get("minimum", 0)
            high = schema.get("maximum", max(low, 0) + 604800)
            return rng.randint(low, min(high, low + 604800))
        if kind == "string":
            return rng.choice(["a", "/fuzz/x", "GET"])
        return None

    def mutated_link(self):
        """A real link with one `au_` parameter set to a boundary integer or an odd form, dropped
        or repeated: the numbers a link carries come from outside too."""
        rng = self.rng
        base, _, query = rng.choice(self.context.urls).partition("?")
        pairs = [piece.partition("=")[::2] for piece in query.split("&")]
        names = [n for n, _ in pairs if n.startswith("au_")] + ["au_nbf", "au_f", "au_pfx", "au_h", "au_ip"]
        name = rng.choice(names)
        value = rng.choice(INTEGER_TOKENS + ["", "x", "00001", "1,1", "%31", "+1", "GET,GET", "get", "\u212a"])
        how = rng.random()
        if how < 0.7:
            pairs = [(n, value if n == name else v) for n, v in pairs]
            if name not in [n for n, _ in pairs]:
                pairs.append((name, value))
        elif how < 0.85:
            pairs = [(n, v) for n, v in pairs if n != name]
        else:
            pairs.append((name, value))
        encoded = "&".join(f"{n}={urllib.parse.quote(v, safe='/,:%+')}" for n, v in pairs)
        return f"{base}?{encoded}"

    def any_value(self):
        """A value of any JSON type, from the boundary token pools or a deep nesting."""
        roll = self.rng.random()
        if roll < 0.02:
            return deep_array(10000)
        if roll < 0.03:
            return deep_object(2000)
        return self.rng.choice(every_type_tokens())

    def valid_body(self, op, member=None):
        """A body the schema accepts; with `member`, one whose alternative of required members
        (`oneOf`) allows that member, so that a value put there is judged on its own."""
        schema = op.body_schema
        properties = self.spec.schema_properties(schema)
        alternatives = self.spec.required_sets(schema)
        fitting = [alt for alt in alternatives if member in alt]
        required = self.rng.choice(fitting or alternatives)
        if op.op_id == "revoke" and not required:
            required = ["issued_before"]
        body = Obj()
        for name in properties:
            if name in required:
                body.append((name, self.valid_value(name, properties[name])))
        # Optional members; exclusive ones of a oneOf stay out most of the time.
        exclusive = {n for alt in self.spec.required_sets(schema) for n in alt} - set(required)
        for name, prop in properties.items():
            if name in required:
                continue
            chance = 0.05 if name in exclusive else (0.03 if name == "password" else 0.35)
            if self.rng.random() < chance:
                body.append((name, self.valid_value(name, prop)))
        self.rng.shuffle(body)
        return body

    # -- body mutations -----------------------------------------------------------------------

    def mutate(self, op, body):
        """Returns (label, body bytes or Raw document)."""
        rng = self.rng
        names = list(self.spec.schema_properties(op.body_schema))
        strategy = rng.choice(["valid", "member_type", "member_type", "member_type", "every_member", "integers",
                               "unknown", "duplicate", "many_members", "deep", "huge_string", "top_level",
                               "truncated", "syntax", "empty", "exact_limit", "escaped_names"])
        if strategy == "valid":
            return "valid", dump(body)
        if strategy in ("member_type", "integers"):
            name = rng.choice(names)
            value = Raw(rng.choice(INTEGER_TOKENS)) if strategy == "integers" else self.any_value()
            replaced = Obj((n, v) for n, v in body if n != name)
            replaced.insert(rng.randint(0, len(replaced)), (name, value))
            return f"{strategy} {name}={dump(value)[:40]!r}", dump(replaced)
        if strategy == "every_member":
            return "every_member", dump(Obj((n, self.any_value()) for n in rng.sample(names, rng.randint(1, len(names)))))
        if strategy == "unknown":
            extra = rng.choice(UNKNOWN_NAMES)
            body.insert(rng.randint(0, len(body)), (extra, self.any_value() if rng.random() < 0.5 else 1))
            self.exact = {422: {"request.unknown_field"}, 400: {"body.invalid_json"}, 404: {"route.not_found"}}
            return f"unknown member {extra[:20]!r}", dump(body)
        if strategy == "duplicate":
            name = rng.choice(names)
            first, second = self.valid_value(name, self.spec.schema_properties(op.body_schema)[name]), self.any_value()
            if rng.random() < 0.5:
                first, second = second, first
            doubled = Obj((n, v) for n, v in body if n != name) + Obj([(name, first), (name, second)])
            return f"duplicate {name}", dump(doubled)
        if strategy == "many_members":
            same = rng.random() < 0.5
            member = b'"' + (rng.choice(names).encode() if same else b"") + b'":0,'
            count = (self.limit - 64) // len(member)
            text = b"{" + member * count + dump(body)[1:] if len(body) else b"{" + member * count + b'"a":0}'
            return f"{count} tiny members ({'repeated known' if same else 'empty names'})", text
        if strategy == "deep":
            depth = rng.choice([100, 1000, 10000])
            nested = deep_array(depth) if rng.random() < 0.5 else deep_object(min(depth, 10000))
            if rng.random() < 0.5:
                return f"top-level nesting {depth}", dump(nested)
            name = rng.choice(names)
            return f"nesting {depth} in {name}", dump(Obj((n, v) for n, v in body if n != name) + Obj([(name, nested)]))
        if strategy == "huge_string":
            name = rng.choice(names)
            base = len(dump(Obj((n, v) for n, v in body if n != name) + Obj([(name, "")])))
            size = rng.choice([self.limit - base, self.limit - base + 1, self.limit - base - 1, 2 * self.limit, 1 << 20])
            filler = rng.choice(["a", "\u212a", "\u00e9", "/"])
            count = max(0, size // len(filler.encode()))
            return (f"string of {size} bytes in {name}",
                    dump(Obj((n, v) for n, v in body if n != name) + Obj([(name, filler * count)])))
        if strategy == "top_level":
            top = rng.choice([b"[]", b"null", b"true", b"0", b'"x"', b"[" + dump(body) + b"]", b"-1", b"1e3", b'""'])
            return f"top level {top[:20]!r}", top
        if strategy == "truncated":
            text = dump(body)
            cut = rng.randint(0, max(0, len(text) - 1))
            return f"truncated at {cut}", text[:cut]
        if strategy == "syntax":
            text = dump(body)
            form = rng.choice(["trailing garbage", "two objects", "bom", "comment", "single quotes", "trailing comma",
                               "nan", "leading zeros", "unquoted", "whitespace", "nul byte", "utf16"])
            mutated = {
                "trailing garbage": text + b"x", "two objects": text + text, "bom": b"\xef\xbb\xbf" + text,
                "comment": b"/* c */" + text, "single quotes": text.replace(b'"', b"'"),
                "trailing comma": text[:-1] + b",}", "nan": b'{"ttl":NaN,"expires_at":Infinity}',
                "leading zeros": b'{"ttl":0900,"resource":"/a"}', "unquoted": b"{resource:1}",
                "whitespace": b" \t\r\n" + text + b"\n\n", "nul byte": text + b"\x00",
                "utf16": text.decode("utf-8", "replace").encode("utf-16"),
            }[form]
            return f"syntax: {form}", mutated
        if strategy == "empty":
            return "empty body", rng.choice([b"", b" ", b"\n"])
        if strategy == "exact_limit":
            text = dump(body)
            pad = self.limit - len(text) + rng.choice([0, 1])
            return f"body of {len(text) + max(pad, 0)} bytes (limit {self.limit})", b" " * max(pad, 0) + text
        # escaped_names: known names written with \\u escapes: the same member to any JSON parser
        escaped = b"{" + b",".join(b'"' + "".join(f"\\u{ord(c):04x}" for c in n).encode() + b'":' + dump(v)
                                   for n, v in body) + b"}"
        return "names as \\u escapes", escaped

    # -- cases --------------------------------------------------------------------------------

    def lacks(self, op):
        return op.right != "none" and op.right not in self.rights and "admin" not in self.rights  # admin implies all

    def epoch_segment(self):
        rng = self.rng
        return rng.choice(["1", "2", "3", "0", "99999"] + [t for t in INTEGER_TOKENS if t.isdigit()] + ["01", "007"])

    def target_for(self, op):
        path = op.path
        if "{epoch}" in path:
            path = path.replace("{epoch}", self.epoch_segment())
        return path

    def body_case(self, op):
        body = self.valid_body(op)
        label, data = self.mutate(op, body)
        headers = []
        roll = self.rng.random()
        if roll < 0.7:
            headers.append(("Content-Type", "application/json"))
        elif roll < 0.85:
            content_type = self.rng.choice(CONTENT_TYPES)
            if content_type is not None:
                headers.append(("Content-Type", content_type))
            label += f" content-type {content_type!r}"
        if self.rng.random() < 0.1:
            headers.append(("Transfer-Encoding", "chunked"))
            data = self.chunked(data)
            label += " chunked"
        target = self.target_for(op)
        exact = self.exact if 0.85 <= roll or roll < 0.7 else None  # a wrong Content-Type may come first
        if exact is not None and self.lacks(op):
            exact = None
        self.exact = None
        return Case(f"{op.method} {target} {label}", op, op.method, target, headers, data, lacks_right=self.lacks(op),
                    exact=exact)

    def chunked(self, data):
        out, index = b"", 0
        while index < len(data):
            size = self.rng.randint(1, 4096)
            piece = data[index:index + size]
            out += b"%x\r\n" % len(piece) + piece + b"\r\n"
            index += size
        return out + b"0\r\n\r\n"

    def query_case(self, op):
        rng = self.rng
        names = [p["name"] for p in op.parameters if p.get("in") == "query"] + ["x"]
        pieces = []
        for _ in range(rng.randint(0, 4)):
            name = rng.choice(names)
            value = rng.choice(INTEGER_TOKENS + ["", "abc", "%31", "1%00", "+1", " 1", "1 ", "%2B1", "\u0661",
                                                 "\uff11", "0x10", "%", "%zz", "1&", "=1"])
            quote = rng.random()
            if quote < 0.5:
                value = urllib.parse.quote(value, safe="")
            elif quote < 0.6:
                value = value.encode("utf-8")  # raw bytes in the request target
            pieces.append((name, value))
        parts = [n.encode() + b"=" + (v if isinstance(v, bytes) else v.encode()) for n, v in pieces]
        query = b"&".join(parts)
        if rng.random() < 0.1:
            query = rng.choice([b"", b"&&", b"limit", b"limit=", b"after=1&after=-1&limit=1&limit=1001"])
        target = op.path.encode() + b"?" + query
        headers, body = [], None
        if rng.random() < 0.15:  # a body on a GET
            body = rng.choice([b"{}", b'{"limit":5}', b"x" * rng.choice([10, self.limit, self.limit + 1])])
            headers.append(("Content-Type", rng.choice(["application/json", "text/plain"])))
        return Case(f"{op.label} ?{query[:60]!r}" + (f" with a {len(body)}-byte body" if body else ""),
                    op, op.method, target, headers, body, lacks_right=self.lacks(op),
                    may_be_malformed=any(byte <= 0x20 or byte > 0x7E for byte in target))

    def bodyless_case(self, op):
        """GET routes and rotate: with no body, a body, a huge body, odd content types."""
        rng = self.rng
        headers, body = [], None
        roll = rng.random()
        if roll < 0.4:
            body = rng.choice([b"{}", b'{"force":true}', b"not json", b"[" * 1000])
            content_type = rng.choice(CONTENT_TYPES)
            if content_type is not None:
                headers.append(("Content-Type", content_type))
        elif roll < 0.55:
            body = b"{" + b" " * rng.choice([self.limit - 2, self.limit - 1, self.limit + 5]) + b"}"
        target = self.target_for(op)
        label = f"{op.method} {target} " + (f"with a {len(body)}-byte body {headers}" if body is not None else "no body")
        return Case(label, op, op.method, target, headers, body, lacks_right=self.lacks(op))

    def retire_case(self, op):
        rng = self.rng
        roll = rng.random()
        if roll < 0.5:
            case = self.body_case(op)
        else:
            body = rng.choice([None, b"", b'{"force":true}', b'{"force":false}', b"{}"])
            target = self.target_for(op)
            case = Case(f"{op.method} {target} body {body!r}", op, op.method, target,
                        [("Content-Type", "application/json")] if body else [], body, lacks_right=self.lacks(op))
        return case

    def forward_auth_case(self, op):
        rng = self.rng
        method = rng.choice(OTHER_METHODS + ["GET"] * 4)
        # One endpoint per proxy (docs/proxies.md); the Envoy form carries the original path.
        path = op.path.replace("/{path}", "")
        if op.path == "/v1/auth" or "{path}" in op.path or rng.random() < 0.1:
            path += rng.choice(["/files/a.pdf", "/", "/files/report%202026.pdf?download=1&au_v=1",
                                "/" + rng.choice(self.context.urls).split("/", 3)[-1],
                                "/" + self.mutated_link().lstrip("/").split("://", 1)[-1].split("/", 1)[-1]])
        headers = []
        for _ in range(rng.randint(0, 5)):
            name = rng.choice(AUTH_HEADERS)
            value = rng.choice(self.context.urls + [self.mutated_link()] * 4 + [
                "", "/files/a.pdf", "GET", "203.0.113.7", "203.0.113.7, 198.51.100.2", "999.999.1.1",
                "authority_unlock=" + "A" * 100, "cdn.example.com", "\u212a".encode("utf-8"), b"\xff\xfe",
                "x" * rng.choice([100, 8000, 60000]), "/files/%zz?au_v=1&au_sig=", "::1", "[::1]:80"])
            headers.append((name, value))
        body = None
        if rng.random() < 0.2:
            body = rng.choice([b"{}", b"x" * 100, b"x" * (self.limit + 1)])
        if method == "HEAD":
            method = "GET"  # a HEAD answer has no body to check either way
        case = Case(f"{method} {path} forward auth {[(n, str(v)[:30]) for n, v in headers]}"
                    + (f" body {len(body)} bytes" if body else ""), op, method, path, headers, body)
        # NIO's parser refuses a head over 80 KiB before any route is known: 400 `http.malformed`.
        if sum(len(name) + len(value) + 4 for name, value in headers) > 78 * 1024:
            case.oversized_head = True
            case.may_be_malformed = True
        return case

    def method_case(self):
        rng = self.rng
        path = rng.choice([p for p in self.spec.allow if not (p == "/v1/auth" or p.startswith("/v1/auth/"))])
        allow = self.spec.allow[path]
        method = rng.choice([m for m in OTHER_METHODS if m not in allow and m != "HEAD"])
        target = path.replace("{epoch}", "1")
        body = rng.choice([None, b"{}"])
        return Case(f"{method} {target} (allowed {allow})", None, method, target,
                    [("Content-Type", "application/json")] if body else [], body, expect="405")

    def unknown_path_case(self):
        rng = self.rng
        path = rng.choice(UNKNOWN_PATHS)
        method = rng.choice(["GET", "POST", "PUT"])
        body = b"{}" if method != "GET" else None
        return Case(f"{method} {path[:60]} (no such path)", None, method, urllib.parse.quote(path, safe="/%;"),
                    [("Content-Type", "application/json")] if body else [], body, expect="404")

    def malformed_case(self):
        raw = self.rng.choice(MALFORMED_HTTP)
        health = self.spec.by_id["health"]
        links = self.spec.by_id["issueLink"]
        op = links if raw.startswith(b"POST /v1/links") else health
        return Case(f"malformed HTTP {raw[:50]!r}", op, "GET", "", [], None, raw=raw, expect="http",
                    lacks_right=self.lacks(op))

    @staticmethod
    def table(spec):
        """Every (operation, member or query parameter, token) pair: the systematic part of a run,
        walked at even iterations before the random cases take over."""
        rows = []
        tokens = every_type_tokens()
        for op in spec.operations:
            if op.body_schema is not None:
                for name in spec.schema_properties(op.body_schema):
                    rows += [("member", op, name, token) for token in tokens]
            for parameter in op.parameters:
                if parameter.get("in") in ("query", "path"):
                    rows += [("parameter", op, parameter["name"], token) for token in INTEGER_TOKENS + SEGMENTS]
        return rows

    def table_case(self, row):
        kind, op, name, token = row
        if kind == "member":
            body = Obj((n, v) for n, v in self.valid_body(op, member=name) if n != name)
            body.insert(self.rng.randint(0, len(body)), (name, token))
            target = self.target_for(op)
            return Case(f"{op.method} {target} {name}={token.data[:40]!r}", op, op.method, target,
                        [("Content-Type", "application/json")], dump(body), lacks_right=self.lacks(op))
        encoded = urllib.parse.quote(token, safe="")
        if name == "epoch":
            target = op.path.replace("{epoch}", encoded)
            body, headers = None, []
        else:
            target = f"{op.path}?{name}={encoded}"
            body, headers = None, []
        return Case(f"{op.method} {target}", op, op.method, target, headers, body, lacks_right=self.lacks(op))

    def pipelined_case(self):
        """Two to four requests in one write on one connection: one answer each, in order, until
        an answer that closes (413, 400 `http.malformed`)."""
        rng = self.rng
        makers = [lambda: self.body_case(self.spec.by_id[rng.choice(["issueLink", "checkLink", "revoke", "explainLink"])]),
                  lambda: self.bodyless_case(self.spec.by_id[rng.choice(["health", "listKeys", "metrics"])]),
                  lambda: self.query_case(self.spec.by_id[rng.choice(["listRevocations", "listAudit"])]),
                  self.method_case, self.unknown_path_case]
        parts = [rng.choice(makers)() for _ in range(rng.randint(2, 4))]
        if rng.random() < 0.3:
            parts[-1] = self.malformed_case()
        for part in parts[:-1]:
            part.raw = part.render(close=False)
        pipeline = Case("pipelined: " + " | ".join(p.label[:60] for p in parts), None, "GET", "", [], None,
                        raw=b"".join(p.raw for p in parts), expect="pipeline")
        pipeline.parts = parts
        return pipeline

    def case(self, index):
        if index % 2 == 0:
            if self._table is None:
                Generator._table = self.table(self.spec)
            if index // 2 < len(self._table):
                return self.table_case(self._table[index // 2])
        ops = self.spec.operations
        kinds = ["op", "op", "op", "op", "op", "op", "method", "path", "malformed", "pipeline"]
        kind = kinds[index % len(kinds)] if index < 4 * len(kinds) else self.rng.choice(kinds)
        if kind == "method":
            return self.method_case()
        if kind == "path":
            return self.unknown_path_case()
        if kind == "malformed":
            return self.malformed_case()
        if kind == "pipeline":
            return self.pipelined_case()
        op = ops[index % len(ops)] if index < 3 * len(ops) else self.rng.choice(ops)
        if op.forward_auth:
            case = self.forward_auth_case(op)
        elif op.op_id == "retireKey":
            case = self.retire_case(op)
        elif any(p.get("in") == "query" for p in op.parameters) and self.rng.random() < 0.8:
            case = self.query_case(op)
        elif op.body_schema is not None:
            case = self.body_case(op)
        else:
            case = self.bodyless_case(op)
        case.half_close = self.rng.random() < 0.05
        if case.half_close:
            case.label += " (then the write side shut)"
        return case
