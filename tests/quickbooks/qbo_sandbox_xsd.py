"""Validate QBO JSON payloads against the official XSD (independently of the sandbox's own model).

QBO's JSON mirrors its XML schema: element and attribute names become keys, repeated elements become
arrays, simple-content types such as ``ReferenceType`` become ``{"value": ..., "name": ...}``. The
walker below checks a JSON object against an XSD complex type loaded with ``xmlschema``:

* every key is an element or attribute the type (or its bases) declares - a misspelt or invented field
  fails;
* required elements/attributes are present (a mandatory choice needs one of its members);
* arrays only where the schema allows repetition, objects only for complex types;
* every simple value is valid for its XSD type (enumerations, booleans, decimals, dates...).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import xmlschema


def _lexical(value: Any) -> str | None:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return value
    return None


class QboXsd:
    """The QBO schema and a JSON walker over it."""

    def __init__(self, xsd_dir: Path) -> None:
        self.schema = xmlschema.XMLSchema(str(xsd_dir / "IntuitRestServiceDef.xsd"))

    def problems(self, type_name: str, value: Any) -> list[str]:
        """All violations of ``value`` against complex type ``type_name`` (empty when valid)."""
        found: list[str] = []
        self._complex(self.schema.types[type_name], value, type_name, found)
        return found

    def assert_valid(self, type_name: str, value: Any) -> None:
        """Fail with every violation listed."""
        found = self.problems(type_name, value)
        assert not found, f"{type_name} JSON does not match the XSD:\n  " + "\n  ".join(found)

    # -- walking --------------------------------------------------------------------------------------

    def _complex(self, xsd_type: Any, value: Any, path: str, found: list[str]) -> None:
        if not isinstance(value, dict):
            found.append(f"{path}: expected an object for {xsd_type.local_name}, got {type(value).__name__}")
            return
        attributes = {name.split("}")[-1]: attr for name, attr in xsd_type.attributes.items() if name}
        if xsd_type.has_simple_content():
            for key, item in value.items():
                if key == "value":
                    self._simple(xsd_type.content, item, f"{path}.value", found)
                elif key in attributes:
                    self._simple(attributes[key].type, item, f"{path}.{key}", found)
                else:
                    found.append(f"{path}.{key}: unknown property of {xsd_type.local_name}")
            self._required_attributes(attributes, value, path, found)
            return
        elements = {e.local_name: e for e in xsd_type.content.iter_elements() if e.local_name}
        for key, item in value.items():
            where = f"{path}.{key}"
            if key in elements:
                self._element(elements[key], item, where, found)
            elif key in attributes:
                self._simple(attributes[key].type, item, where, found)
            else:
                found.append(f"{where}: unknown property of {xsd_type.local_name or path}")
        self._required_elements(xsd_type.content, value, path, found, required=True)
        self._required_attributes(attributes, value, path, found)

    def _element(self, element: Any, item: Any, where: str, found: list[str]) -> None:
        repeatable = element.max_occurs is None or element.max_occurs > 1
        if isinstance(item, list):
            if not repeatable:
                found.append(f"{where}: an array where the XSD allows one element")
                return
            for index, entry in enumerate(item):
                self._one(element.type, entry, f"{where}[{index}]", found)
            return
        if repeatable and item is not None:
            found.append(f"{where}: a single value where the XSD declares a repeated element (JSON array)")
            return
        self._one(element.type, item, where, found)

    def _one(self, xsd_type: Any, item: Any, where: str, found: list[str]) -> None:
        if xsd_type.local_name in ("anyType", "IntuitAnyType") or item is None:
            return
        if xsd_type.is_complex():
            self._complex(xsd_type, item, where, found)
        else:
            self._simple(xsd_type, item, where, found)

    def _simple(self, xsd_type: Any, item: Any, where: str, found: list[str]) -> None:
        text = _lexical(item)
        if text is None:
            found.append(f"{where}: expected a simple value, got {type(item).__name__}")
            return
        if not xsd_type.is_valid(text):
            found.append(f"{where}: {text!r} is not a valid {xsd_type.local_name or 'value'}")

    def _required_elements(
        self, group: Any, value: dict[str, Any], path: str, found: list[str], *, required: bool
    ) -> None:
        group_required = required and group.min_occurs >= 1
        if group.model == "choice":
            members = [p for p in group if not hasattr(p, "model")]
            # A choice is only mandatory when none of its members may be empty.
            mandatory = group_required and members and all(m.min_occurs >= 1 for m in members)
            if mandatory and not any(m.local_name in value for m in members):
                names = ", ".join(m.local_name for m in members)
                found.append(f"{path}: one of ({names}) is required")
            return
        for particle in group:
            if hasattr(particle, "model"):
                self._required_elements(particle, value, path, found, required=group_required)
            elif group_required and particle.min_occurs >= 1 and particle.local_name not in value:
                found.append(f"{path}.{particle.local_name}: required element missing")

    @staticmethod
    def _required_attributes(attributes: dict[str, Any], value: dict[str, Any], path: str, found: list[str]) -> None:
        for name, attr in attributes.items():
            if attr.use == "required" and name not in value:
                found.append(f"{path}.{name}: required attribute missing")
