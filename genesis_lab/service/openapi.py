"""The OpenAPI 3.0 description of the genesis service (served at ``api/openapi.json``)."""

from __future__ import annotations

from typing import Any

from genesis_lab.catalog.entry import DOMAINS, KINDS, MARKINGS

__all__ = ["openapi_document"]

_ERROR = {
    "type": "object",
    "required": ["error", "message"],
    "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
}


def _resp(description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    schema = schema or {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_COMMON = {
    "401": _resp("No valid hub token"),
    "403": _resp("Authenticated, but the policy denies it (the reason is in `message`)"),
}
_ID_PARAMS = [
    {"name": "domain", "in": "path", "required": True,
     "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]*$"}},
    {"name": "name", "in": "path", "required": True,
     "schema": {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]*$"}},
]  # fmt: skip


def _json_request(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


_USAGE_RECORD = {
    "type": "object",
    "required": ["allocation", "kind", "ref", "cores", "start", "end", "source"],
    "properties": {
        "allocation": {"type": "string"},
        "kind": {"type": "string", "enum": ["session", "cluster", "pipeline"]},
        "ref": {"type": "string", "minLength": 1, "maxLength": 200},
        "cores": {"type": "integer", "minimum": 1},
        "start": {"description": "epoch seconds or ISO 8601"},
        "end": {"description": "epoch seconds or ISO 8601"},
        "source": {"type": "string"},
    },
}
_COURSE_PARAM = {"name": "course", "in": "path", "required": True,
                 "schema": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,24}$"}}  # fmt: skip
_COURSE_RESULT = {
    "type": "object",
    "required": ["notebook", "exercise", "passed"],
    "properties": {
        "notebook": {"type": "string"},
        "exercise": {"type": "string"},
        "passed": {"type": "boolean"},
        "message": {"type": "string"},
    },
}
_AGENT_CALL = {
    "type": "object",
    "required": ["tool", "arguments_sha256", "outcome"],
    "properties": {
        "tool": {"type": "string", "maxLength": 64},
        "arguments_sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "outcome": {"type": "string"},
        "client": {"type": "string"},
        "token_note": {"type": "string"},
        "reason": {"type": "string"},
    },
}


def openapi_document(prefix: str = "/services/genesis/") -> dict[str, Any]:
    """The OpenAPI document, with paths under ``prefix``.

    >>> sorted(openapi_document()["paths"])[0]
    '/services/genesis/api/catalog'
    """
    p = prefix.rstrip("/")
    entry_list = {
        "type": "object",
        "required": ["count", "entries"],
        "properties": {
            "count": {"type": "integer", "minimum": 0},
            "entries": {"type": "array", "items": {"$ref": "#/components/schemas/Entry"}},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "genesis service",
            "version": "1",
            "description": "Catalog, data and pipelines of genesis-lab behind JupyterHub. Every "
            "request is decided on the caller's current hub groups and written to the audit log. "
            "Entries the caller may not know exist answer exactly as unknown ids.",
        },
        "servers": [{"url": "/"}],
        "security": [{"hubToken": []}],
        "components": {
            "securitySchemes": {
                "hubToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`token <JupyterHub API or OAuth token>`",
                }
            },
            "schemas": {
                "Error": _ERROR,
                "Entry": {
                    "type": "object",
                    "required": ["id", "kind", "domain", "title", "accessLevel", "access"],
                    "properties": {
                        "id": {"type": "string"},
                        "kind": {"type": "string", "enum": list(KINDS)},
                        "domain": {"type": "string", "enum": list(DOMAINS)},
                        "title": {"type": "string"},
                        "marking": {"type": "string", "enum": list(MARKINGS)},
                        "accessLevel": {
                            "type": "string",
                            "enum": ["public", "restricted public", "non-public"],
                        },
                        "access": {
                            "type": "object",
                            "required": ["may_read", "reason"],
                            "properties": {
                                "may_read": {"type": "boolean"},
                                "reason": {"type": "string"},
                            },
                        },
                        "distribution": {"type": "array", "items": {"type": "object"}},
                        "served": {
                            "type": "boolean",
                            "description": "Whether the service serves files for this entry "
                            "(only present when the caller may read it)",
                        },
                        "zarr_format": {
                            "type": "integer",
                            "enum": [2, 3],
                            "description": "The zarr format of a served zarr store",
                        },
                    },
                },
            },
        },
        "paths": {
            f"{p}/api/catalog": {
                "get": {
                    "summary": "Entries the caller may see, searched by text and facets",
                    "operationId": "listCatalog",
                    "parameters": [
                        {"name": "q", "in": "query", "schema": {"type": "string"}},
                        {
                            "name": "domain",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(DOMAINS)},
                        },
                        {
                            "name": "kind",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(KINDS)},
                        },
                        {
                            "name": "marking",
                            "in": "query",
                            "schema": {"type": "string", "enum": list(MARKINGS)},
                        },
                        {"name": "keyword", "in": "query", "schema": {"type": "string"}},
                    ],
                    "responses": {
                        "200": _resp("The visible entries", entry_list),
                        "400": _resp("A facet has a value that is not allowed"),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/catalog/{{domain}}/{{name}}": {
                "get": {
                    "summary": "One entry's metadata; distributions only if the caller may read",
                    "operationId": "getEntry",
                    "parameters": _ID_PARAMS,
                    "responses": {
                        "200": _resp("The entry", {"$ref": "#/components/schemas/Entry"}),
                        "404": _resp("Unknown id, or an entry hidden from the caller"),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/data/{{domain}}/{{name}}": {
                "get": {
                    "summary": "The files of a dataset's store",
                    "operationId": "listDataFiles",
                    "parameters": _ID_PARAMS,
                    "responses": {
                        "200": _resp(
                            "The store's files",
                            {
                                "type": "object",
                                "required": ["id", "files", "url"],
                                "properties": {
                                    "id": {"type": "string"},
                                    "url": {"type": "string"},
                                    "format": {"type": "string", "nullable": True},
                                    "files": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        ),
                        "404": _resp("Unknown or hidden id, or nothing served for it"),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/data/{{domain}}/{{name}}/{{path}}": {
                "get": {
                    "summary": "One file of a dataset's store (zarr metadata or a chunk)",
                    "operationId": "getDataFile",
                    "parameters": [
                        *_ID_PARAMS,
                        {
                            "name": "path",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The file's bytes",
                            "content": {
                                "application/octet-stream": {
                                    "schema": {"type": "string", "format": "binary"}
                                }
                            },
                        },
                        "400": _resp("A path that would leave the dataset"),
                        "404": _resp("Unknown or hidden id, or no such file"),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/dcat": {
                "get": {
                    "summary": "DCAT-US 1.1 catalog of the entries the caller may see",
                    "operationId": "exportDcat",
                    "responses": {
                        "200": _resp(
                            "A DCAT-US catalog",
                            {
                                "type": "object",
                                "required": ["dataset"],
                                "properties": {"dataset": {"type": "array"}},
                            },
                        ),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/openapi.json": {
                "get": {
                    "summary": "This document",
                    "operationId": "openapi",
                    "responses": {"200": _resp("OpenAPI 3.0", {"type": "object"}), **_COMMON},
                }
            },
            f"{p}/api/runs": {
                "post": {
                    "summary": "Run a challenge pipeline (vetted callers, cleared for its inputs)",
                    "operationId": "createRun",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["challenge"],
                                    "properties": {
                                        "challenge": {"type": "string"},
                                        "parameters": {"type": "object"},
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _resp("The run's record", {"type": "object"}),
                        "400": _resp("Bad body or parameters"),
                        "404": _resp("Unknown or hidden challenge"),
                        "422": _resp("The run failed"),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/datasets/{{domain}}/{{name}}": {
                "put": {
                    "summary": "Register a dataset made in a session (save_dataset)",
                    "operationId": "registerDataset",
                    "parameters": _ID_PARAMS,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["title", "description", "source", "netcdf"],
                                    "properties": {
                                        "title": {"type": "string"},
                                        "description": {"type": "string"},
                                        "source": {"type": "string"},
                                        "marking": {"type": "string", "enum": list(MARKINGS)},
                                        "netcdf": {
                                            "type": "string",
                                            "description": "the data, base64 of a netCDF file",
                                        },
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "201": _resp("The registered entry", {"type": "object"}),
                        "400": _resp("A bad field"),
                        "404": _resp("No such endpoint: the id is not domain/name"),
                        "409": _resp("The id is taken or reserved"),
                        "413": _resp("The body is larger than service.max_upload_bytes"),
                        "422": _resp("The dataset could not be registered"),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/schedules": {
                "get": {
                    "summary": "Schedules of pipelines",
                    "operationId": "listSchedules",
                    "responses": {
                        "200": _resp("The schedules", {"type": "object"}),
                        "501": _resp("Schedules are not available in this installation"),
                        **_COMMON,
                    },
                },
                "post": {
                    "summary": "Create a schedule owned by the caller",
                    "operationId": "createSchedule",
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"type": "object"}}},
                    },
                    "responses": {
                        "201": _resp("The schedule", {"type": "object"}),
                        "400": _resp("A bad schedule"),
                        "501": _resp("Schedules are not available in this installation"),
                        **_COMMON,
                    },
                },
            },
            f"{p}/api/usage": {
                "get": {
                    "summary": "The caller's usage and their allocations' balances (admins: all)",
                    "operationId": "readUsage",
                    "responses": {
                        "200": _resp("Records and balances", {"type": "object"}),
                        **_COMMON,
                    },
                },
                "post": {
                    "summary": "Charge one record of the caller's own work to an allocation "
                    "they are a member of",
                    "operationId": "chargeUsage",
                    "requestBody": _json_request(_USAGE_RECORD),
                    "responses": {
                        "201": _resp("The record as kept", {"type": "object"}),
                        "400": _resp("A bad or missing field (named in `message`)"),
                        **_COMMON,
                    },
                },
            },
            f"{p}/api/courses/{{course}}/results": {
                "parameters": [_COURSE_PARAM],
                "get": {
                    "summary": "Exercise results: the caller's own; the course's educators and "
                    "admins see every learner's",
                    "operationId": "readCourseResults",
                    "parameters": [
                        {
                            "name": "user",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": _resp("Results per learner and notebook", {"type": "object"}),
                        "404": _resp("No such course, or the user is not its learner"),
                        **_COMMON,
                    },
                },
                "post": {
                    "summary": "Record one exercise outcome of the caller (learners only)",
                    "operationId": "recordCourseResult",
                    "requestBody": _json_request(_COURSE_RESULT),
                    "responses": {
                        "201": _resp("Recorded", {"type": "object"}),
                        "400": _resp("A bad field"),
                        "404": _resp("No such course"),
                        **_COMMON,
                    },
                },
            },
            f"{p}/api/audit/agent": {
                "post": {
                    "summary": "Audit one AI agent tool call in the caller's name",
                    "operationId": "auditAgentCall",
                    "requestBody": _json_request(_AGENT_CALL),
                    "responses": {
                        "201": _resp("Recorded", {"type": "object"}),
                        "400": _resp("A bad field (named in `message`)"),
                        **_COMMON,
                    },
                }
            },
            f"{p}/api/audit/notice": {
                "post": {
                    "summary": "Audit the caller's acknowledgement of the system-use notice",
                    "operationId": "auditNotice",
                    "responses": {"201": _resp("Recorded", {"type": "object"}), **_COMMON},
                }
            },
        },
    }
