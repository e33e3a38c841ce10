"""The CLI's and the app's stream options -> channels (an encoder and where it sends)."""

from __future__ import annotations

from engine.streaming.joints_json import JsonEncoder
from engine.streaming.sender import Channel
from engine.streaming.targets import StreamTargetError, parse_target
from engine.streaming.vmc import VmcEncoder

OFF = ("", "off", "none")


def channels_from_targets(vmc: str = "", json: str = "", warmup_s: float = 3.0) -> list[Channel]:
    """vmc, json: 'HOST:PORT' or '' / 'off'. At least one must be given."""
    channels = []
    if vmc.strip().lower() not in OFF:
        channels.append(Channel(VmcEncoder(warmup_s), parse_target(vmc, "--vmc")))
    if json.strip().lower() not in OFF:
        channels.append(Channel(JsonEncoder(), parse_target(json, "--json")))
    if not channels:
        raise StreamTargetError("stream: nothing to send; give --vmc HOST:PORT or --json HOST:PORT")
    return channels
