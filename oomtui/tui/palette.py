"""Styles for data the widgets colour themselves, resolved from the app's theme.

Tree labels and table cells are Rich `Text`, which cannot name theme
variables; so the theme's colours are looked up once per theme change and
handed down as plain Rich style strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Palette:
    ok: str = "#4EBF71"
    careful: str = "#0178D4"
    warning: str = "#FEA62B"
    critical: str = "#B93C5B"
    edit: str = "bold #FFC473"
    victim: str = "bold #D17E92"
    actual: str = "bold #FEA62B"
    # The flags of the victim and of the kernel's real kill: reverse video, which a
    # 16-colour console and NO_COLOR keep, besides the character itself.
    victim_mark: str = "bold reverse #D17E92"
    actual_mark: str = "bold reverse #FEA62B"
    dim: str = "#8a8a8a"
    heading: str = "bold"

    @classmethod
    def from_theme(cls, v: Mapping[str, str]) -> Palette:
        """From `App.theme_variables`; missing names keep the defaults."""

        def get(name: str, default: str) -> str:
            value = v.get(name) or ""
            return value if value.startswith("#") else default

        d = cls()
        return cls(
            ok=get("success", d.ok),
            careful=get("primary", d.careful),
            warning=get("warning", d.warning),
            critical=get("error", d.critical),
            edit="bold " + get("text-warning", "#FFC473"),
            victim="bold " + get("text-error", "#D17E92"),
            actual="bold " + get("warning", "#FEA62B"),
            victim_mark="bold reverse " + get("text-error", "#D17E92"),
            actual_mark="bold reverse " + get("warning", "#FEA62B"),
            dim=get("foreground-muted", d.dim)[:7],
        )

    def for_level(self, level: str) -> str:
        return {"ok": self.ok, "careful": self.careful, "warning": self.warning}.get(level, self.critical)
