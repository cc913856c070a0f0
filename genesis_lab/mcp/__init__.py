"""The MCP endpoint for agents: the SDK's tools over the Model Context Protocol, as the user.

A face like the CLI and the widgets: the tools call the same SDK functions, so clearances,
allocations and audit are the service's. ``genesis-lab mcp`` serves it over stdio;
:func:`genesis_lab.mcp.server.build_server` gives the server object for other transports.
"""
