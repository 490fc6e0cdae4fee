"""Every secret tool, by id. Adding a tool: one module defining `TOOL`, and one line here."""

from tools import alliance_hint, peek, remote_zap, rig_revolver, secret_channel
from tools.base import Tool

CATALOGUE: dict[str, Tool] = {
    module.TOOL.id: module.TOOL
    for module in (secret_channel, alliance_hint, peek, rig_revolver, remote_zap)
}


def tools_for(game: str) -> dict[str, Tool]:
    """The tools that apply to `game`."""
    return {tool_id: tool for tool_id, tool in CATALOGUE.items() if game in tool.games}
