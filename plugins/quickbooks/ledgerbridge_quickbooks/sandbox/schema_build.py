"""Regenerate ``qbo_schema.json`` from Intuit's official v3 XSDs.

The sandbox must reject what QBO rejects (an unknown JSON property is error 2010, a bad enumeration value
2170) and accept everything QBO accepts, so it needs the element names and types of every entity it
serves. The XSDs are not shipped with the package (they live with the provider specs), so this script
walks them once with ``xmlschema`` (a development dependency) and writes a compact JSON model that the
sandbox loads at run time. ``tests/quickbooks`` regenerates the model and compares it with the
checked-in file, so the two cannot drift apart silently.

Run: ``python -m ledgerbridge_quickbooks.sandbox.schema_build <xsd-folder> [output.json]``
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

#: Entities the sandbox serves; every complex type reachable from them is included.
ROOT_TYPES: tuple[str, ...] = (
    "Customer",
    "Item",
    "Account",
    "TaxCode",
    "TaxRate",
    "Invoice",
    "Payment",
    "Employee",
    "TimeActivity",
    "CompanyInfo",
    "Preferences",
)

#: XSD builtin types mapped onto the handful of JSON value kinds the sandbox checks.
_BUILTIN_KINDS: dict[str, str] = {
    "string": "string",
    "normalizedString": "string",
    "token": "string",
    "anyURI": "string",
    "ID": "string",
    "decimal": "decimal",
    "double": "decimal",
    "float": "decimal",
    "int": "integer",
    "integer": "integer",
    "long": "integer",
    "short": "integer",
    "byte": "integer",
    "positiveInteger": "integer",
    "nonNegativeInteger": "integer",
    "unsignedInt": "integer",
    "unsignedLong": "integer",
    "unsignedShort": "integer",
    "boolean": "boolean",
    "date": "date",
    "dateTime": "dateTime",
    "time": "string",
    "base64Binary": "string",
    "anyType": "any",
    "anySimpleType": "string",
}


def build_model(xsd_dir: Path) -> dict[str, Any]:
    """Walk the XSD types reachable from ``ROOT_TYPES`` and return the JSON model."""
    import xmlschema  # development dependency; only the generator needs it

    schema = xmlschema.XMLSchema(str(xsd_dir / "IntuitRestServiceDef.xsd"))
    types: dict[str, Any] = {}
    simple: dict[str, Any] = {}
    pending: list[tuple[str, Any]] = [(name, schema.types[name]) for name in ROOT_TYPES]

    def simple_ref(xsd_type: Any) -> str:
        """Record a simple type (enum or builtin restriction) and return its model name."""
        name = xsd_type.local_name or "anon"
        if xsd_type.is_complex():
            return "any"
        base = xsd_type.primitive_type if hasattr(xsd_type, "primitive_type") else None
        builtin = xsd_type if base is None else base
        kind = _BUILTIN_KINDS.get(builtin.local_name or "", "string")
        if getattr(xsd_type, "local_name", None) in _BUILTIN_KINDS and not getattr(xsd_type, "enumeration", None):
            return _BUILTIN_KINDS[xsd_type.local_name]
        enum = list(getattr(xsd_type, "enumeration", None) or [])
        if not enum:
            return kind
        simple[name] = {"kind": kind, "enum": enum}
        return name

    def type_ref(xsd_type: Any, owner: str, element: str) -> str:
        if not xsd_type.is_complex():
            return simple_ref(xsd_type)
        if xsd_type.local_name == "anyType" or xsd_type.local_name == "IntuitAnyType":
            return "any"
        name = xsd_type.local_name or f"{owner}.{element}"
        if name not in types and all(name != queued for queued, _ in pending):
            pending.append((name, xsd_type))
        return name

    while pending:
        name, xsd_type = pending.pop(0)
        if name in types:
            continue
        entry: dict[str, Any] = {"elements": {}, "attributes": {}}
        types[name] = entry
        if xsd_type.has_simple_content():
            entry["value"] = simple_ref(xsd_type.content)
        else:
            _walk_group(xsd_type.content, entry, name, type_ref, required_context=True, choice_sink=None)
        for attr_name, attr in xsd_type.attributes.items():
            if attr_name is None:
                continue
            local = attr_name.split("}")[-1]
            entry["attributes"][local] = simple_ref(attr.type) + ("!" if attr.use == "required" else "")
    return {
        "source": "Intuit QBO v3 XSD (IntuitRestServiceDef.xsd and includes)",
        "roots": list(ROOT_TYPES),
        "types": dict(sorted(types.items())),
        "simple": dict(sorted(simple.items())),
    }


def _walk_group(
    group: Any,
    entry: dict[str, Any],
    owner: str,
    type_ref: Any,
    *,
    required_context: bool,
    choice_sink: list[str] | None,
) -> None:
    """Collect the elements of a model group, tracking which ones are required.

    An element is required only when it has minOccurs >= 1 and every enclosing group is itself
    mandatory; members of a mandatory choice are recorded together as "one of these".
    """
    is_choice = group.model == "choice"
    group_required = required_context and group.min_occurs >= 1
    sink: list[str] | None = choice_sink
    if is_choice and group_required and choice_sink is None:
        sink = []
    for item in group:
        if hasattr(item, "model"):
            _walk_group(
                item, entry, owner, type_ref, required_context=group_required and not is_choice, choice_sink=sink
            )
            continue
        local = item.local_name
        if local is None or item.type is None:
            continue
        is_list = item.max_occurs is None or item.max_occurs > 1
        required = bool(group_required and not is_choice and choice_sink is None and item.min_occurs >= 1)
        entry["elements"][local] = (
            type_ref(item.type, owner, local) + ("[]" if is_list else "") + ("!" if required else "")
        )
        if sink is not None and item.min_occurs >= 1:
            sink.append(local)
    members = [item for item in group if not hasattr(item, "model")]
    if is_choice and sink and choice_sink is None and all(m.min_occurs >= 1 for m in members):
        entry.setdefault("choices", []).append(sink)


def render_model(model: dict[str, Any]) -> str:
    """Serialise the model with one type per line: small, stable and reviewable in a diff."""
    lines = ["{"]
    lines.append(f' "source": {json.dumps(model["source"])},')
    lines.append(f' "roots": {json.dumps(model["roots"])},')
    for section in ("types", "simple"):
        lines.append(f' "{section}": {{')
        items = list(model[section].items())
        for index, (name, body) in enumerate(items):
            comma = "," if index < len(items) - 1 else ""
            lines.append(f"  {json.dumps(name)}: {json.dumps(body, separators=(',', ':'))}{comma}")
        lines.append("  }," if section == "types" else "  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: write the model next to this module unless told otherwise."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print(__doc__)
        return 2
    out = Path(args[1]) if len(args) > 1 else Path(__file__).with_name("qbo_schema.json")
    model = build_model(Path(args[0]))
    out.write_text(render_model(model), encoding="utf-8")
    print(f"wrote {out} ({len(model['types'])} complex types, {len(model['simple'])} enumerations)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
