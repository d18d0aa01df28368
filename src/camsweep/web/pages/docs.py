"""API reference rendered on the server from the OpenAPI document: works offline, loads
nothing from a CDN (the stock Swagger UI page would)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from camsweep.web.render import render

router = APIRouter(include_in_schema=False)
METHODS = ("get", "post", "put", "patch", "delete")


def _ref_name(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if schema.get("type") == "array":
        return f"list of {_ref_name(schema.get('items', {}))}"
    if "anyOf" in schema:
        return " or ".join(_ref_name(s) for s in schema["anyOf"])
    return str(schema.get("type", "object"))


def _response_type(response: dict[str, Any]) -> str:
    content: dict[str, Any] = response.get("content") or {}
    for media in content.values():
        return _ref_name(media.get("schema", {}))
    return ""


def operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The spec's operations, flattened for a template (pure)."""
    out = []
    for path, item in spec.get("paths", {}).items():
        for method in METHODS:
            op = item.get(method)
            if not op:
                continue
            params = [{"name": p["name"], "in": p["in"], "required": p.get("required", False),
                       "type": _ref_name(p.get("schema", {})),
                       "description": p.get("description") or
                       p.get("schema", {}).get("description", "")}
                      for p in op.get("parameters", [])]
            body: dict[str, Any] = op.get("requestBody", {}).get("content", {})
            responses = [{"status": code, "description": r.get("description", ""),
                          "type": _response_type(r)}
                         for code, r in op.get("responses", {}).items()]
            out.append({"method": method.upper(), "path": path,
                        "summary": op.get("summary", ""),
                        "description": op.get("description", ""),
                        "tags": op.get("tags", []), "params": params,
                        "body": [_ref_name(c.get("schema", {})) + f" ({media})"
                                 for media, c in body.items()],
                        "secured": bool(op.get("security")), "responses": responses})
    return out


@router.get("/docs")
def docs(request: Request) -> Response:
    spec = request.app.openapi()
    schemas = spec.get("components", {}).get("schemas", {})
    return render(request, "docs.html", {
        "title": "API reference", "spec": spec, "ops": operations(spec),
        "schemas": {name: {"properties": s.get("properties", {}),
                           "required": s.get("required", [])}
                    for name, s in sorted(schemas.items())}})
