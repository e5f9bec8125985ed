"""Can a server listen on ``host:port``?  A bind test before a command announces where it serves.

Pure module (sockets only): ``monitor serve`` and ``monitor demo`` call it before printing anything, so a
busy port is one ``Error:`` line and exit 2 instead of a server's own traceback.
"""

from __future__ import annotations

import errno
import socket

from monitor.errors import UsageError


def port_problem(host: str, port: int) -> str | None:
    """Why nothing can listen on ``host:port`` (a phrase), or None when it can.  Port 0 (any free port)
    is always possible.  The probe binds the way servers do (``SO_REUSEADDR``), then closes."""
    if port == 0:
        return None
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError):
        return f"{host} is not a host name or address this machine knows"
    family, kind, proto, _name, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(address)
            probe.listen(1)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return f"port {port} on {host} is in use (another program listens there)"
            if exc.errno == errno.EACCES:
                return f"port {port} on {host} needs more privileges (ports below 1024 need root)"
            if exc.errno == errno.EADDRNOTAVAIL:
                return f"{host} is not an address of this machine"
            return f"cannot listen on port {port} on {host}: {exc.strerror or exc}"
    return None


def ensure_port_free(host: str, port: int, hint: str = "choose another with --port") -> None:
    """UsageError (exit 2) with one line when ``port_problem`` finds one."""
    problem = port_problem(host, port)
    if problem:
        raise UsageError(f"{problem}; {hint}")
