"""The MCP server over the SDK's streamable-HTTP session manager (ASGI, in process) with the mcp
package's own client on the 2026-07-28 protocol: a tool call does not list every tool again to
find the schema its ``Mcp-Param-*`` headers are checked against."""

from __future__ import annotations

import asyncio


def test_a_tool_call_does_not_run_tools_list(context, monkeypatch) -> None:
    import httpx2
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

    import genesis_lab as gl
    from genesis_lab.mcp import server as S

    listed = S.tool_definitions()
    S.tool_input_schema("catalog_search")  # computed once per process, from the listing
    listings: list[int] = []

    def counted() -> tuple:
        listings.append(1)
        return listed

    monkeypatch.setattr(S, "tool_definitions", counted)
    manager = StreamableHTTPSessionManager(app=S.build_server(context))

    async def main() -> tuple[str, list]:
        async with manager.run():
            transport = httpx2.ASGITransport(app=manager.handle_request)
            http = httpx2.AsyncClient(transport=transport, base_url="http://agent.test")
            async with Client(
                streamable_http_client("http://agent.test/mcp", http_client=http)
            ) as c:
                tools = (await c.list_tools()).tools
                assert listings == [1]
                listings.clear()
                answers = [
                    await c.call_tool("catalog_search", {"text": "neutron"}) for _ in range(3)
                ]
                return c.protocol_version, [tools, answers]

    version, (tools, answers) = asyncio.run(main())
    assert version == "2026-07-28"
    assert listings == []
    assert S.tool_input_schema("catalog_search") == next(
        t.input_schema for t in tools if t.name == "catalog_search"
    )
    want = sorted(e.id for e in gl.search("neutron"))
    for answer in answers:
        assert sorted(e["id"] for e in answer.structured_content["entries"]) == want
