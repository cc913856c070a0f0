"""The MCP server object for one agent context: tools, catalog entries as resources, audit.

:func:`build_server` gives a low-level :class:`mcp.server.Server` that any transport can run:
``genesis-lab mcp`` over stdio, the hub's streamable HTTP mount, or the in-memory client in tests.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import mcp_types as types
from mcp.server import Server
from mcp.server.context import ServerRequestContext
from mcp.shared.exceptions import MCPError

from genesis_lab import __version__
from genesis_lab.mcp import arguments as A
from genesis_lab.mcp.audit import AgentAudit
from genesis_lab.mcp.context import AgentContext
from genesis_lab.mcp.failures import ToolError
from genesis_lab.mcp.tools import TOOL_NAMES, Toolbox

__all__ = ["ENTRY_TEMPLATE", "build_server", "tool_definitions", "tool_input_schema"]

log = logging.getLogger(__name__)

ENTRY_TEMPLATE = "genesis://entry/{id}"
_ENTRY_PREFIX = "genesis://entry/"

INSTRUCTIONS = (
    "genesis-lab acts as the logged-in user: their clearances, their allocation, every call "
    "audited. Long tools (sweep_start, campaign_start, challenge_run) return a handle; follow it "
    "with job_status (wait_seconds streams progress). A costly call may be held for the user's "
    "approval: it then returns a handle in state pending-approval."
)


@functools.cache
def tool_definitions() -> tuple[types.Tool, ...]:
    """The 15 tools with their input schemas (simulator and challenge ids spelled out)."""
    import warnings

    from genesis_lab.catalog.catalog import CatalogWarning
    from genesis_lab.pipelines import list_challenges
    from genesis_lab.simulators.registry import get_simulator, list_simulators

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CatalogWarning)
        simulators = {e.id: get_simulator(e.id) for e in list_simulators()}
    challenges = {c.id: c for c in list_challenges()}
    out = []
    for name in TOOL_NAMES:
        model = A.ARGUMENTS[name]
        out.append(
            types.Tool(
                name=name,
                description=(model.__doc__ or name).strip(),
                input_schema=A.tool_input_schema(name, simulators, challenges),
            )
        )
    return tuple(out)


@functools.cache
def _input_schemas() -> dict[str, Any]:
    return {tool.name: tool.input_schema for tool in tool_definitions()}


def tool_input_schema(name: str) -> Any:
    """Tool ``name``'s input schema (None: no such tool), without running ``tools/list``: the
    streamable-HTTP transport otherwise lists every tool on each call to find the schema it
    checks ``Mcp-Param-*`` headers against.

    >>> tool_input_schema("catalog_search")["type"], tool_input_schema("nope")
    ('object', None)
    """
    return _input_schemas().get(name)


def _client_name(ctx: ServerRequestContext[Any], context: AgentContext) -> str:
    params = ctx.session.client_params
    info = getattr(params, "client_info", None) if params is not None else None
    return (getattr(info, "name", "") or context.client_name or "unknown")[:200]


def _can_elicit(ctx: ServerRequestContext[Any]) -> bool:
    caps = ctx.session.client_capabilities
    return bool(caps is not None and caps.elicitation is not None)


def _text(result: dict[str, Any]) -> str:
    return json.dumps(result, default=str)


_APPROVAL_KEY = "genesis-approve"


def _approval_request(tool: str, held: dict[str, Any]) -> types.ElicitRequestFormParams:
    schema = {
        "type": "object",
        "required": ["approve"],
        "properties": {
            "approve": {
                "type": "boolean",
                "title": f"Run {tool}?",
                "description": held.get("reason", ""),
            }
        },
    }
    return types.ElicitRequestFormParams(
        message=f"The agent asks to run {tool}, which is over this allocation's agent limits "
        f"({held.get('reason', '')}). Approve it?",
        requested_schema=schema,  # type: ignore[arg-type]
    )


async def _settle(toolbox: Toolbox, held: dict[str, Any], answer: Any) -> dict[str, Any]:
    """Approve or reject a held call by the user's answer; a dismissed question leaves it held."""
    gate = toolbox.context.gate
    rid = held["request_id"]
    content = getattr(answer, "content", None) or {}
    action = getattr(answer, "action", "cancel")
    if action == "accept" and content.get("approve") is True:
        await anyio.to_thread.run_sync(functools.partial(gate.approve, rid, by="elicitation"))
    elif action in ("accept", "decline"):
        await anyio.to_thread.run_sync(functools.partial(gate.reject, rid, by="elicitation"))
    else:
        return held
    return await anyio.to_thread.run_sync(toolbox.call, "job_status", {"handle": held["handle"]})


async def _ask_user(
    ctx: ServerRequestContext[Any], toolbox: Toolbox, tool: str, held: dict[str, Any]
) -> dict[str, Any] | types.InputRequiredResult:
    """Ask the user through the client (MCP elicitation) to approve a held call: a request on
    the back-channel where there is one (handshake era), else an input-required result the
    client answers by calling again (2026-07-28)."""
    request = _approval_request(tool, held)
    if not ctx.session.can_send_request:
        return types.InputRequiredResult(
            input_requests={_APPROVAL_KEY: types.ElicitRequest(params=request)},
            request_state=held["handle"],
        )
    try:
        answer = await ctx.session.elicit_form(
            request.message, request.requested_schema, related_request_id=ctx.request_id
        )
    except Exception as exc:  # the client could not ask: the call stays held
        log.info("elicitation for %s failed: %s", held["handle"], exc)
        return held
    return await _settle(toolbox, held, answer)


def _answering(params: types.CallToolRequestParams) -> bool:
    """Whether this call is a retry carrying the user's answer to a held call (2026-07-28)."""
    answer = (params.input_responses or {}).get(_APPROVAL_KEY)
    return bool(params.request_state) and answer is not None


async def _answered(
    toolbox: Toolbox, tool: str, params: types.CallToolRequestParams
) -> dict[str, Any] | None:
    """The held call a retry with the user's answer is about (2026-07-28), settled."""
    if not _answering(params):
        return None
    handle = str(params.request_state)
    answer = (params.input_responses or {}).get(_APPROVAL_KEY)
    job = toolbox.jobs.store.get(handle) if handle.replace("-", "").isalnum() else None
    if job is None or job["tool"] != tool or job["state"] != "pending-approval":
        raise ToolError(
            "request_state",
            f"{handle!r} is not a call of {tool} held for approval",
            fix="call the tool again without input responses",
        )
    held = toolbox.jobs.status(handle)
    return await _settle(toolbox, held, answer)


def _refusal(exc: ToolError) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=exc.text())],
        structured_content={"error": exc.to_dict()},
        is_error=True,
    )


def _internal(name: str, ref: str) -> types.CallToolResult:
    text = (
        f"{name} failed inside the server (reference {ref}; the details are in the server's "
        "log). Check the arguments, or try again."
    )
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)], is_error=True)


def _success(result: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(type="text", text=_text(result))], structured_content=result
    )


def build_server(context: AgentContext, *, toolbox: Toolbox | None = None) -> Server[Any]:
    """An MCP server whose tools act as ``context.user``, audited, behind ``context.gate``.

    >>> import tempfile, pathlib
    >>> ctx = AgentContext("ada", gate=object(), state_dir=pathlib.Path(tempfile.mkdtemp()))
    >>> build_server(ctx).name
    'genesis-lab'
    """
    toolbox = toolbox or Toolbox(context)
    audit = AgentAudit(context)

    def audit_now(tool: str, arguments: Any, outcome: str, client: str, reason: str) -> None:
        audit.record(tool=tool, arguments=arguments, outcome=outcome, client=client, reason=reason)

    async def record(tool: str, arguments: Any, outcome: str, client: str, reason: str) -> None:
        await anyio.to_thread.run_sync(
            functools.partial(
                audit.record,
                tool=tool,
                arguments=arguments,
                outcome=outcome,
                client=client,
                reason=reason,
            )
        )

    async def list_tools(ctx: ServerRequestContext[Any], params: Any) -> types.ListToolsResult:
        tools = await anyio.to_thread.run_sync(tool_definitions)
        return types.ListToolsResult(tools=list(tools))

    async def call_tool(
        ctx: ServerRequestContext[Any], params: types.CallToolRequestParams
    ) -> types.CallToolResult | types.InputRequiredResult:
        name, arguments = params.name, params.arguments or {}
        client = _client_name(ctx, context)

        def notify(progress: float, total: float | None, message: str) -> None:
            try:
                anyio.from_thread.run(ctx.session.report_progress, progress, total, message)
            except Exception as exc:  # a client gone away does not stop the work
                log.debug("progress not sent: %s", exc)

        ask = _can_elicit(ctx) and toolbox.context.gate.limits.elicitation

        def refused_if_stopped() -> types.CallToolResult | None:
            """Over HTTP the endpoint refuses first; over stdio this is the only check."""
            stop = toolbox.context.gate.stopped()
            if not stop:
                return None
            refused = ToolError(
                "tool",
                f"{name} refused: the agents of {toolbox.context.user} were stopped by "
                f"{stop.get('by')} at {stop.get('at')}",
                fix="the user runs `genesis-lab agent enable` to let agents run again",
            )
            audit_now(name, arguments, "denied", client, refused.text())
            return _refusal(refused)

        def attempt() -> tuple[dict[str, Any] | None, types.CallToolResult | None]:
            """The stop check, the tool and its audit record in one worker thread (one hop)."""
            stopped = refused_if_stopped()
            if stopped is not None:
                return None, stopped
            try:
                result = toolbox.call(name, arguments, notify)
            except ToolError as exc:
                audit_now(name, arguments, "denied", client, exc.text())
                return None, _refusal(exc)
            except Exception:
                ref = uuid.uuid4().hex[:12]
                log.exception("tool %s failed (reference %s)", name, ref)
                audit_now(name, arguments, "error", client, f"internal error {ref}")
                return None, _internal(name, ref)
            if not (ask and result.get("state") == "pending-approval"):
                audit_now(name, arguments, "success", client, str(result.get("state", "")))
            return result, None

        result = None
        if _answering(params):
            stopped = await anyio.to_thread.run_sync(refused_if_stopped)
            if stopped is not None:
                return stopped
            try:
                result = await _answered(toolbox, name, params)
            except ToolError as exc:
                await record(name, arguments, "denied", client, exc.text())
                return _refusal(exc)
        if result is None:
            result, failed = await anyio.to_thread.run_sync(attempt)
            if failed is not None:
                return failed
            assert result is not None
            if not (ask and result.get("state") == "pending-approval"):
                return _success(result)
        if ask and result.get("state") == "pending-approval":
            try:
                asked = await _ask_user(ctx, toolbox, name, result)
            except ToolError as exc:
                await record(name, arguments, "denied", client, exc.text())
                return _refusal(exc)
            if isinstance(asked, types.InputRequiredResult):
                await record(name, arguments, "success", client, "asked the user")
                return asked
            result = asked
        await record(name, arguments, "success", client, str(result.get("state", "")))
        return _success(result)

    async def list_templates(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(
            resource_templates=[
                types.ResourceTemplate(
                    uri_template=ENTRY_TEMPLATE,
                    name="catalog-entry",
                    description="A catalog entry's metadata (what catalog_show gives)",
                    mime_type="application/json",
                )
            ]
        )

    async def list_resources(
        ctx: ServerRequestContext[Any], params: Any
    ) -> types.ListResourcesResult:
        found = await anyio.to_thread.run_sync(toolbox.call, "catalog_search", {"limit": 500})
        return types.ListResourcesResult(
            resources=[
                types.Resource(
                    uri=f"{_ENTRY_PREFIX}{e['id']}",
                    name=e["id"],
                    title=e["title"],
                    mime_type="application/json",
                )
                for e in found["entries"]
            ]
        )

    async def read_resource(
        ctx: ServerRequestContext[Any], params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        client = _client_name(ctx, context)
        if not uri.startswith(_ENTRY_PREFIX):
            raise MCPError(types.INVALID_PARAMS, f"uri {uri!r}: not a {ENTRY_TEMPLATE} resource")
        args = {"id": uri[len(_ENTRY_PREFIX) :]}
        try:
            entry = await anyio.to_thread.run_sync(toolbox.call, "catalog_show", args)
        except ToolError as exc:
            await record("resource:catalog_show", args, "denied", client, exc.text())
            raise MCPError(types.INVALID_PARAMS, exc.text()) from None
        await record("resource:catalog_show", args, "success", client, "")
        return types.ReadResourceResult(
            contents=[
                types.TextResourceContents(uri=uri, mime_type="application/json", text=_text(entry))
            ]
        )

    return Server(
        "genesis-lab",
        version=__version__,
        instructions=INSTRUCTIONS,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_templates,
        on_read_resource=read_resource,
        get_tool_input_schema=tool_input_schema,
    )
