"""docs/openapi.yaml as the fuzzer needs it: operations, their documented statuses and error
codes, request schemas and parameters, each path's methods (`x-allow`)."""
import re

import yaml

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


class Operation:
    def __init__(self, spec, method, path, item, op):
        self.method = method.upper()
        self.path = path
        self.op_id = op["operationId"]
        self.right = op.get("x-authority-right")
        self.allow = item.get("x-allow", [])
        self.parameters = [spec.resolve(p) for p in item.get("parameters", []) + op.get("parameters", [])]
        body = op.get("requestBody")
        self.body_required = bool(body and body.get("required"))
        self.body_schema = None
        if body:
            self.body_schema = spec.resolve(body["content"]["application/json"]["schema"])
        # status -> set of error codes the document allows (None: no body / not an error)
        self.statuses = {}
        # status -> {media type: schema} (an answer may come in several forms, e.g. the bundle's
        # binary and JSON), and status -> the documented Cache-Control (no-store unless the
        # answer's headers say otherwise)
        self.answer_schemas = {}
        self.cache_control = {}
        for status, answer in op["responses"].items():
            answer = spec.resolve(answer)
            status = int(status)
            content = answer.get("content", {})
            schema = None
            for media, value in content.items():
                schema = spec.resolve(value.get("schema", {}))
                self.answer_schemas.setdefault(status, {})[media] = schema
            header = spec.resolve(answer.get("headers", {}).get("Cache-Control", {}))
            self.cache_control[status] = spec.resolve(header.get("schema", {})).get("const", "no-store")
            self.statuses[status] = spec.error_codes(schema, status) if status >= 400 and content else None
        self.forward_auth = self.path == "/v1/auth" or self.path.startswith("/v1/auth/")

    @property
    def label(self):
        return f"{self.method} {self.path}"

    def __repr__(self):
        return f"<{self.op_id} {self.label}>"


class Spec:
    def __init__(self, document):
        self.document = document
        self.components = document.get("components", {})
        self.code_status = self._code_statuses()
        self.operations = []
        self.allow = {}
        for path, item in document["paths"].items():
            self.allow[path] = item.get("x-allow", [])
            for method in METHODS:
                if method in item:
                    self.operations.append(Operation(self, method, path, item, item[method]))
        self.by_id = {op.op_id: op for op in self.operations}
        self.not_found = self.error_codes(self.resolve(self.components["responses"]["NotFound"])["content"]["application/json"]["schema"], 404)
        self.method_not_allowed = self.error_codes(
            self.resolve(self.components["responses"]["MethodNotAllowed"])["content"]["application/json"]["schema"], 405)

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as handle:
            return cls(yaml.safe_load(handle))

    def resolve(self, node):
        while isinstance(node, dict) and "$ref" in node:
            target = self.document
            for part in node["$ref"].lstrip("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _code_statuses(self):
        """ErrorCode's description lists `NNN `code`, `code`; …`: code -> status."""
        text = self.components["schemas"]["ErrorCode"]["description"]
        result = {}
        for status, codes in re.findall(r"(\d{3}) ((?:`[a-z._]+`,?\s*)+)", text):
            for code in re.findall(r"`([a-z._]+)`", codes):
                result[code] = int(status)
        return result

    def error_codes(self, schema, status):
        """The codes an error schema allows (a `const`/`enum` under allOf), else every code of
        that status by ErrorCode."""
        found = None
        for part in (schema or {}).get("allOf", []):
            part = self.resolve(part)
            code = part.get("properties", {}).get("error", {}).get("properties", {}).get("code", {})
            if "const" in code:
                found = {code["const"]}
            elif "enum" in code:
                found = set(code["enum"])
        if found is None:
            found = {code for code, code_status in self.code_status.items() if code_status == status}
        return found

    def schema_properties(self, schema):
        schema = self.resolve(schema) or {}
        return {name: self.resolve(value) for name, value in schema.get("properties", {}).items()}

    def required_sets(self, schema):
        """Alternatives of required members: `required` plus one `oneOf` branch's `required`."""
        schema = self.resolve(schema) or {}
        base = list(schema.get("required", []))
        branches = [self.resolve(b).get("required", []) for b in schema.get("oneOf", [])]
        return [base + branch for branch in branches] or [base]
