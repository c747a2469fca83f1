"""Validate JSON against Xero's OpenAPI 3.0 component schemas with jsonschema.

The accounting spec is loaded leniently (it has string defaults on booleans) and converted: OpenAPI's
``nullable`` becomes a ``null`` type, and component references resolve inside one root document.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import jsonschema
import yaml


def _convert(node: Any) -> Any:
    if isinstance(node, dict):
        out = {k: _convert(v) for k, v in node.items() if k not in ("example", "default", "nullable")}
        if node.get("nullable") and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
        return out
    if isinstance(node, list):
        return [_convert(v) for v in node]
    return node


@functools.cache
def components(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        spec = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    return {"spec": spec, "components": _convert(spec["components"])}


class OpenApiSchemas:
    """``validate(instance, "Invoices")`` raises jsonschema.ValidationError when it does not fit."""

    def __init__(self, spec_file: Path) -> None:
        loaded = components(str(spec_file))
        self.spec = loaded["spec"]
        self.components = loaded["components"]

    def validator(self, schema: dict[str, Any]) -> jsonschema.Draft7Validator:
        root = {**schema, "components": self.components}
        return jsonschema.Draft7Validator(root)

    def validate(self, instance: Any, name: str) -> None:
        self.validator({"$ref": f"#/components/schemas/{name}"}).validate(instance)

    def validate_array_of(self, instance: Any, name: str) -> None:
        self.validator({"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}).validate(instance)

    def response_schema(self, path: str, method: str, status: str = "200") -> dict[str, Any]:
        """The declared JSON schema of an operation's response (converted)."""
        response = self.spec["paths"][path][method]["responses"][status]
        if "$ref" in response:
            response = self.spec["components"]["responses"][response["$ref"].rsplit("/", 1)[1]]
        return _convert(response["content"]["application/json"]["schema"])

    def request_schema(self, path: str, method: str) -> dict[str, Any]:
        operation = self.spec["paths"][path][method]
        return _convert(operation["requestBody"]["content"]["application/json"]["schema"])

    def validate_against(self, instance: Any, schema: dict[str, Any]) -> None:
        self.validator(schema).validate(instance)
