"""Where a stream goes: "HOST:PORT" checked and resolved once, with one-line errors."""

from __future__ import annotations

import socket
from dataclasses import dataclass

from engine.core.errors import MonocapError

VMC_DEFAULT_TARGET = "127.0.0.1:39539"  # the port VMC receivers listen on unless told otherwise


class StreamTargetError(MonocapError):
    """A stream target that cannot be used (malformed, unknown host, bad port, no route)."""


@dataclass(frozen=True)
class StreamTarget:
    host: str
    port: int
    family: int  # socket.AF_INET or AF_INET6
    address: tuple  # the resolved socket address

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_target(text: str, option: str = "target") -> StreamTarget:
    """'HOST:PORT' (IPv6 as '[::1]:PORT') -> a resolved target, or a one-line StreamTargetError."""
    spec = text.strip()
    if spec.startswith("["):
        host, sep, port_text = spec[1:].partition("]:")
    else:
        host, sep, port_text = spec.rpartition(":")
    if not sep or not host or not port_text:
        raise StreamTargetError(f"{option} {text!r}: give HOST:PORT, e.g. {VMC_DEFAULT_TARGET}")
    try:
        port = int(port_text)
    except ValueError:
        raise StreamTargetError(f"{option} {text!r}: the port {port_text!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise StreamTargetError(f"{option} {text!r}: a port must be between 1 and 65535")
    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise StreamTargetError(f"{option} {text!r}: unknown host {host!r} ({exc})") from None
    return StreamTarget(host, port, family, address)


def open_socket(target: StreamTarget, option: str = "target") -> socket.socket:
    """A UDP socket connected to the target, so that a port nobody listens on is reported (as a
    refused send) rather than silently swallowed. Non-blocking: a send never waits."""
    sock = socket.socket(target.family, socket.SOCK_DGRAM)
    try:
        sock.connect(target.address)
    except OSError as exc:
        sock.close()
        raise StreamTargetError(f"{option} {target}: cannot send there ({exc.strerror or exc})") from None
    sock.setblocking(False)
    return sock
