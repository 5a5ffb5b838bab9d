"""The detector's output: a verdict with the evidence it rests on.

These dataclasses are the contract between the detector and everything that renders
verdicts (CLI, forum replies, Discord embeds). `Verdict.to_dict()` is the JSON shape
of `farmhand analyze --json` (see DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

VerdictKind = Literal["bare-metal", "virtual", "container", "inconclusive"]
VERDICT_KINDS: tuple[VerdictKind, ...] = ("bare-metal", "virtual", "container", "inconclusive")


class InputRefused(ValueError):
    """The input is not something we analyse (binary, too large, unreadable).

    The message is one line, fit to print after ``error: ``.
    """


@dataclass(frozen=True, slots=True)
class Evidence:
    """One line of a paste that points somewhere, and why."""

    source: str  # tool the line came from: "dmidecode", "lscpu", "dmesg", ...
    line: int  # 1-based line number in the original paste
    text: str  # the line, with serials, UUIDs, MACs, IPs and hostnames masked
    signal: str  # short id of the signature that matched, e.g. "dmi-product-vmware"
    points_to: str  # "virtual:vmware", "bare-metal:dell", "container:docker", "host-capability", ...
    weight: float  # strength of this signal, 0..1

    def to_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "line": self.line,
            "text": self.text,
            "signal": self.signal,
            "points_to": self.points_to,
            "weight": self.weight,
        }


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the paste says about the machine."""

    verdict: VerdictKind
    hypervisor: str | None = None
    provider: str | None = None
    vendor: str | None = None
    confidence: float = 0.0
    zos_flags_virtual: bool | None = None
    evidence: tuple[Evidence, ...] = ()
    missing: tuple[str, ...] = ()
    # Human-readable caveats: contradictions, "a Windows host with Hyper-V on looks like this too", ...
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """The JSON object of `farmhand analyze --json` (plus `notes`)."""
        return {
            "verdict": self.verdict,
            "hypervisor": self.hypervisor,
            "provider": self.provider,
            "vendor": self.vendor,
            "confidence": round(self.confidence, 3),
            "zos_flags_virtual": self.zos_flags_virtual,
            "evidence": [e.to_dict() for e in self.evidence],
            "missing": list(self.missing),
            "notes": list(self.notes),
        }
