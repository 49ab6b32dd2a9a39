"""GET /api/openapi.json, and GET /api/docs: the same document as a plain HTML page.

The page is rendered here from the document, with no script, stylesheet or third-party
request: nginx's Content-Security-Policy (default-src 'none') would block any of them, and
a reader needs none to see each operation, its parameters, status codes and bodies.
"""

import json
from collections.abc import Callable
from typing import Any

from flask import Blueprint, current_app, render_template

bp = Blueprint("openapi", __name__, url_prefix="/api", template_folder="templates")
METHODS = ("get", "post", "put", "patch", "delete")


@bp.get("/openapi.json")
def document():
    return current_app.extensions["openapi"]


@bp.get("/docs")
def docs():
    spec = current_app.extensions["openapi"]
    return render_template("openapi/docs.html", info=spec["info"], operations=operations(spec))


def operations(spec: dict) -> list[dict]:
    """Each operation of the document, its references resolved, in the document's order."""
    return [
        _operation(spec, path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    ]


def _operation(spec: dict, path: str, method: str, operation: dict) -> dict:
    body = operation.get("requestBody", {}).get("content", {})
    return {
        "id": operation.get("operationId", f"{method}-{path}"),
        "method": method.upper(),
        "path": path,
        "summary": operation.get("summary", ""),
        "description": operation.get("description", ""),
        "parameters": [_parameter(spec, p) for p in operation.get("parameters", [])],
        "body": {kind: fields(spec, media["schema"]) for kind, media in body.items()},
        "responses": [
            _response(spec, status, response) for status, response in operation["responses"].items()
        ],
    }


def _parameter(spec: dict, parameter: dict) -> dict:
    parameter = resolve(spec, parameter)
    return {**parameter, "type": _type(resolve(spec, parameter.get("schema", {})))}


def _response(spec: dict, status: str, response: dict) -> dict:
    response = resolve(spec, response)
    headers = {name: resolve(spec, header) for name, header in response.get("headers", {}).items()}
    return {
        "status": status,
        "description": response.get("description", ""),
        "headers": [
            {**header, "name": name, "type": _type(header.get("schema", {}))}
            for name, header in headers.items()
        ],
        "body": {
            kind: fields(spec, media["schema"])
            for kind, media in response.get("content", {}).items()
        },
    }


def resolve(spec: dict, node: dict) -> dict:
    """node with a local $ref followed (and allOf's parts merged, the node's own last)."""
    while "$ref" in node:
        target = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    for part in node.get("allOf", []):
        node = _merge(resolve(spec, part), {k: v for k, v in node.items() if k != "allOf"})
    return node


def _merge(base: dict, extra: dict) -> dict:
    properties = dict(base.get("properties", {}))
    for name, schema in extra.get("properties", {}).items():
        properties[name] = {**properties.get(name, {}), **schema}
    required = [*base.get("required", []), *extra.get("required", [])]
    return {**base, **extra, "properties": properties, "required": required}


def fields(spec: dict, schema: dict) -> dict:
    """An object schema as rows: each field's name, type, whether required, and notes."""
    schema = resolve(spec, schema)
    required = set(schema.get("required", []))
    rows = [
        {"name": name, "type": _type(field), "required": name in required, "notes": _notes(field)}
        for name, field in schema.get("properties", {}).items()
    ]
    closed = schema.get("additionalProperties") is False
    return {"rows": rows, "closed": closed, "description": schema.get("description", "")}


def _type(schema: dict) -> str:
    kinds = schema.get("type", "any")
    text = " or ".join(kinds) if isinstance(kinds, list) else kinds
    if "format" in schema:
        text += f" ({schema['format']})"
    if isinstance(schema.get("additionalProperties"), dict):
        text += f" of {_type(schema['additionalProperties'])}"
    if "items" in schema:
        text += f" of {_type(schema['items'])}"
    return text


NOTES: dict[str, Callable[[Any], str]] = {
    "const": lambda value: f"always {_json(value)}",
    "enum": lambda values: "one of " + ", ".join(map(str, values)),
    "maxLength": lambda value: f"at most {value} characters",
    "minimum": lambda value: f"at least {value}",
    "pattern": lambda value: f"matches {value}",
    "default": lambda value: f"default {_json(value)}",
    "description": str,
    "examples": lambda values: (
        "e.g. " + ", ".join(json.dumps(v, ensure_ascii=False) for v in values)
    ),
}


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _notes(schema: dict) -> list[str]:
    return [describe(schema[key]) for key, describe in NOTES.items() if key in schema]
