"""JSON-schema synthesis: a value that validates against a schema, preferring values named in the prompt."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final, TypeGuard

from .text import dumps

_NUMBER_RE: Final = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?!\w|\.\d)")
_QUOTED_RE: Final = re.compile(r'"([^"\n]{1,200})"|“([^”\n]{1,200})”|(?<!\w)\'([^\'\n]{1,200})\'(?!\w)')
_ASSIGN_RE: Final = re.compile(r"\b([A-Za-z_]\w*)\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s,;)]+)")
_ARG_SPLIT_RE: Final = re.compile(r"\s*(\"[^\"]*\"|'[^']*'|[^,]+)\s*(?:,|$)")
_MISSING: Final = object()
_MAX_SCHEMA_DEPTH: Final = 8
_MAX_RESOLVE_STEPS: Final = 32
_FORMAT_EXAMPLES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "date": "2024-01-01",
        "date-time": "2024-01-01T00:00:00Z",
        "time": "12:00:00",
        "email": "user@example.com",
        "uri": "https://example.com/",
        "url": "https://example.com/",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "hostname": "example.com",
        "ipv4": "192.0.2.1",
    }
)


def synthesize_from_schema(schema: Mapping[str, Any], *, text: str = "", call_name: str | None = None) -> Any:
    """Build a value that validates against a JSON schema.

    Values mentioned in ``text`` are preferred for top-level properties: ``call_name(1, b=2)``
    call syntax, ``prop=value`` assignments, numbers (for integer/number properties, in
    order), enum values named in the text, and quoted strings (for string properties).
    Otherwise integers are 3, numbers 3.0, booleans true, strings ``"<prop>-value"`` (the
    first value of an enum, or an example for a known ``format``), arrays hold one item
    (``minItems`` respected) and objects recurse.  ``$ref``/``$defs``, ``allOf``, ``anyOf``
    and ``oneOf`` are resolved; every property is included.
    """
    synthesizer = _SchemaSynthesizer(schema, _Literals(text, call_name))
    return synthesizer.top_level()


def _parse_literal(raw: str) -> Any:
    text = raw.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Literals:
    """Values mentioned in a user message, handed out to schema properties in order."""

    def __init__(self, text: str, call_name: str | None) -> None:
        self.text = text
        self.words = {w.lower() for w in re.findall(r"[\w-]+", text)}
        self.numbers: list[Any] = [_parse_literal(m) for m in _NUMBER_RE.findall(text)]
        self.quoted: list[str] = [next(g for g in groups if g) for groups in _QUOTED_RE.findall(text)]
        self.assignments: dict[str, Any] = {k: _parse_literal(v) for k, v in _ASSIGN_RE.findall(text)}
        self.positional: list[Any] = []
        self.named: dict[str, Any] = {}
        if call_name:
            call = re.search(rf"(?<![\w]){re.escape(call_name)}\s*\(([^()]*)\)", text)
            if call:
                for arg in _ARG_SPLIT_RE.findall(call.group(1)):
                    key, sep, value = arg.partition("=")
                    quoted = arg.lstrip()[:1] in ('"', "'")
                    if sep and not quoted and re.fullmatch(r"\s*[A-Za-z_]\w*\s*", key):
                        self.named[key.strip()] = _parse_literal(value)
                    elif arg.strip():
                        self.positional.append(_parse_literal(arg))


def _enum_type(enum: Any) -> str:
    first = enum[0] if isinstance(enum, list) and enum else None
    if isinstance(first, bool):
        return "boolean"
    if isinstance(first, int):
        return "integer"
    if isinstance(first, float):
        return "number"
    return "string"


def _schema_type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        non_null = [t for t in declared if t != "null"]
        return str(non_null[0]) if non_null else "null"
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    if "items" in schema or "prefixItems" in schema:
        return "array"
    return _enum_type(schema.get("enum"))


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _to_integer(value: Any) -> Any:
    if _is_number(value):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return _MISSING
    return _MISSING


def _to_number(value: Any) -> Any:
    if _is_number(value):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return _MISSING
    return _MISSING


def _to_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    lowered = str(value).lower()
    if lowered in ("true", "yes", "1"):
        return True
    if lowered in ("false", "no", "0"):
        return False
    return _MISSING


_COERCERS: Final[Mapping[str, Callable[[Any], Any]]] = MappingProxyType(
    {
        "integer": _to_integer,
        "number": _to_number,
        "boolean": _to_boolean,
        "string": lambda value: value if isinstance(value, str) else dumps(value),
        "array": lambda value: value if isinstance(value, list) else _MISSING,
        "object": lambda value: value if isinstance(value, dict) else _MISSING,
    }
)


def _coerce(value: Any, schema: Mapping[str, Any]) -> Any:
    """``value`` converted to the schema's type (``_MISSING`` when it does not fit, or is not in its enum)."""
    coercer = _COERCERS.get(_schema_type(schema))
    result = coercer(value) if coercer is not None else _MISSING
    enum = schema.get("enum")
    if result is not _MISSING and isinstance(enum, list) and enum and result not in enum:
        return _MISSING
    return result


class _SchemaSynthesizer:
    def __init__(self, root: Mapping[str, Any], literals: _Literals) -> None:
        self._root = root
        self._lit = literals

    def resolve(self, schema: Any) -> dict[str, Any]:
        """``schema`` with ``$ref``, ``allOf`` and ``anyOf``/``oneOf`` folded in (at most 32 steps)."""
        current: dict[str, Any] = dict(schema) if isinstance(schema, Mapping) else {}
        for _ in range(_MAX_RESOLVE_STEPS):
            step = self._resolve_step(current)
            if step is None:
                return current
            current = step
        return current

    def _resolve_step(self, schema: dict[str, Any]) -> dict[str, Any] | None:
        """One folding step, or None when nothing is left to fold."""
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#"):
            siblings = {k: v for k, v in schema.items() if k != "$ref"}
            return {**self._pointer(ref[1:]), **siblings}
        all_of = schema.get("allOf")
        if isinstance(all_of, list) and all_of:
            return self._merge_all_of(schema, all_of)
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                return _choose_option(schema, options)
        return None

    def _pointer(self, pointer: str) -> dict[str, Any]:
        target: Any = self._root
        for token in pointer.split("/"):
            if not token:
                continue
            key = token.replace("~1", "/").replace("~0", "~")
            target = target.get(key, {}) if isinstance(target, Mapping) else {}
        return dict(target) if isinstance(target, Mapping) else {}

    def _merge_all_of(self, schema: dict[str, Any], parts: list[Any]) -> dict[str, Any]:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in parts:
            resolved = self.resolve(part)
            props = {**merged.get("properties", {}), **resolved.get("properties", {})}
            required = [*merged.get("required", []), *resolved.get("required", [])]
            merged = {**resolved, **merged}
            if props:
                merged["properties"] = props
            if required:
                merged["required"] = list(dict.fromkeys(required))
        return merged

    def top_level(self) -> Any:
        schema = self.resolve(self._root)
        if _schema_type(schema) == "object":
            return self._object(schema, depth=0, top=True)
        return self.value(schema, "value", depth=0, index=0)

    def _literal_for(self, name: str, position: int, schema: Mapping[str, Any]) -> Any:
        lit = self._lit
        candidates: list[Any] = []
        if name in lit.named:
            candidates.append(lit.named[name])
        if position < len(lit.positional):
            candidates.append(lit.positional[position])
        if name in lit.assignments:
            candidates.append(lit.assignments[name])
        for candidate in candidates:
            coerced = _coerce(candidate, schema)
            if coerced is not _MISSING:
                return coerced
        kind = _schema_type(schema)
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            for option in enum:
                if isinstance(option, str) and option.lower() in lit.words:
                    return option
            return _MISSING
        if kind in ("integer", "number") and lit.numbers:
            coerced = _coerce(lit.numbers[0], schema)
            if coerced is not _MISSING:
                lit.numbers.pop(0)
                return coerced
        if kind == "string" and "format" not in schema and lit.quoted:
            return lit.quoted.pop(0)
        return _MISSING

    def _object(self, schema: Mapping[str, Any], *, depth: int, top: bool) -> dict[str, Any]:
        properties = schema.get("properties")
        result: dict[str, Any] = {}
        if isinstance(properties, Mapping):
            for position, (name, raw) in enumerate(properties.items()):
                sub = self.resolve(raw)
                if top:
                    literal = self._literal_for(str(name), position, sub)
                    if literal is not _MISSING:
                        result[str(name)] = literal
                        continue
                result[str(name)] = self.value(sub, str(name), depth=depth + 1, index=0)
        required = schema.get("required")
        if isinstance(required, list):
            for name in required:
                if isinstance(name, str) and name not in result:
                    result[name] = f"{name}-value"
        return result

    def value(self, schema: Mapping[str, Any], name: str, *, depth: int, index: int) -> Any:
        schema = self.resolve(schema)
        if "const" in schema:
            return schema["const"]
        enum = schema.get("enum")
        if isinstance(enum, list) and enum:
            return enum[min(index, len(enum) - 1)]
        kind = _schema_type(schema)
        if kind == "object":
            return {} if depth > _MAX_SCHEMA_DEPTH else self._object(schema, depth=depth, top=False)
        if kind == "array":
            return self._array(schema, name, depth=depth)
        if kind == "integer":
            return int(_clamp(3 + index, schema, integral=True))
        if kind == "number":
            return float(_clamp(3.0 + index, schema, integral=False))
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return _string_value(schema, name, index)

    def _array(self, schema: Mapping[str, Any], name: str, *, depth: int) -> list[Any]:
        if depth > _MAX_SCHEMA_DEPTH:
            return []
        min_items = schema.get("minItems")
        max_items = schema.get("maxItems")
        count = max(1, min_items if isinstance(min_items, int) else 1)
        if isinstance(max_items, int):
            count = min(count, max_items)
        prefix = schema.get("prefixItems")
        items = schema.get("items")
        out: list[Any] = []
        for i in range(count):
            if isinstance(prefix, list) and i < len(prefix):
                sub: Any = prefix[i]
            else:
                sub = items if isinstance(items, Mapping) else {}
            out.append(self.value(self.resolve(sub), name, depth=depth + 1, index=i))
        if isinstance(prefix, list) and len(prefix) > count and not isinstance(max_items, int):
            out.extend(
                self.value(self.resolve(prefix[i]), name, depth=depth + 1, index=i) for i in range(count, len(prefix))
            )
        return out


def _choose_option(schema: dict[str, Any], options: list[Any]) -> dict[str, Any]:
    """An ``anyOf``/``oneOf`` folded to its first non-null option."""
    chosen = next((o for o in options if not (isinstance(o, Mapping) and o.get("type") == "null")), options[0])
    rest = {k: v for k, v in schema.items() if k not in ("anyOf", "oneOf")}
    return {**rest, **(dict(chosen) if isinstance(chosen, Mapping) else {})}


def _clamp(value: float, schema: Mapping[str, Any], *, integral: bool) -> float:
    low = schema.get("minimum")
    high = schema.get("maximum")
    ex_low = schema.get("exclusiveMinimum")
    ex_high = schema.get("exclusiveMaximum")
    step = 1 if integral else 0.5
    if _is_number(ex_low) and value <= ex_low:
        value = ex_low + step
    if _is_number(low) and value < low:
        value = low
    if _is_number(ex_high) and value >= ex_high:
        value = ex_high - step
    if _is_number(high) and value > high:
        value = high
    if integral and value != math.floor(value):
        up = math.ceil(value)
        value = up if not isinstance(high, (int, float)) or up <= high else math.floor(value)
    return value


def _string_value(schema: Mapping[str, Any], name: str, index: int) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_EXAMPLES:
        text = _FORMAT_EXAMPLES[fmt]
    else:
        text = f"{name}-value" if index == 0 else f"{name}-value-{index}"
    min_length = schema.get("minLength")
    max_length = schema.get("maxLength")
    if isinstance(min_length, int) and len(text) < min_length:
        text = text + "x" * (min_length - len(text))
    if isinstance(max_length, int) and len(text) > max_length:
        text = text[:max_length]
    return text
