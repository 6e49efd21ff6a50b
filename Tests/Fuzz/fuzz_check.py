"""The properties every answer must have, and the list of failures (deduplicated by
operation, status and kind, keeping the smallest reproducing request)."""
import json


def _strict_object(pairs):
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise ValueError(f"duplicate member in {names}")
    return dict(pairs)


def allowed_for(spec, case):
    """status -> the error codes allowed (None where the answer is not an error)."""
    generic = {413: {"body.too_large"}, 400: {"http.malformed"}}
    if getattr(case, "unparsed_method", False) or getattr(case, "oversized_head", False):
        return {400: {"http.malformed"}}
    if case.expect == "404":
        return {404: spec.not_found, **generic}
    if case.expect == "405":
        return {405: spec.method_not_allowed, **generic}
    op = case.op
    if case.lacks_right:
        # Oversized and malformed requests are refused before routing, and a segment that is not
        # an epoch is no route at all; everything else needs the right first.
        allowed = {403: {"forbidden"}}
        for status, codes in ((400, generic[400]), (413, generic[413]), (404, spec.not_found)):
            if status in op.statuses:
                allowed[status] = codes
        return allowed
    return dict(op.statuses)


def check_exchange(spec, case, answer, alive):
    """Returns a list of (kind, detail); empty when every property holds."""
    if not alive:
        return [("crash", "the daemon died on this request")]
    if answer.error is not None:
        kind = {"timeout": "hang", "no answer": "no-answer"}.get(answer.error, "broken-answer")
        if case.half_close and kind == "no-answer":
            kind = "no-answer-after-half-close"
        return [(kind, f"{answer.error}; got {answer.raw[:120]!r}")]
    problems = []
    status = answer.status
    allowed = allowed_for(spec, case)
    if status == 500:
        problems.append(("500", answer.body[:300].decode("utf-8", "replace")))
    elif status not in allowed:
        problems.append(("undocumented-status",
                         f"{status} is not documented for {case.key} (documented: {sorted(allowed)}); "
                         f"body {answer.body[:200]!r}"))
    forward_auth = case.op is not None and case.op.forward_auth and case.expect == "op"
    if forward_auth and status in (204, 401, 403):
        if answer.body:
            problems.append(("auth-body", f"forward auth answered {status} with a {len(answer.body)}-byte body"))
        if not answer.header("X-Authority-Reason"):
            problems.append(("auth-reason", f"forward auth answered {status} without X-Authority-Reason"))
    elif status is not None and status >= 400:
        problems += check_error_body(spec, answer, allowed.get(status))
    elif status is not None and 200 <= status < 300 and case.op is not None:
        problems += check_success_body(spec, case.op, answer)
    if status == 400 and status in allowed and not case.may_be_malformed and b"http.malformed" in answer.body:
        problems.append(("malformed-on-valid-http", f"400 http.malformed for a well-formed request ({case.label[:80]})"))
    if case.exact is not None and status in allowed and status not in case.exact:
        problems.append(("not-refused", f"{status} where only {sorted(case.exact)} is right ({case.label[:80]}): "
                                        f"{answer.body[:160]!r}"))
    elif case.exact is not None and status in case.exact and case.exact[status] and status >= 400:
        code = _code(answer.body)
        if code not in case.exact[status]:
            problems.append(("not-refused", f"{status} {code!r} where {sorted(case.exact[status])} is right"))
    if status == 403 and not case.lacks_right and not forward_auth and status in allowed:
        problems.append(("forbidden-with-right", f"403 for a caller that has the {case.op.right} right: {answer.body[:160]!r}"))
    cache = answer.header("Cache-Control")
    documented = case.op.cache_control.get(status, "no-store") if case.op is not None else "no-store"
    if status is not None and not forward_auth and cache != documented:
        problems.append(("cache-control", f"Cache-Control {cache!r} on {status}, documented {documented}"))
    if status == 405 and case.expect == "405":
        path = next((p for p in spec.allow if p.replace("{epoch}", "1") == case.target), None)
        expected = ", ".join(spec.allow.get(path, []))
        if answer.header("Allow") != expected:
            problems.append(("allow-header", f"Allow: {answer.header('Allow')!r}, documented {expected!r}"))
    if status in (413,) and (answer.header("Connection") or "").lower() != "close":
        problems.append(("no-close", f"{status} without Connection: close"))
    return problems


def _code(body):
    try:
        return json.loads(body)["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None


def check_pipeline(spec, case, answers, alive):
    """One answer per pipelined request, in order, each with every property of a lone answer,
    until one that closes the connection. Returns (kind, detail, that request's answer)."""
    problems = []
    # A death is charged to the first request left without an answer (else the last one).
    dying = next((number for number, answer in enumerate(answers, 1) if answer.error), len(answers))
    for number, part in enumerate(case.parts, 1):
        answer = answers[number - 1] if number <= len(answers) else answers[-1]
        where = f"request {number} of {len(case.parts)} ({part.label[:80]})"
        for kind, detail in check_exchange(spec, part, answer, alive or number != dying):
            problems.append((f"pipelined {kind}", f"{where}: {detail}", answer))
        if answer.error or (answer.header("Connection") or "").lower() == "close":
            break
    return problems


def check_error_body(spec, answer, codes):
    """Exactly {"error":{"code":<documented string>,"message":<non-empty string>}} as JSON."""
    media = (answer.header("Content-Type") or "").split(";")[0].strip().lower()
    if media != "application/json":
        return [("error-content-type", f"Content-Type {answer.header('Content-Type')!r} on {answer.status}")]
    try:
        document = json.loads(answer.body.decode("utf-8"), object_pairs_hook=_strict_object)
    except (UnicodeDecodeError, ValueError) as error:
        return [("error-body", f"not JSON ({error}): {answer.body[:200]!r}")]
    error = document.get("error") if isinstance(document, dict) else None
    if (not isinstance(document, dict) or set(document) != {"error"} or not isinstance(error, dict)
            or set(error) != {"code", "message"} or not isinstance(error["code"], str)
            or not isinstance(error["message"], str) or not error["message"]):
        return [("error-body", f"not {{\"error\":{{\"code\",\"message\"}}}}: {answer.body[:200]!r}")]
    problems = []
    code = error["code"]
    if codes is not None and code not in codes:
        problems.append(("error-code", f"code {code!r} on {answer.status}; documented there: {sorted(codes)}"))
    elif spec.code_status.get(code) not in (None, answer.status):
        problems.append(("error-code", f"code {code!r} belongs to {spec.code_status[code]}, answered {answer.status}"))
    return problems


def check_success_body(spec, op, answer):
    forms = op.answer_schemas.get(answer.status)
    if not forms:
        return []
    got = (answer.header("Content-Type") or "").split(";")[0].strip().lower()
    media = next((m for m in forms if m.split(";")[0].strip().lower() == got), None)
    if media is None:
        return [("answer-content-type", f"Content-Type {answer.header('Content-Type')!r}, documented {sorted(forms)!r}")]
    schema = forms[media]
    if media != "application/json":
        return []
    try:
        document = json.loads(answer.body.decode("utf-8"), object_pairs_hook=_strict_object)
    except (UnicodeDecodeError, ValueError) as error:
        return [("answer-body", f"not JSON ({error}): {answer.body[:200]!r}")]
    required = (schema or {}).get("required", [])
    missing = [name for name in required if not isinstance(document, dict) or name not in document]
    if missing:
        return [("answer-body", f"missing members {missing}: {answer.body[:200]!r}")]
    return []


def _show(data, limit=300):
    text = repr(data[:limit])
    return text + (f" … ({len(data)} bytes)" if len(data) > limit else "")


class Failures:
    """Deduplicated by operation + status + kind; keeps the smallest request of each."""

    def __init__(self):
        self.groups = {}
        self.count = 0

    def add(self, case, answer, kind, detail, seed, index, phase):
        key = (case.key, answer.status, kind)
        self._add(key, {"operation": case.key, "status": answer.status, "kind": kind, "detail": detail,
                        "label": case.label[:200], "request": case.raw[:4000].decode("latin-1"),
                        "size": len(case.raw), "seed": seed, "index": index, "phase": phase})

    def add_plain(self, operation, status, kind, detail, seed, index, phase):
        self._add((operation, status, kind), {"operation": operation, "status": status, "kind": kind, "detail": detail,
                                              "label": detail, "request": "", "size": 0, "seed": seed, "index": index,
                                              "phase": phase})

    def _add(self, key, entry):
        self.count += 1
        group = self.groups.get(key)
        if group is None:
            entry["occurrences"] = 1
            self.groups[key] = entry
            return
        entry["occurrences"] = group["occurrences"] + 1
        if entry["size"] < group["size"]:
            self.groups[key] = entry
        else:
            group["occurrences"] = entry["occurrences"]

    def merge(self, other):
        for key, entry in other.groups.items():
            if key in self.groups:
                self.groups[key]["occurrences"] += entry["occurrences"]
            else:
                self.groups[key] = entry
        self.count += other.count

    def export(self):
        return [[list(key), entry] for key, entry in self.groups.items()]

    @classmethod
    def imported(cls, rows):
        failures = cls()
        for key, entry in rows:
            failures.groups[tuple(key)] = entry
            failures.count += entry["occurrences"]
        return failures

    def report(self, out):
        if not self.groups:
            return
        print(f"\n{len(self.groups)} distinct failures ({self.count} in all):", file=out)
        order = {"crash": 0, "hang": 1, "no-answer": 2, "500": 3}
        for key in sorted(self.groups, key=lambda k: (order.get(k[2], 9), k[0], str(k[1]))):
            entry = self.groups[key]
            replay = f"--seed {entry['seed']} --phase {entry['phase']} --replay {entry['index']}"
            print(f"FAIL {entry['kind']}: {entry['operation']} -> {entry['status']} [{entry['phase']}] "
                  f"(x{entry['occurrences']}; replay: {replay})", file=out)
            print(f"     {entry['detail'][:400]}", file=out)
            if entry["request"]:
                print(f"     request ({entry['label'][:120]}): {_show(entry['request'].encode('latin-1'))}", file=out)
