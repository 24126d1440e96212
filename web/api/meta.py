"""Who am I, the OpenAPI document and its reference page.

The reference page is rendered on the server from the same document clients download, by
a Jinja template: no JavaScript and nothing from a CDN (the Content-Security-Policy allows
neither inline scripts nor other origins anyway).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from flask import Response, render_template
from markupsafe import Markup

from web.api import schemas
from web.api.auth import Caller
from web.api.blueprint import PREFIX, api
from web.api.problems import PROBLEM_TYPES

METHOD_ORDER = {"get": 0, "put": 1, "post": 2, "patch": 3, "delete": 4}


@api.operation(
    "GET",
    "/me",
    summary="The token and its owner",
    tag="account",
    scopes=(),
    responses={200: schemas.Me},
)
def me(caller: Caller) -> schemas.Me:
    """Who the token belongs to, and its scopes (any valid token may ask)."""
    user = caller.user
    return schemas.Me(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,  # type: ignore[arg-type]
        locale=user.locale,  # type: ignore[arg-type]
        token=schemas.TokenInfo(
            name=caller.token_name,
            prefix=caller.token_prefix,
            scopes=sorted(caller.scopes),  # type: ignore[arg-type]
            expires_at=caller.expires_at,
        ),
    )


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document (made once per process: the declarations never change)."""
    return api.openapi(server_url=PREFIX)


@api.operation(
    "GET",
    "/openapi.json",
    summary="This OpenAPI 3.1 document",
    tag="reference",
    scopes=None,
    responses={200: (None, "The OpenAPI 3.1 document.")},
    raw_media_type="application/json",
)
def openapi_document() -> Response:
    """The API described in OpenAPI 3.1, generated from the code that serves it."""
    body = json.dumps(document(), ensure_ascii=False, indent=1)
    return Response(body, mimetype="application/json", headers={"Cache-Control": "no-cache"})


@api.operation(
    "GET",
    "/docs",
    summary="The reference page",
    tag="reference",
    scopes=None,
    responses={200: (None, "The reference page (HTML).")},
    raw_media_type="text/html",
)
def reference_page() -> Response:
    """The reference of every operation and schema, rendered from the OpenAPI document."""
    spec = document()
    html = render_template(
        "api/docs.html",
        spec=spec,
        groups=list(_groups(spec)),
        schemas=[
            _schema_view(name, schema) for name, schema in spec["components"]["schemas"].items()
        ],
        problem_types=PROBLEM_TYPES,
        prefix=PREFIX,
        code=inline_code,
    )
    return Response(html, mimetype="text/html", headers={"Cache-Control": "no-cache"})


# --- Turning the document into what the page shows --------------------------------------


@dataclass
class Row:
    name: str
    type: Markup
    required: bool
    notes: str


@dataclass
class OperationView:
    method: str
    path: str
    anchor: str
    summary: str
    description: str
    scopes: list[str] | None
    parameters: list[Row]
    body: Markup | None
    responses: list[tuple[str, str, Markup]]


@dataclass
class Group:
    name: str
    description: str
    operations: list[OperationView] = field(default_factory=list)


@dataclass
class SchemaView:
    name: str
    description: str
    rows: list[Row]
    values: list[str]
    type: Markup


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[1]


def type_of(schema: dict[str, Any]) -> Markup:
    """A short human description of a JSON Schema, with links to named schemas."""
    if "$ref" in schema:
        name = _ref_name(schema["$ref"])
        return Markup('<a href="#schema-{0}"><code>{0}</code></a>').format(name)
    if "anyOf" in schema:
        return Markup(" or ").join(type_of(option) for option in schema["anyOf"])
    if "enum" in schema:
        values = Markup(", ").join(
            Markup("<code>{}</code>").format(json.dumps(v, ensure_ascii=False))
            for v in schema["enum"]
        )
        return Markup("one of {}").format(values)
    if "const" in schema:
        return Markup("<code>{}</code>").format(json.dumps(schema["const"]))
    kind = schema.get("type")
    if kind == "array":
        return Markup("list of {}").format(type_of(schema.get("items", {})))
    if kind is None:
        return Markup("any")
    text = Markup("<code>{}</code>").format(kind)
    if "format" in schema:
        text += Markup(" ({})").format(schema["format"])
    return text


def inline_code(text: str) -> Markup:
    """``text`` escaped, with `backquoted` parts shown as code (as in the descriptions)."""
    parts = str(text).split("`")
    if len(parts) % 2 == 0:  # an unpaired backquote stays as it is
        parts[-2:] = [parts[-2] + "`" + parts[-1]]
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else Markup("{}").format(part)
        for i, part in enumerate(parts)
    )


def _notes(schema: dict[str, Any]) -> str:
    limits = []
    for key, label in (
        ("minimum", "at least {}"),
        ("maximum", "at most {}"),
        ("minLength", "at least {} characters"),
        ("maxLength", "at most {} characters"),
        ("maxItems", "at most {} items"),
        ("pattern", "matching `{}`"),
    ):
        for part in (schema, *schema.get("anyOf", [])):
            if key in part:
                limits.append(label.format(part[key]))
    if "default" in schema and schema["default"] is not None:
        limits.append(f"default `{json.dumps(schema['default'], ensure_ascii=False)}`")
    description = str(schema.get("description") or "")
    if not limits:
        return description
    text = "; ".join(limits)
    return f"{description} ({text})" if description else text[0].upper() + text[1:] + "."


def _rows(schema: dict[str, Any]) -> list[Row]:
    required = set(schema.get("required", []))
    return [
        Row(name, type_of(prop), name in required, _notes(prop))
        for name, prop in schema.get("properties", {}).items()
    ]


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, methods in spec["paths"].items():
        for method, operation in sorted(methods.items(), key=lambda m: METHOD_ORDER[m[0]]):
            yield path, method, operation


def _groups(spec: dict[str, Any]) -> Iterator[Group]:
    groups = {tag["name"]: Group(tag["name"], tag["description"]) for tag in spec["tags"]}
    for path, method, operation in _operations(spec):
        security = operation.get("security") or []
        parameters = [
            Row(
                f"{p['name']} ({p['in']})",
                type_of(p["schema"]),
                bool(p.get("required")),
                _notes({**p["schema"], "description": p.get("description", "")}),
            )
            for p in operation.get("parameters", [])
        ]
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        responses = []
        for status, response in operation["responses"].items():
            content = response.get("content", {})
            empty: dict[str, Any] = {}
            media, described = next(iter(content.items()), ("", empty))
            schema: dict[str, Any] = described.get("schema") or {}
            shown = type_of(schema) if schema else Markup("—")
            responses.append(
                (
                    status,
                    str(response["description"]),
                    Markup("{} {}").format(
                        Markup("<code>{}</code>").format(media) if media else "", shown
                    ),
                )
            )
        groups[operation["tags"][0]].operations.append(
            OperationView(
                method=method.upper(),
                path=spec["servers"][0]["url"] + path,
                anchor=operation["operationId"],
                summary=operation["summary"],
                description=operation.get("description", ""),
                scopes=list(security[0]["bearerToken"]) if security else None,
                parameters=parameters,
                body=type_of(body["schema"]) if body else None,
                responses=responses,
            )
        )
    yield from groups.values()


def _schema_view(name: str, schema: dict[str, Any]) -> SchemaView:
    return SchemaView(
        name=name,
        description=str(schema.get("description", "")),
        rows=_rows(schema),
        values=[str(v) for v in schema.get("enum", [])],
        type=Markup("") if "properties" in schema else type_of(schema),
    )
