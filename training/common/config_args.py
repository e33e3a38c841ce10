"""Command-line options made from a config dataclass, so a script lists each setting once.

    add_config_arguments(parser, ImageNetTrainConfig, help={"lr": "..."})
    cfg = config_from_args(args, ImageNetTrainConfig)

Each field `some_name` becomes `--some-name`, typed from its annotation: str, int, float; bool
(a flag that turns a False default on, or `--no-some-name` for a True default); tuples of numbers
(comma-separated: `--layers 3,4,6`); `X | None` (X, default None). Fields of other types
(nested configs) are not options; the caller sets them.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
import typing
from typing import Any

_SCALARS = (str, int, float)


def _option_type(tp) -> tuple[Any, bool] | None:
    """annotation -> (what parses it, optional?) or None when it is not an option."""
    optional = False
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) != 1:
            return None
        tp, optional = args[0], True
    if tp in _SCALARS or tp is bool:
        return tp, optional
    if typing.get_origin(tp) is tuple:
        items = [a for a in typing.get_args(tp) if a is not Ellipsis]
        if items and all(a in _SCALARS for a in items):
            kind = items[0]
            return (lambda text, kind=kind: tuple(kind(v) for v in text.split(",") if v.strip())), optional
    return None


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def add_config_arguments(parser: argparse.ArgumentParser, config_type: type, *, skip: tuple[str, ...] = (),
                         help: dict[str, str] | None = None, choices: dict[str, tuple] | None = None,
                         required: tuple[str, ...] = ()) -> None:
    defaults = config_type()
    hints = typing.get_type_hints(config_type)
    help, choices = help or {}, choices or {}
    for f in dataclasses.fields(config_type):
        if f.name in skip:
            continue
        option = _option_type(hints[f.name])
        if option is None:
            continue
        parse, _ = option
        default = getattr(defaults, f.name)
        text = help.get(f.name)
        if parse is bool:
            if default:
                parser.add_argument("--no-" + f.name.replace("_", "-"), dest=f.name, action="store_false", help=text)
            else:
                parser.add_argument(_flag(f.name), dest=f.name, action="store_true", help=text)
            continue
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        kwargs: dict = {"type": parse, "dest": f.name}
        if f.name in choices:
            kwargs["choices"] = choices[f.name]
        if f.name in required:
            kwargs["required"], kwargs["help"] = True, text
        else:
            kwargs["default"], kwargs["help"] = default, (text + " " if text else "") + f"(default {shown})"
        parser.add_argument(_flag(f.name), **kwargs)


def config_from_args(args: argparse.Namespace, config_type: type, **others):
    """The config with every option `add_config_arguments` added; `others` sets the rest."""
    values = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_type) if hasattr(args, f.name)}
    return config_type(**(values | others))
