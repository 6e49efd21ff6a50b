#!/usr/bin/env python3
"""Checks docs/openapi.yaml against the OpenAPI 3.1 schema and against docs/api.md.

    python3 check_openapi.py [path/to/openapi.yaml [path/to/api.md]]

Checks:
- the document validates (openapi-spec-validator);
- every route of api.md's headings (### `METHOD /path...`) is an operation of openapi.yaml, and
  every operation of openapi.yaml is such a route;
- each operation's x-authority-right is the right named in the heading (`none` when no right is
  needed), and each path item's x-allow lists exactly its operations;
- the ErrorCode enum is exactly the set of codes of api.md's error table, and every error answer
  of an operation names only codes that api.md gives its status;
- every member of an answer schema (the JSON of a 2xx answer, and every schema it refers to) is
  `required`: answers always carry every member, null when absent;
- every example of a request or answer validates against its schema.

The last line printed is "N passed, M failed". Exit status: 0 when M == 0, 1 otherwise, 2 when a
file is missing or cannot be read.

Needs openapi-spec-validator and PyYAML (pip install openapi-spec-validator pyyaml).
"""
from __future__ import annotations

import os
import re
import sys

import yaml
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
RIGHTS = {"none", "check", "issue", "revoke", "admin"}
HEADING = re.compile(r"^###\s+`([A-Z]+)\s+(/[^`?\s]*)(?:\?[^`]*)?`(.*)$")

passed = 0
failed = 0


def check(ok: bool, what: str) -> None:
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print(f"FAIL: {what}")


def routes_of_api_md(text: str) -> dict[tuple[str, str], str]:
    """(METHOD, path) -> right named in the heading ("none" when it needs none)."""
    routes: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        match = HEADING.match(line)
        if not match:
            continue
        method, path, rest = match.groups()
        right = re.search(r"\(`(check|issue|revoke|admin)`\)\s*$", rest)
        routes[(method, path)] = right.group(1) if right else "none"
    return routes


def api_md_error_table(text: str) -> dict[str, str]:
    """code -> status, from api.md's error table."""
    rows = re.findall(r"^\|\s*(\d{3})\s*\|\s*`([^`]+)`\s*\|", text, flags=re.MULTILINE)
    return {code: status for status, code in rows}


def api_md_error_codes(text: str) -> set[str]:
    return set(api_md_error_table(text))


def resolve(doc: dict, node: dict) -> dict:
    """Follows local $refs (#/...) until a node without one."""
    seen = set()
    while isinstance(node, dict) and "$ref" in node and node["$ref"].startswith("#/") and node["$ref"] not in seen:
        seen.add(node["$ref"])
        target = doc
        for part in node["$ref"][2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def error_codes_of(doc: dict, schema: dict) -> set[str]:
    """The codes an error answer's schema allows via error.code const/enum (empty: unconstrained)."""
    codes: set[str] = set()
    schema = resolve(doc, schema)
    if not isinstance(schema, dict):
        return codes
    for part in schema.get("allOf", []):
        codes |= error_codes_of(doc, part)
    code = (((schema.get("properties") or {}).get("error") or {}).get("properties") or {}).get("code")
    if isinstance(code, dict):
        if "const" in code:
            codes.add(code["const"])
        codes |= set(code.get("enum", []))
    return codes


def operations(doc: dict):
    """(path, method, operation) for every operation of the document."""
    for path, item in (doc.get("paths") or {}).items():
        for method in METHODS:
            op = item.get(method)
            if op:
                yield path, method, op


def answers(doc: dict, wanted):
    """(path, method, status, resolved response) for every answer whose status text `wanted` accepts."""
    for path, method, op in operations(doc):
        for status, response in (op.get("responses") or {}).items():
            if wanted(str(status)):
                yield path, method, status, resolve(doc, response)


def check_error_statuses(doc: dict, table: dict[str, str]) -> None:
    """Each error answer of an operation allows only codes that api.md's table gives its status."""
    for path, method, status, response in answers(doc, lambda s: s.isdigit() and int(s) >= 400):
        for media, body in (response.get("content") or {}).items():
            codes = error_codes_of(doc, body.get("schema") or {})
            wrong = sorted(c for c in codes if table.get(c) != str(status))
            check(not wrong, f"{method.upper()} {path} {status} [{media}]: codes {wrong} have status "
                             f"{[table.get(c) for c in wrong]} in api.md")


def check_answers_required(doc: dict) -> None:
    """Every property of every object schema reachable from a 2xx JSON answer is required."""
    seen: set[str] = set()

    def walk(schema, where: str) -> None:
        if isinstance(schema, list):
            for index, sub in enumerate(schema):
                walk(sub, f"{where}/{index}")
            return
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            if ref not in seen:
                seen.add(ref)
                walk(resolve(doc, {"$ref": ref}), ref)
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            missing = sorted(set(properties) - set(schema.get("required", [])))
            check(not missing, f"{where}: answer members not required: {missing}")
            for name, sub in properties.items():
                walk(sub, f"{where}/properties/{name}")
        for key in ("items", "allOf", "anyOf", "oneOf", "additionalProperties"):
            if key in schema:
                walk(schema[key], f"{where}/{key}")

    for path, method, status, response in answers(doc, lambda s: s.startswith("2")):
        for media, body in (response.get("content") or {}).items():
            if "json" in media and "schema" in body:
                walk(body["schema"], f"{method.upper()} {path} {status} [{media}]")


def pointer(*parts: str) -> str:
    return "#/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def check_examples(doc: dict) -> None:
    """Every `example`/`examples` beside a schema in a media type validates against it."""
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(doc, default_specification=DRAFT202012))

    def validator(location: tuple) -> Draft202012Validator:
        return Draft202012Validator({"$ref": "urn:openapi" + pointer(*location)}, registry=registry)

    def media_types(owner: dict, location: tuple):
        for media, body in (owner.get("content") or {}).items():
            if "schema" in body:
                yield media, body, location + ("content", media)

    # Collect (owner dict, location) pairs: request bodies and responses of operations, and
    # components.responses.
    owners: list[tuple[dict, tuple]] = []
    for path, method, op in operations(doc):
        body = op.get("requestBody")
        if body and "$ref" not in body:
            owners.append((body, ("paths", path, method, "requestBody")))
        for status, response in op.get("responses", {}).items():
            if "$ref" not in response:
                owners.append((response, ("paths", path, method, "responses", status)))
    for name, response in doc.get("components", {}).get("responses", {}).items():
        owners.append((response, ("components", "responses", name)))

    for owner, location in owners:
        for media, body, media_location in media_types(owner, location):
            samples = []
            if "example" in body:
                samples.append(("example", body["example"]))
            for name, example in (body.get("examples") or {}).items():
                if "value" in example:
                    samples.append((name, example["value"]))
            schema_validator = validator(media_location + ("schema",))
            for name, value in samples:
                errors = sorted(schema_validator.iter_errors(value), key=lambda e: list(e.path))
                where = "/".join(str(p) for p in location) + f" [{media}] example {name}"
                check(not errors, f"{where}: " + "; ".join(e.message for e in errors[:3]))


def main() -> int:
    spec_path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "docs", "openapi.yaml")
    md_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "docs", "api.md")
    try:
        with open(spec_path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
        with open(md_path, encoding="utf-8") as handle:
            md = handle.read()
    except (OSError, yaml.YAMLError) as error:
        print(f"cannot read input: {error}")
        print("0 passed, 1 failed")
        return 2

    try:
        validate(doc)
        check(True, "")
    except Exception as error:  # the validator's exception types vary between versions
        check(False, f"{spec_path} is not a valid OpenAPI document: {error}")
    check(doc.get("openapi") == "3.1.0", f"openapi is {doc.get('openapi')!r}, not '3.1.0'")

    md_routes = routes_of_api_md(md)
    check(len(md_routes) > 0, "no route headings found in api.md")
    spec_routes: dict[tuple[str, str], dict] = {}
    for path, item in (doc.get("paths") or {}).items():
        for method in METHODS:
            if method in item:
                spec_routes[(method.upper(), path)] = item[method]
        declared = item.get("x-allow")
        actual = sorted(m.upper() for m in METHODS if m in item)
        check(declared is not None and sorted(declared) == actual,
              f"{path}: x-allow {declared} does not list its operations {actual}")

    for route, right in sorted(md_routes.items()):
        name = f"{route[0]} {route[1]}"
        check(route in spec_routes, f"{name} is in api.md but not in openapi.yaml")
        if route in spec_routes:
            got = spec_routes[route].get("x-authority-right")
            check(got == right, f"{name}: x-authority-right is {got!r}, api.md says {right!r}")
    for route, operation in sorted(spec_routes.items()):
        name = f"{route[0]} {route[1]}"
        check(route in md_routes, f"{name} is in openapi.yaml but not in api.md")
        check(operation.get("x-authority-right") in RIGHTS, f"{name}: x-authority-right missing or not one of {sorted(RIGHTS)}")

    codes = set(doc.get("components", {}).get("schemas", {}).get("ErrorCode", {}).get("enum", []))
    table = api_md_error_table(md)
    md_codes = set(table)
    check(bool(md_codes) and codes == md_codes,
          f"ErrorCode enum differs from api.md: only in openapi.yaml {sorted(codes - md_codes)}, "
          f"only in api.md {sorted(md_codes - codes)}")
    check_error_statuses(doc, table)

    check_answers_required(doc)
    check_examples(doc)

    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
