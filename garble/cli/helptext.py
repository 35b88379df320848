"""The ``--help`` pages without Python type names: ``FILE...`` for arguments, no type for flags, TEXT/N/X/FILE."""

from __future__ import annotations

import types

# the types the help shows for option values (typer's default shows Python type names)
_METAVARS = {
    "str": "TEXT",
    "int": "N",
    "int range": "N",
    "float": "X",
    "float range": "X",
    "path": "FILE",
    "bool": None,
}


def _polish(param, ctx=None) -> None:
    kind = getattr(param, "param_type_name", "")
    if kind == "argument":
        name = param.metavar or param.name.upper()
        param.metavar = name
        param._usage_display_name = (lambda n=name: n) if param.required else (lambda n=name: f"[{n}]")
        param.display_type_rich = lambda ctx=None: None
        param.display_type = lambda ctx=None: ""
    elif kind == "option":
        if getattr(param, "is_flag", False) or getattr(param, "count", False):
            param.display_type_rich = lambda ctx=None: None
        elif param.metavar is None and hasattr(param, "display_type"):
            try:
                label = param.display_type(ctx).strip("<>")
            except Exception:
                return
            meta = _METAVARS.get(label, label)
            if meta is not None:
                param.metavar = meta


def polish_help(cmd) -> None:
    """Give the parameters of click command ``cmd`` and its subcommands (and their ``--help``) the metavars above."""
    for p in getattr(cmd, "params", []):
        _polish(p)
    get_help = getattr(cmd, "get_help_option", None)
    if callable(get_help):

        def patched(self, ctx, _orig=get_help):
            opt = _orig(ctx)
            if opt is not None:
                _polish(opt, ctx)
            return opt

        cmd.get_help_option = types.MethodType(patched, cmd)
    for sub in (getattr(cmd, "commands", None) or {}).values():
        polish_help(sub)
