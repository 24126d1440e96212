"""The API's operations, declared once in code: the routes and the OpenAPI 3.1 document
are both made from these declarations, so the document cannot drift from the code.

Each view is declared with :meth:`Api.operation`: method, path, summary, the scopes it
needs, its query and body models and its responses (status -> pydantic model). The
decorator registers the Flask route and wraps the view so that it authenticates, checks
path ids, validates the query and the body (problems for each failure), and serializes
what the view returns, refusing a status or a model that the declaration does not
document. :meth:`Api.openapi` turns the declarations into the document: the pydantic
models' JSON Schemas (2020-12, OpenAPI 3.1's own dialect) under ``components/schemas``,
referenced with ``$ref``; the bearer ``securityScheme`` with each operation's scopes as
its roles; and the problem responses every operation can give.
"""

from __future__ import annotations

import http
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Literal

from flask import Blueprint, Response, request
from pydantic import BaseModel, ValidationError
from pydantic.json_schema import models_json_schema

from web.api.auth import authenticate
from web.api.problems import PROBLEM_JSON, ApiError, invalid_request
from web.api.schemas import Problem

MAX_ID = 2**31 - 1  # ids are 32-bit integers in the database
JSON = "application/json"
_PATH_PARAM = re.compile(r"{([a-z_]+)}")

View = Callable[..., Any]


@dataclass(frozen=True)
class Reply:
    """What a view returns: a status, a body model (None for no body) and headers."""

    status: int
    body: BaseModel | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Operation:
    """One declared operation: everything the route and the document are made from."""

    method: str
    path: str
    endpoint: str
    summary: str
    description: str
    tag: str
    scopes: tuple[str, ...] | None
    query: type[BaseModel] | None
    body: type[BaseModel] | None
    responses: Mapping[int, tuple[type[BaseModel] | None, str]]
    path_params: Mapping[str, str]
    raw_media_type: str | None = None  # set for the document and the reference page
    # Operations whose parameters this one's success answer supplies (OpenAPI links):
    # operationId -> {parameter: runtime expression such as $response.body#/id}.
    links: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        return self.scopes is None

    def problem_statuses(self) -> dict[int, str]:
        """The error statuses the operation can answer, with why."""
        found: dict[int, str] = {}
        if self.body is not None:
            found[400] = "The body is not valid UTF-8 JSON."
        if not self.is_public:
            found[401] = "No token, or one that is unknown, revoked or expired."
            found[403] = "The token lacks a scope this operation needs."
        if self.path_params:
            found[404] = "Nothing with this id (or nothing the caller may see)."
        if self.body is not None:
            found[413] = "The body is larger than 2 MiB."
            found[415] = "The body is not sent as application/json."
        if self.query is not None or self.body is not None:
            found[422] = "A parameter or a field is not valid; `errors` says which and why."
        found[429] = "Too many requests for this token; wait for the Retry-After seconds."
        return found


class Api:
    """A registry of operations on one blueprint, and the OpenAPI document made from it."""

    def __init__(self, blueprint: Blueprint, *, title: str, version: str, description: str):
        self.blueprint = blueprint
        self.title = title
        self.version = version
        self.description = description
        self.operations: list[Operation] = []
        self.tags: dict[str, str] = {}

    def tag(self, name: str, description: str) -> None:
        """Declare a group of operations (the order of declaration is the document's)."""
        self.tags[name] = description

    def operation(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tag: str,
        scopes: tuple[str, ...] | None,
        responses: Mapping[int, type[BaseModel] | tuple[type[BaseModel] | None, str] | None],
        query: type[BaseModel] | None = None,
        body: type[BaseModel] | None = None,
        path_params: Mapping[str, str] | None = None,
        raw_media_type: str | None = None,
        links: Mapping[str, Mapping[str, str]] | None = None,
    ) -> Callable[[View], View]:
        """Declare a view: register its route and record it for the document.

        ``scopes`` None makes the operation public; ``()`` needs any valid token.
        Path parameters, written ``{name}``, are positive integer ids.
        """
        names = _PATH_PARAM.findall(path)
        declared = dict(path_params or {})
        if set(names) != set(declared):
            raise ValueError(f"{path}: describe exactly the path parameters {names}")

        def decorator(view: View) -> View:
            description = (view.__doc__ or "").strip()
            op = Operation(
                method=method.upper(),
                path=path,
                endpoint=view.__name__,
                summary=summary,
                description=description,
                tag=tag,
                scopes=scopes,
                query=query,
                body=body,
                responses={
                    status: spec if isinstance(spec, tuple) else (spec, _phrase(status))
                    for status, spec in responses.items()
                },
                path_params=declared,
                raw_media_type=raw_media_type,
                links=dict(links or {}),
            )
            if tag not in self.tags:
                raise ValueError(f"{path}: declare the tag {tag!r} first")
            self.operations.append(op)

            @wraps(view)
            def handle(**path_values: int) -> Response:
                return _handle(op, view, path_values)

            rule = _PATH_PARAM.sub(r"<int:\1>", path)
            self.blueprint.add_url_rule(rule, op.endpoint, handle, methods=[op.method])
            return view

        return decorator

    def openapi(self, *, server_url: str) -> dict[str, Any]:
        """The OpenAPI 3.1 document of every declared operation."""
        return _document(self, server_url)


def _phrase(status: int) -> str:
    return http.HTTPStatus(status).phrase


# --- Handling a request ------------------------------------------------------------------


def _handle(op: Operation, view: View, path_values: dict[str, int]) -> Response:
    arguments: dict[str, Any] = {}
    if op.scopes is not None:
        arguments["caller"] = authenticate(op.scopes)
    for name, value in path_values.items():
        if not 1 <= value <= MAX_ID:
            raise ApiError(404, f"There is nothing with {name} {value}.")
    arguments.update(path_values)
    if op.query is not None:
        arguments["query"] = parse_query(op.query)
    if op.body is not None:
        arguments["body"] = parse_body(op.body)
    result = view(**arguments)
    if isinstance(result, Response):
        if op.raw_media_type is None:
            raise TypeError(f"{op.endpoint} returned a raw response it does not declare")
        return result
    reply = result if isinstance(result, Reply) else Reply(200, result)
    return _render(op, reply)


def _render(op: Operation, reply: Reply) -> Response:
    if reply.status not in op.responses:
        raise TypeError(f"{op.endpoint} answered {reply.status}, which it does not declare")
    model, _ = op.responses[reply.status]
    if model is None:
        if reply.body is not None:
            raise TypeError(f"{op.endpoint} declares no body for {reply.status}")
        response = Response(status=reply.status)
    else:
        if not isinstance(reply.body, model):
            raise TypeError(f"{op.endpoint} must answer {reply.status} with {model.__name__}")
        response = Response(
            reply.body.model_dump_json(by_alias=True), status=reply.status, mimetype=JSON
        )
    response.headers.update(reply.headers)
    # Answers are per token: no shared cache may keep them.
    response.headers["Cache-Control"] = "no-store"
    return response


_FRIENDLY: dict[str, str] = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not expected here; remove it.",
    "string_type": "Give a string.",
    "int_type": "Give a whole number.",
    "int_parsing": "Give a whole number.",
    "int_from_float": "Give a whole number.",
    "float_type": "Give a number.",
    "float_parsing": "Give a number.",
    "finite_number": "Give a finite number.",
    "bool_type": "Give true or false.",
    "bool_parsing": "Give true or false.",
    "list_type": "Give a list.",
    "model_type": "Give a JSON object.",
    "model_attributes_type": "Give a JSON object.",
    "dict_type": "Give a JSON object.",
}


def _message(error: Mapping[str, Any]) -> str:
    kind = str(error.get("type", ""))
    context = error.get("ctx") or {}
    if kind in ("enum", "literal_error") and "expected" in context:
        return f"Choose one of: {context['expected']}."
    if kind == "string_too_long":
        return f"Keep this under {context.get('max_length')} characters."
    if kind == "too_long":
        return f"Give at most {context.get('max_length')} items."
    if kind in _FRIENDLY:
        return _FRIENDLY[kind]
    message = str(error.get("msg", "This value is not valid."))
    return message.removeprefix("Value error, ")


def _field_errors(error: ValidationError, *, root: str) -> list[dict[str, str]]:
    found = []
    for item in error.errors(include_url=False, include_input=False):
        location = ".".join(str(part) for part in item["loc"]) or root
        found.append({"field": location, "message": _message(item)})
    return found


def parse_query(model: type[BaseModel]) -> BaseModel:
    """The query string validated by ``model`` (422 naming each bad parameter)."""
    values: dict[str, str] = {}
    errors = []
    for name in request.args:
        given = request.args.getlist(name)
        if len(given) > 1:
            errors.append({"field": name, "message": "Give this parameter once."})
        values[name] = given[0]
    if errors:
        raise invalid_request(errors)
    try:
        return model.model_validate(values)
    except ValidationError as error:
        raise invalid_request(_field_errors(error, root="query")) from None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_body(model: type[BaseModel]) -> BaseModel:
    """The JSON body validated by ``model``: 415 unless sent as JSON, 400 unless valid
    UTF-8 JSON, 422 naming each bad field (unknown fields included)."""
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if request.mimetype != JSON or charset not in ("utf-8", "utf8"):
        raise ApiError(
            415,
            "Send the body as JSON with the header Content-Type: application/json.",
            headers={"Accept-Patch": JSON} if request.method == "PATCH" else None,
        )
    raw = request.get_data(cache=False)
    try:
        text = raw.decode("utf-8")
        json.loads(text, parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as error:
        raise ApiError(400, f"The body is not valid JSON: {error}", kind="malformed-body") from None
    except RecursionError:
        raise ApiError(400, "The body is nested too deeply.", kind="malformed-body") from None
    try:
        return model.model_validate_json(text, strict=True)
    except ValidationError as error:
        for item in error.errors(include_url=False, include_input=False):
            if item["type"] == "json_invalid":  # what Python's parser let through
                reason = (item.get("ctx") or {}).get("error", "invalid")
                raise ApiError(
                    400, f"The body is not valid JSON: {reason}.", kind="malformed-body"
                ) from None
        raise invalid_request(_field_errors(error, root="body")) from None


# --- The document ----------------------------------------------------------------------


REF = "#/components/schemas/{model}"


Mode = Literal["validation", "serialization"]


def _models(api: Api) -> tuple[list[tuple[type[BaseModel], Mode]], set[type[BaseModel]]]:
    pairs: dict[tuple[type[BaseModel], Mode], None] = {(Problem, "serialization"): None}
    queries: set[type[BaseModel]] = set()
    for op in api.operations:
        if op.query is not None:
            pairs[(op.query, "validation")] = None
            queries.add(op.query)
        if op.body is not None:
            pairs[(op.body, "validation")] = None
        for model, _ in op.responses.values():
            if model is not None:
                pairs[(model, "serialization")] = None
    return list(pairs), queries


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A query parameter's schema: an absent parameter is how "none" is said, so the
    ``null`` alternative and a null default do not apply."""
    schema = {k: v for k, v in schema.items() if k != "title"}
    options = schema.get("anyOf")
    if options is not None:
        kept = [option for option in options if option != {"type": "null"}]
        del schema["anyOf"]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    if schema.get("default", 0) is None:
        del schema["default"]
    return schema


def _document(api: Api, server_url: str) -> dict[str, Any]:
    pairs, queries = _models(api)
    refs, top = models_json_schema(pairs, ref_template=REF)
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    query_schemas = {
        model: schemas[refs[(model, "validation")]["$ref"].rsplit("/", 1)[1]] for model in queries
    }

    def ref(model: type[BaseModel], mode: str) -> dict[str, Any]:
        return dict(refs[(model, mode)])  # type: ignore[index]

    problem = {PROBLEM_JSON: {"schema": ref(Problem, "serialization")}}
    known = {op.endpoint for op in api.operations}
    paths: dict[str, dict[str, Any]] = {}
    for op in api.operations:
        parameters: list[dict[str, Any]] = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": description,
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            }
            for name, description in op.path_params.items()
        ]
        if op.query is not None:
            schema = query_schemas[op.query]
            required = set(schema.get("required", []))
            for name, prop in schema.get("properties", {}).items():
                shown = _without_null(prop)
                parameter = {"name": name, "in": "query", "required": name in required}
                if "description" in shown:
                    parameter["description"] = shown.pop("description")
                parameter["schema"] = shown
                parameters.append(parameter)
        responses: dict[str, Any] = {}
        for status, (model, description) in sorted(op.responses.items()):
            entry: dict[str, Any] = {"description": description}
            if op.raw_media_type is not None and 200 <= status < 300:
                entry["content"] = {op.raw_media_type: {"schema": {}}}
            elif model is not None:
                media = PROBLEM_JSON if model is Problem else JSON
                entry["content"] = {media: {"schema": ref(model, "serialization")}}
            if op.links and 200 <= status < 300:
                unknown = set(op.links) - known
                if unknown:
                    raise ValueError(f"{op.endpoint} links to unknown operations {unknown}")
                entry["links"] = {
                    target: {"operationId": target, "parameters": dict(parameters)}
                    for target, parameters in op.links.items()
                }
            responses[str(status)] = entry
        for status, description in op.problem_statuses().items():
            responses.setdefault(str(status), {"description": description, "content": problem})
        responses["default"] = {
            "description": "Any other error, as problem details.",
            "content": problem,
        }
        operation: dict[str, Any] = {
            "operationId": op.endpoint,
            "summary": op.summary,
            "tags": [op.tag],
            "responses": responses,
        }
        if op.description:
            operation["description"] = op.description
        if parameters:
            operation["parameters"] = parameters
        if op.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {JSON: {"schema": ref(op.body, "validation")}},
            }
        operation["security"] = [] if op.scopes is None else [{"bearerToken": list(op.scopes)}]
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    for model in queries:  # described as parameters, not as schemas
        schemas.pop(refs[(model, "validation")]["$ref"].rsplit("/", 1)[1], None)
    return {
        "openapi": "3.1.0",
        "jsonSchemaDialect": "https://spec.openapis.org/oas/3.1/dialect/base",
        "info": {
            "title": api.title,
            "version": api.version,
            "description": api.description,
        },
        "servers": [{"url": server_url}],
        "tags": [{"name": name, "description": text} for name, text in api.tags.items()],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(schemas.items())),
            "securitySchemes": {
                "bearerToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "gm_ personal access token",
                    "description": (
                        "A personal access token from your account page, sent as "
                        "`Authorization: Bearer gm_...`. The roles listed on an operation "
                        "are the token scopes it needs (read, write, officer)."
                    ),
                }
            },
        },
    }
