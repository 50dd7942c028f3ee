"""The department runner's sockets: loopback only, and answers sent without Nagle's delay."""

from __future__ import annotations

import asyncio
import socket

import pytest

from sandbox.servers.runner import LOOPBACK, _bind_all

pytestmark = pytest.mark.anyio


async def test_accepted_connections_have_tcp_nodelay() -> None:
    """Without it a reused connection stalls about 40 ms per answer on the client's delayed ACK."""
    listening = _bind_all({"banking": 0})["banking"]
    accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    class Capture(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    server = await asyncio.get_running_loop().create_server(Capture, sock=listening)
    try:
        host, port = listening.getsockname()
        assert host == LOOPBACK
        _, writer = await asyncio.open_connection(host, port)
        try:
            nodelay = await asyncio.wait_for(accepted, 5)
        finally:
            writer.close()
            await writer.wait_closed()
        assert nodelay != 0
    finally:
        server.close()
        await server.wait_closed()
