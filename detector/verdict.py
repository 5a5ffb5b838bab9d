"""Evidence -> verdict, with a fixed, written precedence.

1. Suppression: a physical exception silences the guest signals it explains — an AWS
   `*.metal` product silences "Amazon EC2"; a Xen dom0 marker silences Xen signals and the
   `hypervisor` CPU flag (dom0 sees Xen under itself, yet the box is physical).
2. Container: a container signal of weight >= 0.8 wins (a container inside a VM is still
   a container to the person asking; the VM signals are reported as notes).
3. Conclusive guest: a virtual signal >= 0.9 wins over any number of bare-metal lines;
   the bare-metal lines are kept in the evidence as contradictions.
4. Conclusive physical: a bare-metal signal >= 0.85 (aws metal, dom0, PowerNV, ...).
5. A container signal >= 0.6 outranks non-conclusive hardware-looking lines (a container
   shows its host's CPU and often its DMI).
6. Otherwise the stronger side wins if it is at least 0.6 (virtual) / 0.5 (bare metal);
   bare metal needs positive evidence — the absence of guest signs is not enough. Weak
   physical hints (each < 0.5) count together only when there are at least two distinct
   ones and nothing at all points to a guest or container; confidence is then capped at 0.6.
   Bare metal that rests only on devices a VM can be given (disks, GPUs, NICs, RAID cards:
   group `passthrough`) is capped at 0.65 and says so in a note; with any sign of a guest
   beside them it is inconclusive: that is what a guest with those devices passed through shows.
7. "ambiguous" (a Windows host reporting a hypervisor): never decides; with no other
   evidence the verdict is inconclusive, with a note saying why and asking for a Linux dump.
8. Anything else is inconclusive.

Host-capability evidence (VT-x, kvm modules, virbr0/docker0/veth/tap) never counts for
either side; it is shown so the user sees it was understood.
"""

from __future__ import annotations

from collections.abc import Iterable

from detector.model import Evidence, Verdict
from detector.redact import redact
from detector.rules import Hit

MAX_EVIDENCE = 12
MAX_CONTRADICTIONS = 4
MAX_CONTEXT = 3

CONTAINER_MIN = 0.8
GUEST_CONCLUSIVE = 0.9
PHYSICAL_CONCLUSIVE = 0.85
GUEST_MIN = 0.6
PHYSICAL_MIN = 0.5
CONTAINER_HINT = 0.5

# Several weak physical hints together (none >= PHYSICAL_MIN alone), and nothing at all
# pointing to a guest or a container: bare metal, with at most this confidence.
WEAK_CONFIDENCE_CAP = 0.6
# Bare metal resting only on devices a VM can be given (disks, GPUs, NICs, RAID/HBA cards).
PASSTHROUGH_CONFIDENCE_CAP = 0.65
PASSTHROUGH_GROUP = "passthrough"
# Signs that this machine runs VMs (guest NICs, kvm in use, Proxmox VE installed): one weak hint.
HOSTING_GROUP = "hosts-vms"

PASSTHROUGH_NOTE = (
    "Only physical devices speak for bare metal here (a real disk, GPU, network or RAID card): "
    "a device passed through to a virtual machine looks exactly the same inside it. "
    "`sudo dmidecode -t system` and `systemd-detect-virt` tell the two apart."
)
PASSTHROUGH_GUEST_NOTE = (
    "The only hardware here are devices that can be passed through to a virtual machine "
    "(a GPU, a network or RAID card), and something points to a guest. "
    "`sudo dmidecode -t system` and `systemd-detect-virt` tell the two apart."
)
WEAK_NOTE = (
    "Only weak hints point to bare metal (each alone proves nothing, e.g. `systemd-detect-virt` "
    "saying none and an empty hypervisor grep); `sudo dmidecode -t system` would settle it."
)

HOSTING_NOTE = (
    "This machine hosts virtual machines (Proxmox VE, libvirt guests, kvm in use): that is "
    "usually a physical host, but not proof — a VM can run VMs (nested virtualization). "
    "`sudo dmidecode -t system` shows the real maker, or a hypervisor's product name."
)

HYPERV_ROOT_NOTE = (
    "A Windows PC with Hyper-V, VBS/Core Isolation or WSL2 turned on reports Microsoft's "
    "hypervisor from its root partition, exactly like a Hyper-V guest does: Windows output "
    "alone cannot tell them apart. Boot a Linux live USB on the machine and paste "
    "`sudo dmidecode -t system` and `lscpu`."
)


def _best(hits: Iterable[Hit], kind: str) -> float:
    return max((h.sig.weight for h in hits if h.sig.points_to == kind), default=0.0)


# Groups whose signals say the same thing and count as one hint: every "hosts VMs" sign,
# and each hardware-only family (`hw-sensors`, `hw-edac`, `hw-radio`...: the same driver seen
# in an oops module list, in lsmod and in dmesg is one fact).
HW_HINT_PREFIX = "hw-"


def _hint_key(h: Hit) -> str:
    """Signals that say the same thing count once: every "hosts VMs" sign is one hint."""
    g = h.sig.group
    return g if g and (g == HOSTING_GROUP or g.startswith(HW_HINT_PREFIX)) else h.sig.id


def _combined(hits: list[Hit], kind: str) -> float:
    """1 - prod(1 - w) over distinct signals of one kind: more independent signs, more sure."""
    seen: dict[str, float] = {}
    for h in hits:
        if h.sig.points_to == kind:
            seen[_hint_key(h)] = max(seen.get(_hint_key(h), 0.0), h.sig.weight)
    p = 1.0
    for w in sorted(seen.values(), reverse=True)[:5]:
        p *= 1.0 - w
    return 1.0 - p


def _pick(hits: list[Hit], kind: str, attr: str) -> str | None:
    best: tuple[float, int, str] | None = None
    for i, h in enumerate(hits):
        if h.sig.points_to != kind:
            continue
        value = getattr(h.sig, attr)
        if value and (best is None or h.sig.weight > best[0]):
            best = (h.sig.weight, -i, value)
    return best[2] if best else None


def _points_to(h: Hit) -> str:
    detail = h.sig.hypervisor or h.sig.provider or h.sig.vendor
    if h.sig.points_to in ("host-capability", "neutral"):
        return h.sig.points_to
    return f"{h.sig.points_to}:{detail}" if detail else h.sig.points_to


def _evidence(h: Hit, weight: float | None = None, hosts: tuple[str, ...] = ()) -> Evidence:
    text = redact(h.text.strip(), hosts)
    if len(text) > 200:
        text = text[:197] + "..."
    return Evidence(
        source=h.source,
        line=h.line,
        text=text,
        signal=h.sig.id,
        points_to=_points_to(h),
        weight=round(h.sig.weight if weight is None else weight, 2),
    )


def _dedupe(hits: list[Hit]) -> list[Hit]:
    seen: set[tuple[str, int]] = set()
    out = []
    for h in hits:
        key = (h.sig.id, h.line)
        if key not in seen:
            seen.add(key)
            out.append(h)
    return out


def decide(hits: list[Hit], context: dict[str, bool], hosts: tuple[str, ...] = ()) -> Verdict:
    """Combine hits into a Verdict (zos/missing are filled in by the caller).

    `hosts`: the paste's host names, masked in every evidence line.
    """
    hits = _dedupe(hits)
    silenced = {g for h in hits for g in h.sig.suppresses}
    active = [h for h in hits if not (h.sig.group and h.sig.group in silenced)]
    muted = [h for h in hits if h.sig.group and h.sig.group in silenced]

    c, v, b = _best(active, "container"), _best(active, "virtual"), _best(active, "bare-metal")
    ambiguous = _best(active, "ambiguous")
    notes: list[str] = []

    weak = False
    if c >= CONTAINER_MIN:
        kind = "container"
    elif v >= GUEST_CONCLUSIVE:
        kind = "virtual"
    elif b >= PHYSICAL_CONCLUSIVE:
        kind = "bare-metal"
    elif c >= GUEST_MIN:
        # A container sees its host's CPU (and often its DMI in /sys): container evidence
        # outranks hardware-looking lines that are not conclusive.
        kind = "container"
    elif v >= GUEST_MIN and v > b:
        kind = "virtual"
    elif b >= PHYSICAL_MIN:
        kind = "bare-metal"
    elif c >= CONTAINER_HINT and c > v:
        # A weak sign of a container (a compose service's log prefix) decides only when no
        # hardware speaks: a privileged container prints its host's own DMI.
        kind = "container"
    elif (
        v == 0
        and c == 0
        and not ambiguous
        and len({_hint_key(h) for h in active if h.sig.points_to == "bare-metal" and h.sig.weight > 0}) >= 2
        and _combined(active, "bare-metal") >= PHYSICAL_MIN
    ):
        kind, weak = "bare-metal", True
    else:
        kind = "inconclusive"

    physical = [h for h in active if h.sig.points_to == "bare-metal" and h.sig.weight > 0]
    passthrough_only = (
        kind == "bare-metal"
        and any(h.sig.group == PASSTHROUGH_GROUP for h in physical)
        and max((h.sig.weight for h in physical if h.sig.group != PASSTHROUGH_GROUP), default=0.0)
        < PHYSICAL_MIN
    )

    if passthrough_only and v > 0:
        # Only devices a VM can be given speak for bare metal, and something points to a guest
        # (a passed-through GPU without its ROM, a guest's word): exactly what a guest with
        # those devices passed through shows. Not enough for bare metal.
        kind, passthrough_only = "inconclusive", False
        notes.append(PASSTHROUGH_GUEST_NOTE)

    if ambiguous and kind in ("inconclusive", "bare-metal") and v < GUEST_MIN:
        # Windows output gets the Windows explanation; any other ambiguous line its own reason.
        windows = [h for h in active if h.sig.points_to == "ambiguous" and h.source == "windows"]
        others = [h for h in active if h.sig.points_to == "ambiguous" and h.source != "windows"]
        if windows or not others:
            notes.append(HYPERV_ROOT_NOTE)
        for h in others[:1]:
            notes.append(h.sig.reason[0].upper() + h.sig.reason[1:] + ".")

    opposing = {"container": (), "virtual": ("bare-metal",), "bare-metal": ("virtual", "container")}.get(
        kind, ()
    )
    contra = [h for h in active if h.sig.points_to in opposing and h.sig.weight > 0]
    if kind == "container" and v >= GUEST_MIN:
        notes.append("Guest signs too: the container may itself run inside a virtual machine.")
    if contra:
        strongest = max(contra, key=lambda h: h.sig.weight)
        notes.append(
            f"Contradicting evidence: {strongest.sig.reason} (line {strongest.line}); "
            f"the stronger signals decide."
        )
    if muted:
        why = next(h for h in active if h.sig.suppresses)
        notes.append(
            f"Signals of {', '.join(sorted({m.sig.group or '' for m in muted}))} are explained by: {why.sig.reason}."
        )
    if context.get("host_capability"):
        notes.append(
            "Lines like VT-x/AMD-V, kvm modules or virbr0/docker0/veth/tap interfaces show this machine can "
            "host VMs or containers; they say nothing about whether it is itself virtual."
        )

    if passthrough_only:
        notes.append(PASSTHROUGH_NOTE)
    elif weak:
        notes.append(WEAK_NOTE)
        if any(h.sig.group == HOSTING_GROUP for h in physical):
            notes.append(HOSTING_NOTE)

    if kind == "inconclusive":
        confidence = 0.0
    else:
        confidence = _combined(active, kind)
        against = max((h.sig.weight for h in contra), default=0.0)
        confidence *= 1.0 - 0.4 * against
        if passthrough_only:
            confidence = min(confidence, PASSTHROUGH_CONFIDENCE_CAP)
        elif weak:
            confidence = min(confidence, WEAK_CONFIDENCE_CAP)
        confidence = min(max(confidence, 0.05), 0.99)

    hypervisor = provider = vendor = None
    if kind in ("virtual", "container"):
        hypervisor = _pick(active, kind, "hypervisor")
        provider = _pick(active, kind, "provider") or _pick(active, "virtual", "provider")
        if (
            kind == "virtual"
            and hypervisor in (None, "qemu")
            and any(h.sig.hypervisor == "kvm" for h in active if h.sig.points_to == "virtual")
        ):
            # QEMU is the device model; a KVM signal says it is hardware-accelerated.
            hypervisor = "kvm"
        elif (
            kind == "virtual"
            and hypervisor in (None, "qemu", "hyperv")
            and any(h.sig.hypervisor == "hyperv" for h in active if h.sig.points_to == "virtual")
            and any(h.sig.hypervisor in ("qemu", "kvm") and h.sig.weight >= GUEST_CONCLUSIVE for h in active)
        ):
            # Hyper-V never shows QEMU's or KVM's DMI: a "Microsoft Hv" CPUID next to them is
            # KVM's Hyper-V enlightenments (hv-* flags) for a Windows-friendly guest.
            hypervisor = "kvm"
    elif kind == "bare-metal":
        vendor = _pick(active, "bare-metal", "vendor")
        provider = _pick(active, "bare-metal", "provider")

    main = sorted((h for h in active if h.sig.points_to == kind), key=lambda h: -h.sig.weight)
    evidence = [_evidence(h, hosts=hosts) for h in main[:MAX_EVIDENCE]]
    evidence += [
        _evidence(h, hosts=hosts) for h in sorted(contra, key=lambda h: -h.sig.weight)[:MAX_CONTRADICTIONS]
    ]
    others = [
        h
        for h in active
        if h.sig.points_to in ("host-capability", "ambiguous")
        or (kind == "inconclusive" and h.sig.weight > 0)
    ]
    evidence += [_evidence(h, hosts=hosts) for h in others[:MAX_CONTEXT]]
    evidence += [_evidence(h, hosts=hosts) for h in muted[:MAX_CONTEXT]]
    return Verdict(
        verdict=kind,
        hypervisor=hypervisor,
        provider=provider,
        vendor=vendor,
        confidence=confidence,
        evidence=tuple(evidence),
        notes=tuple(notes),
    )
