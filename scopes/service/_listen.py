"""Run `scopes serve` under uvicorn on a socket bound first, and say where once it listens.

The socket is bound before anything else, so the address is known (the real port for `--port
0`) before the app is configured with it, and a port in use is a message, not a traceback.
`scopes: listening on http://HOST:PORT` is printed only when connections are accepted: with one
worker, after uvicorn's startup (the app loaded, its lifespan run); with several, once the
shared socket listens, since the workers accept from its queue as they come up.

Imports uvicorn: `scopes serve` imports this module only once it knows the extra is installed.
"""

from __future__ import annotations

import inspect
import socket
from collections.abc import Callable

import uvicorn
from uvicorn.supervisors import Multiprocess

__all__ = ["BindError", "bind", "serve", "url"]


def __dir__() -> list[str]:
    return __all__


class BindError(OSError):
    """The address cannot be listened on (in use, not ours, not an address)."""


def bind(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port), as uvicorn binds one, not yet listening."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise BindError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as error:
        sock.close()
        raise BindError(f"cannot listen on {host}:{port}: {error.strerror}") from None
    sock.set_inheritable(True)  # for worker processes
    return sock


def url(host: str, sock: socket.socket) -> str:
    """`http://HOST:PORT`: the host as given (so `--host localhost` stays the issuer's name),
    the socket's real port (that of `--port 0` too), an IPv6 address in brackets."""
    port = sock.getsockname()[1]
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(config: uvicorn.Config, sock: socket.socket, announce: Callable[[], None]) -> bool:
    """Serve on `sock` until told to stop; `announce()` once it accepts connections.

    Returns whether the server started.
    """
    if config.workers == 1:
        server = _AnnouncingServer(config, announce)
        server.run(sockets=[sock])
        return server.started
    sock.listen(config.backlog)
    if "target" in inspect.signature(Multiprocess).parameters:  # uvicorn before its rewrite
        supervisor = Multiprocess(config, target=uvicorn.Server(config).run,  # type: ignore[call-arg]
                                  sockets=[sock])
    else:
        supervisor = Multiprocess(config, sockets=[sock])
    announce()
    supervisor.run()
    return True


class _AnnouncingServer(uvicorn.Server):
    """uvicorn's server, saying so once its startup is through (the sockets listening)."""

    def __init__(self, config: uvicorn.Config, announce: Callable[[], None]) -> None:
        super().__init__(config)
        self._announce = announce

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and not self.should_exit:
            self._announce()
