"""Real receivers on the loopback address for the stream tests: a python-osc server that keeps
every datagram and dispatches each message, and a plain UDP socket for the JSON stream."""

from __future__ import annotations

import socket
import threading
import time

import numpy as np
from pythonosc.dispatcher import Dispatcher
from pythonosc.osc_bundle import OscBundle
from pythonosc.osc_message import OscMessage
from pythonosc.osc_server import BlockingOSCUDPServer
from pythonosc.parsing import osc_types
from scipy.spatial.transform import Rotation

from engine.animation.rig import UNITY_HUMANOID_RIG, UNITY_HUMANOID_RIG_FINGERS


class _Server(BlockingOSCUDPServer):
    def __init__(self, address, dispatcher, datagrams: list):
        super().__init__(address, dispatcher)
        self.datagrams = datagrams

    def verify_request(self, request, client_address):
        self.datagrams.append(request[0])
        return super().verify_request(request, client_address)


class OscReceiver:
    """A python-osc UDP server on 127.0.0.1 (a free port unless given)."""

    def __init__(self, port: int = 0):
        self.messages: list[tuple[str, tuple]] = []
        self.datagrams: list[bytes] = []
        dispatcher = Dispatcher()
        dispatcher.set_default_handler(lambda address, *args: self.messages.append((address, args)))
        self.server = _Server(("127.0.0.1", port), dispatcher, self.datagrams)
        self.server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> "OscReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()

    def wait_for(self, count: int, timeout: float = 30.0) -> None:
        end = time.monotonic() + timeout
        while len(self.datagrams) < count and time.monotonic() < end:
            time.sleep(0.01)


def bundle_messages(datagram: bytes) -> list[tuple[str, str, tuple]]:
    """(address, OSC type tags, arguments) of every message of one bundle datagram."""
    out = []
    for content in OscBundle(datagram):
        assert isinstance(content, OscMessage), "VMC bundles hold messages only"
        _, index = osc_types.get_string(content.dgram, 0)
        tags, _ = osc_types.get_string(content.dgram, index)
        out.append((content.address, tags, tuple(content.params)))
    return out


def rebuild_unity(messages: list[tuple[str, str, tuple]]) -> dict[str, np.ndarray] | None:
    """Forward kinematics of one received VMC frame, in Unity's axes: bone name -> position.
    The root transform, then each bone's local position (its T-pose offset) turned by its
    parent's global rotation, and the bone's local rotation composed onto the parent's. The
    finger bones too when the frame has them."""
    bones = {args[0]: args[1:] for address, _, args in messages if address == "/VMC/Ext/Bone/Pos"}
    roots = [args[1:] for address, _, args in messages if address == "/VMC/Ext/Root/Pos"]
    if not bones:
        return None
    rig = UNITY_HUMANOID_RIG_FINGERS if "LeftIndexProximal" in bones else UNITY_HUMANOID_RIG
    root = roots[0]
    glob = {None: Rotation.from_quat(root[3:7]).as_matrix()}
    pos = {None: np.array(root[:3])}
    for joint in rig.joints:
        parent = rig.joints[joint.parent].name if joint.parent >= 0 else None
        v = bones[joint.name]
        pos[joint.name] = pos[parent] + glob[parent] @ np.array(v[:3])
        glob[joint.name] = glob[parent] @ Rotation.from_quat(v[3:7]).as_matrix()
    del pos[None]
    return pos


class JsonReceiver:
    """A UDP socket on 127.0.0.1 keeping every datagram (or, keep=False, counting them)."""

    def __init__(self, keep: bool = True):
        self.keep = keep
        self.count = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)  # a burst on a loaded machine
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.datagrams: list[bytes] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
                self.count += 1
                if self.keep:
                    self.datagrams.append(data)
            except socket.timeout:
                continue

    def __enter__(self) -> "JsonReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()
