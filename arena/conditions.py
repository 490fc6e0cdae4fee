"""The observer condition of a match (SPEC §6): `off`, `on` or `monitor`, what agents are told of
it, and the switch a trainer uses to change it mid-match."""

from __future__ import annotations

from pathlib import Path

OBSERVER_CONDITIONS = ("off", "on", "monitor")


class ConditionError(ValueError):
    """An observer condition that does not exist; the message lists those that do."""


def check_observer(condition: str) -> str:
    if condition not in OBSERVER_CONDITIONS:
        known = ", ".join(OBSERVER_CONDITIONS)
        raise ConditionError(f"unknown observer condition {condition!r} (known: {known})")
    return condition


def observer_text(condition: str, templates: Path | None = None) -> str:
    """What agents are told under `condition`: the template `observer/CONDITION.txt`."""
    from arena.llm.prompts import condition_text

    return condition_text(f"observer/{check_observer(condition)}.txt", templates)


class ObserverSwitch:
    """The condition in force in one match. `set` asks for a change; the runtime makes it at the
    next decision point, as an event every seat is told of."""

    def __init__(self, condition: str = "off") -> None:
        self.condition = check_observer(condition)
        self._wanted: str | None = None

    def set(self, condition: str) -> None:
        self._wanted = check_observer(condition)

    def take(self) -> str | None:
        """The change asked for since the last call, if it changes anything."""
        wanted, self._wanted = self._wanted, None
        return wanted if wanted is not None and wanted != self.condition else None
