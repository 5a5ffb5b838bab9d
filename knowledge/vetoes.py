"""The rules that decide alone, beside the model: high-precision vetoes, each with its reason.

A veto only ever silences an auto-reply (an explicit call still gets the best entry); none
of them can make the bot speak, and no list of platforms decides recall. Each is tied to
the clause it reads:

- the post says the VM is NOT for farming ("just a dev VM, not for farming");
- the support case: a node SHOWN as virtualized that the writer says is real hardware
  ("my node says virtualized but it's a real dell r720") goes to `wrongly-flagged`;
- another project named as the subject and no ThreeFold word at all ("my Presearch node
  on a VPS");
- every word for a VM in the post is negated ("Kein VM, kein Docker: ZOS startet direkt"):
  the writer says the node is not virtual.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge import prefilter
from knowledge.features import NEGATED_VIRT, NOT_FOR_FARMING, OTHER_PROJECT, SHOWN_VIRTUAL, VIRT_TERM, read

WRONGLY_FLAGGED = "wrongly-flagged"

# A real-machine claim about this box ("but it's a real dell", "it is bare metal").
REAL_CLAIM = re.compile(
    r"\b(?:it'?s|its|it is|is|on|a|running on|runs on) (?:a |an |actually |really |definitely |100% )?"
    r"(?:real|physical|actual) (?:\w+ ){0,2}?(?:hardware|server|machine|box|dell|hp|hpe|supermicro|lenovo|pc"
    r"|computer|iron|metal|r\d+\w*)\b"
    r"|\b(?:it'?s|its|it is|is|runs? on|running on|installed on) (?:on )?(?:pure |plain |real )?bare[- ]?metal\b"
    r"|\bnever (?:used|ran|run|installed|touched) (?:a |any )?(?:vm|hypervisor|virtuali[sz]ation)"
    r"|\bno (?:vm|hypervisor)s? (?:at all|anywhere|involved|on it)\b|\bnot (?:a|in a|on a) vm\b"
)
# The node's host named as a virtual one: then "shown as virtualized" is simply true.
VM_HOST = re.compile(
    r"\b(?:vms?|vps|kvm|qemu|proxmox|esxi|vmware|hyper-?v|virtualbox|xen|xcp-?ng|lxc|docker|container|guest"
    r"|cloud|unraid|truenas)\b"
)
THREEFOLD = re.compile(
    r"\b(?:threefold|three fold|tft?|tfgrid|tf grid|tfchain|zos|zero[- ]?os|0-os|3-?nodes?|farm\w*|grid"
    r"|minting)\b"
)


@dataclass(frozen=True, slots=True)
class Veto:
    reason: str
    candidate: str | None = None  # the entry an explicit call should get instead, if any


def veto(norm: str | prefilter.Post) -> Veto | None:
    """The first veto that applies to normalised text (`features.normalize`), or None.

    Given the post the scorer read (`features.read`), it reuses the searches the rule
    signals already made.
    """
    post = read(norm)
    flat = post.text
    shown = post.search(SHOWN_VIRTUAL)
    claim = post.search(REAL_CLAIM) if shown else None
    if shown and claim:
        # the words of the claim and of the flag themselves ("never used a VM") name no host
        rest = flat
        for m in sorted((shown, claim), key=lambda m: -m.start()):
            rest = rest[: m.start()] + " " + rest[m.end() :]
        if not VM_HOST.search(rest):
            return Veto("veto: a real machine shown as virtualized is a support case", WRONGLY_FLAGGED)
    m = post.search(NOT_FOR_FARMING)
    if m:
        return Veto(f"veto: says it is not for farming ({m.group().strip()!r})")
    m = post.search(OTHER_PROJECT)
    if m and not post.has(THREEFOLD):
        return Veto(f"veto: another project's node ({m.group()!r}) and no ThreeFold word")
    # (the indexed search rules most posts out before any finditer runs)
    negated = list(NEGATED_VIRT.finditer(flat)) if post.search(NEGATED_VIRT) else []
    if negated and _all_inside(VIRT_TERM.finditer(flat), negated):
        return Veto(f"veto: says there is no VM ({negated[0].group()!r})")
    return None


def _all_inside(terms, spans: list[re.Match[str]]) -> bool:
    """Every VM word lies inside one of the negated phrases."""
    return all(any(s.start() <= t.start() and t.end() <= s.end() for s in spans) for t in terms)
