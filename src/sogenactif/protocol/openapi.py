"""The OpenAPI document, generated from the catalogue and the dictionary (one source of truth)."""

from __future__ import annotations

from typing import Any

from sogenactif.protocol.catalogue import SERVICES, Service
from sogenactif.protocol.codes import RESPONSE_CODES
from sogenactif.protocol.fields import DICTIONARY, Format, Kind


def field_schema(fmt: Format) -> dict[str, Any]:
    """The JSON Schema of one field's format."""
    kind = fmt.kind
    schema: dict[str, Any]
    if kind is Kind.CONTAINER:
        schema = {"type": "object", "properties": {
            name: field_schema(DICTIONARY[name]) for name in fmt.fields}}
    elif kind is Kind.LIST:
        assert fmt.element is not None
        schema = {"type": "array", "items": field_schema(fmt.element)}
    elif kind is Kind.ENUM:
        schema = {"type": "string", "enum": list(fmt.values)}
    elif kind is Kind.BOOLEAN:
        schema = {"type": "boolean"}
    elif kind is Kind.N:
        schema = {"type": ["string", "integer"], "pattern": "^[0-9]+$"}
        if fmt.max_length is not None:
            schema["maxLength"] = fmt.max_length
            schema["minLength"] = fmt.min_length
    else:
        schema = {"type": "string"}
        if fmt.max_length is not None:
            schema["maxLength"] = fmt.max_length
        if kind is Kind.AN:
            schema["pattern"] = "^[A-Za-z0-9]*$"
        elif kind is Kind.DATETIME:
            schema["format"] = "date-time"
        elif kind is Kind.URL:
            schema["format"] = "uri"
    description = " ".join(p for p in (fmt.label(), fmt.description) if p)
    schema["description"] = description
    return schema


def _message(names: tuple[str, ...], required: tuple[str, ...] = ()) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": {name: field_schema(DICTIONARY[name]) for name in names},
        "additionalProperties": True,
    }
    if required:
        schema["required"] = list(required)
    return schema


def _operation(service: Service) -> dict[str, Any]:
    codes = ", ".join(f"{c.value} {c.meaning}" for c in RESPONSE_CODES.values())
    from sogenactif.protocol.catalogue import COMMON_REQUIRED

    return {
        "operationId": service.name,
        "summary": service.summary,
        "tags": [service.family.value],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": _message(service.request_fields, (*COMMON_REQUIRED, *service.required))}}},
        "responses": {
            "200": {"description": f"A sealed answer; {service.response_code_field}: {codes}",
                    "content": {"application/json": {
                        "schema": _message(service.response_fields)}}},
            "400": {"description": "The body is not a JSON object."},
            "413": {"description": "The body is over 64 KiB."},
            "415": {"description": "Content-Type is not application/json."},
        },
    }


def document(server_url: str | None = None) -> dict[str, Any]:
    """The whole OpenAPI 3.1 document."""
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Sogenactif Office Server JSON", "version": "2.55",
                 "description": "Generated from sogenactif's service catalogue."},
        "paths": {s.path: {"post": _operation(s)} for s in SERVICES},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc
