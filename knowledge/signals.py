"""Cheap, offline cues the matcher looks for, kept as data.

Each cue is a regular expression over *normalized* text (lower-case, accents stripped,
whitespace collapsed; see `matcher.normalize`) with a weight. The matcher adds the
weights per group (capped), so the cues here are the whole vocabulary of its judgement:
to teach it a new word, add a line here and a labelled post to the fixtures.

Groups:
- VIRT: the post talks about a virtualization layer (VM, VPS, cloud, container, ...).
- FARM: the post is about a ThreeFold farming node (ZOS, 3Node, rewards, minting, ...).
- COMBO: phrases that tie the two together ("farm in a VM", "virtualized node").
- BARE_METAL_WHY: asks why bare metal is required.
- LOOKALIKE: the daily look-alikes that must stay unanswered (deploying on the grid,
  Terraform, Kubernetes, Farmerbot, other projects' nodes, wallet, BIOS settings, ...).
- FLAGGED / BARE_CLAIM: a node shown as virtualized, and a claim that it is real hardware
  (together: the wrongly-flagged case, which is for support).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from knowledge.prefilter import Lazy


@dataclass(frozen=True, slots=True)
class Cue:
    name: str
    pattern: re.Pattern[str]
    weight: float
    unless: re.Pattern[str] | None = None  # the cue does not count when this also matches


def _cues(*items: tuple) -> tuple[Cue, ...]:
    """(name, regex[, weight[, unless-regex]]) as cues; a phrase cue without a weight counts 1.0.

    The regexes compile the first time a post holds their literals (`prefilter.Lazy`)."""
    return tuple(
        Cue(
            item[0],
            Lazy(item[1]),  # type: ignore[arg-type]
            float(item[2]) if len(item) > 2 else 1.0,
            Lazy(item[3]) if len(item) > 3 else None,  # type: ignore[arg-type]
        )
        for item in items
    )


# Word boundaries everywhere: "vm" must not fire inside "kvm" unless we mean it.
VIRT: tuple[Cue, ...] = _cues(
    ("vm", r"\b(?:vm|vms|vm's)\b", 0.5),
    (
        "virtual machine",
        r"\bvirtual[ -]?machines?\b|\bmaquinas? virtual|\bmachines? virtuelles?\b"
        r"|\bvirtuellen? maschinen?\b|\bmacchin[ae] virtual|виртуальн|虚拟机|仮想マシン|가상 ?머신"
        # nl, tr, id/ms, pl, cs/sk, ro, sv/da/no, fi, vi
        r"|\bvirtuele (?:machine|server)s?\b|\bsanal (?:makine|sunucu)\w*|\bmesin virtual\b"
        r"|\bmaszyn\w* wirtualn|\bvirtualni (?:stroj|server)|\bmasin\w* virtual|\bvirtuell?e? maskin"
        r"|\bvirtuaali\w*|\bmay ao\b",
        0.6,
    ),
    (
        "vps",
        r"\bvps(?:es|s)?\b|\bvds\b|\bvirtual (?:private|dedicated) server|\bvserver\b|\broot-?server\b"
        r"|\bservidor(?:es)? virtual|\bserveurs? virtuels?\b|\bvirtuelle[nr]? server|\bserver virtual",
        0.6,
    ),
    (
        "hypervisor",
        r"\bhypervisors?\b|\bгипервизор|\bkvm guest\b|\bguest os\b|\bas (?:a )?guest\b|\bnested\b"
        r"|\bxen(?:server)?\b|\bxcp-?ng\b|\bnutanix\b|\bovirt\b|\bopenvz\b|\bvirtuozzo\b|\bmultipass\b"
        r"|\bvagrant\b|\bgnome boxes\b",
        0.5,
        # Zero OS itself runs workloads with cloud-hypervisor: that is not a layer under it
        r"\bcloud[- ]hypervisor\b",
    ),
    ("proxmox", r"\bproxmox\b|\bpve\b", 0.6),
    ("esxi", r"\besxi\b|\bvmware\b|\bvsphere\b|\bvmdk\b", 0.6),
    ("hyper-v", r"\bhyper[- ]?v\b", 0.6),
    ("virtualbox", r"\bvirtual ?box\b|\bvbox\b", 0.6),
    ("unraid/truenas", r"\bunraid\b|\btruenas\b|\bbhyve\b|\bsynology vmm\b", 0.6),
    ("qemu", r"\bqemu\b|\blibvirt\b|\bvirt-manager\b|\bkvm\b", 0.5),
    ("parallels", r"\bparallels\b|\butm\b", 0.5),
    (
        "cloud",
        r"\bcloud (?:instance|server|vm|provider|hosting|hoster|compute|machine)s?\b|\bin the cloud\b"
        r"|\bhetzner cloud\b|\bpublic cloud\b|\bcompute (?:engine|instance)s?\b|\bfree tier\b"
        r"|\ben la nube\b|\bna nuvem\b|\bdans le cloud\b|\bin der cloud\b|\bnel cloud\b|\bв облак",
        0.6,
    ),
    (
        "provider",
        r"\b(?:aws|ec2|gcp|azure|digital ?ocean|droplets?|linode|vultr|contabo|hostinger"
        r"|ionos|scaleway|dedibox|oracle cloud|upcloud|vast\.?ai|runpod|lightsail)\b",
        0.5,
    ),
    ("hoster", r"\bhetzner\b|\bovh\b|\bhosters?\b|\bhosted server\b", 0.4),
    (
        "rented server",
        r"\brent(?:ed|ing)? (?:a |an )?(?:dedicated |gpu |bare.?metal )?(?:server|box|machine)s?\b"
        r"|\bdedicated (?:server|cpu|vcpu)s?\b|\bserver auction\b",
        0.5,
    ),
    (
        "container",
        # not "container" alone: Zero OS runs containers for its users every day
        r"\bdocker\b|\blxc\b|\blxd\b|\bpodman\b|\bcontaineri[sz]ed\b|\bwsl2?\b|\bwindows subsystem\b",
        0.5,
    ),
    (
        "virtualized",
        r"\bvirtuali[sz]ed\b|\bvirtualisiert\b|\bvirtuali[sz]e\b|\bvirtuali[sz]ing\b|\bvirtuali[sz]ad|\bvirtualizzat|\bvirtualis[ée]",
        0.5,
        # "virtualized: no" is a node that passed the check
        r"virtuali[sz]ed\W{0,4}(?:no|false)\b",
    ),
    (
        "virtual",
        r"\bvirtual (?:environment|server|node|instance|hardware|setup)s?\b|\bvirtual\b",
        0.4,
        r"\bvirtual (?:cores?|threads?|memory|desktop|wallet|currency|machine)\b",
    ),
    (
        "virtualization",
        r"\bvirtuali[sz]ation\b|\bvirtualisierung\b|\bvirtuali[sz]acion\b|\bvirtualizzazione\b"
        r"|\bvirtualisatie\b|\bsanalla?s?tirma\b|\bвиртуализац",
        0.3,
    ),
    ("passthrough", r"\bpass-?through\b|\bpassed[- ]through\b", 0.3),
)

FARM: tuple[Cue, ...] = _cues(
    ("farm", r"\bfarm(?:s|ing|in|er|ers|ear|ea|eo|ar|ando|en|are|o|ovat)?\b|\bgranja\b|\bferme\b|фарм", 0.6),
    ("zos", r"\bzos\b|\bzero[- ]?os\b|\b0-os\b|\bzeroos\b|\bzos4\b|\bzmachine light\b", 0.6),
    # "3 nodes" is a count, "3Node" the ThreeFold term
    ("3node", r"\b3-?nodes?\b|\b3 node\b(?! cluster)", 0.6),
    ("node", r"\bnodes?\b|\bnoeuds?\b|\bnodos?\b|\bknoten\b|\bнод|узел", 0.4),
    (
        "rewards",
        r"\brewards?\b|\brewarded\b|\brecompensas?\b|\brecompenses?\b|\bbelohnung|наград"
        r"|\bbeloning|\bodul\w*|\bhadiah\b|\bimbalan\b|\bricompens\w*|\bnagrod\w*",
        0.4,
    ),
    ("minting", r"\bmint(?:ing|ed|s)?\b", 0.4),
    # many newcomers call farming "mining"
    ("mining", r"\bmin(?:ing|ers?)\b|\bmine (?:tft|threefold)\b|\bminar\b|\bminerar\b|\bмайнинг", 0.3),
    (
        "provide capacity",
        r"\b(?:provide|contribute|share|sell|offer|add)\w* (?:\w+ ){0,2}(?:capacity|resources|compute)\b"
        r"|\bjoin(?:ing)? the grid\b|\bcapacity provider\b",
        0.4,
    ),
    ("tft", r"\btft\b", 0.4),
    ("earn", r"\bearn(?:s|ing)?\b|\bget paid\b|\bpaid\b|\bpayout\b|\bverdienen\b|\bgagner\b|\bganar\b", 0.3),
    ("threefold", r"\bthree ?fold\b|\btf ?grid\b|\bthe grid\b|\bzui\b|\btf ?nodes?\b", 0.3),
)

# Farming words strong enough for the proximity rule (matcher.NEAR_CHARS): not "ThreeFold",
# "TFT" or "node 1234", which users deploying workloads write next to "VM" all the time.
NEAR_FARM: tuple[Cue, ...] = _cues(
    (
        "farming word",
        r"\bfarm\w*|\bgranja\b|\bferme\b|фарм|\bzos\b|\bzero[- ]?os\b|\b0-os\b|\b3-?nodes?\b"
        r"|\b(?:my|a|the|our|his|her|their|this|that|your|mi|un|una|mon|mein|meinen|ein|einen|meu|um|il|mijn|een)"
        r" (?:\w+ )?(?:nodes?|nodos?|noeuds?|knoten|nodo)\b"
        r"|\brewards?\b|\brecompensa|\bbelohnung|наград|\bminting\b|\bmining\b|\bнод[уа]?\b",
    ),
)

# Any virtualization layer, as one alternation for the phrase cues below.
_LAYER = (
    r"(?:vms?|vps|virtual\w*|cloud|proxmox|esxi|vmware|hyper-?v|virtual ?box|docker|lxc|containers?|kvm|qemu"
    r"|guest|hypervisor|truenas|unraid|bhyve|parallels|hetzner cloud|wsl2?|instances?|droplets?|aws|ec2|gcp|azure|vultr|linode"
    r"|contabo|digital ?ocean|hostinger|ionos|scaleway|google cloud)"
)
_NODE = r"(?:zos|zero[- ]?os|0-os|3 ?nodes?|nodes?|farm\w*)"

COMBO: tuple[Cue, ...] = _cues(
    (
        "farm in a vm",
        r"\bfarm\w* (?:\w+ ){0,4}(?:in|on|with|inside|using|from|under|en|dans|sur|auf|con|als|como) (?:a |an |my |the |una? |une |einer |einem |der )?(?:\w+ )?"
        + _LAYER
        + r"\b",
    ),
    ("vm farming", r"\b(?:vm|vps|virtual|cloud|virtuali[sz]ed|proxmox|esxi) (?:node|farming|farm|3node)s?\b"),
    (
        "zos in a vm",
        r"\b"
        + _NODE
        + r" (?:\w+ ){0,4}(?:in|on|inside|as|under|within|into|en|dans|sur|auf|como|als) (?:a |an |my |the |una? |une |einer |einem |der )?(?:\w+ )?"
        + _LAYER
        + r"\b",
    ),
    (
        "vm running zos",
        r"\b"
        + _LAYER
        + r" (?:\w+ ){0,5}(?:for|with|running|runs|run|hosting) (?:a |the |my )?"
        + _NODE
        + r"\b",
    ),
    ("zos vm", r"\b(?:zos|zero[- ]?os|0-os|3 ?node) (?:\w+ ){0,2}" + _LAYER + r"\b"),
    # Only the flag itself: "no TFT" alone is an ordinary minting report (NO_REWARDS), which
    # ties to virtualization only when a virtualization word about the node is in the post.
    ("virtualized flag", r"virtuali[sz]ed\W{0,3}(?:yes|true|=\s*true)"),
)

# A report that a node earns nothing. Alone it is an ordinary minting question; next to a
# virtualization cue it is the "my VM node gets no rewards" case.
NO_REWARDS: tuple[Cue, ...] = _cues(
    (
        "nothing earned",
        # reports: "rewards are 0", "never minted", "earned nothing", "not receiving any TFT"
        r"\b(?:rewards?|minting|payouts?|earnings?)\W{1,3}(?:(?:is|are|was|were|stays?|still|shows?) ){0,2}"
        r"(?:0|zero|nothing|none|empty)\b"
        r"|\b(?:earn\w*|received?|got|mint\w*|paid) (?:\w+ )?(?:nothing|0 tft|zero)\b"
        r"|\b(?:not|never|didn'?t|don'?t|doesn'?t|isn'?t|won'?t) (?:\w+ )?(?:receiv\w*|get\w*|earn\w*|mint\w*|paid)"
        r" (?:\w+ )?(?:tft|rewards?|tokens?|anything)\b"
        # "no TFT", "0 rewards" (\b: "120 tft" is not "0 tft")
        r"|\b(?:no|zero|0) (?:tft|rewards?|minting|payouts?)\b",
    ),
)

BARE_METAL_WHY: tuple[Cue, ...] = _cues(
    (
        "why bare metal",
        r"\b(?:why|por que|pourquoi|warum|perche)\b.{0,60}\bbare[- ]?metal"
        r"|bare[- ]?metal.{0,30}\b(?:required|requirement|mandatory|necessary|a must|rule|exige)"
        r"|\b(?:exige|require|requires|need|needs)\b.{0,10}bare[- ]?metal",
    ),
    (
        "why no vm",
        r"\b(?:why|por que|pourquoi|warum)\b.{0,60}\b(?:vm|vps|virtual|cloud)\b.{0,40}"
        r"\b(?:nodes?|farm\w*|earn|count|rewards?|allowed)\b",
    ),
    ("vm restriction", r"\b(?:vm|vps|virtual)\b.{0,20}\b(?:restriction|rule|ban|policy)\b"),
    (
        # terse "why does it matter if it's a VM", "who cares if it's virtualized"
        "why does a vm matter",
        r"\b(?:why|what|who|por que|pourquoi|warum|perche)\b[^.!?\n]{0,40}?"
        r"\b(?:care|cares|matter|matters|difference|big deal|importa|importe|wichtig|egal)\b"
        r"[^.!?\n]{0,30}?\b(?:if|whether|that|si|ob|se)\b[^.!?\n]{0,30}?"
        r"\b(?:vms?|vps|virtual machine|virtuali[sz]ed|virtual|in the cloud|hypervisor)\b",
    ),
)

BARE_METAL: tuple[Cue, ...] = _cues(
    ("bare metal", r"\bbare[- ]?metal\b|\bon the metal\b|\bphysical (?:machine|server|hardware)\b", 0.4),
)

FLAGGED: tuple[Cue, ...] = _cues(
    (
        "shown as virtualized",
        r"(?:virtuali[sz]ed|virtualisiert)\W{0,4}(?:yes|true|=\s*true)"
        r"|(?:flagged|marked|detected|shows?|showing|seen|listed|registered|angezeigt) (?:\w+ ){0,2}(?:as )?"
        r"(?:a )?(?:vm|virtual|virtuali[sz]ed)|\bals virtualisiert\b|virt-what false positive",
    ),
)

BARE_CLAIM: tuple[Cue, ...] = _cues(
    (
        "real hardware",
        r"\bbare[- ]?metal\b|\bphysical\b|\breal hardware\b|\bechter hardware\b"
        r"|\bnever (?:used|ran|run) (?:a )?vm|\bnot (?:a |in a )?vm\b|\bno vm\b|\bdedicated hardware\b"
        r"|\bsurface\b|\bfalse positive\b",
    ),
)

# A platform named in the post (not just the words "vm" / "virtual"): when a "flagged" post
# names one, it is about a VM node (or one that used to be), not a detection mistake.
PLATFORM_NAMES = frozenset(
    {
        "proxmox",
        "esxi",
        "hyper-v",
        "virtualbox",
        "unraid/truenas",
        "qemu",
        "parallels",
        "cloud",
        "provider",
        "vps",
        "container",
    }
)

LOOKALIKE: tuple[Cue, ...] = _cues(
    (
        "deploy on the grid",
        r"\bdeploy(?:ed|ing|ment|ments|s)?\b|\bdesplieg\w*|\bdeploye\w*|\bdeployer\b|\bdeployen\b",
        0.35,
        # deploying Zero OS itself (as a farmer) is not a grid deployment
        r"\bdeploy\w* (?:\w+ ){0,3}(?:zos|zero[- ]?os|0-os|3 ?nodes?)\b",
    ),
    ("dashboard", r"\bdashboard\b|\bplayground\b", 0.1),
    (
        "homelab cluster",
        r"\b(?:proxmox|esxi|vsphere|hyper-?v|ceph|k8s|kubernetes) clusters?\b|\bceph\b|\bcorosync\b|\bquorum\b"
        r"|\bhigh availability\b|\bvmbr\d|\bbackup server\b",
        0.4,
    ),
    (
        "grid services",
        r"\bgrid ?proxy\b|\bgraphql\b|\bindexer\b|\brmb relay\b|\btfchain (?:node|validator)\b",
        0.4,
    ),
    ("terraform", r"\bterraform\b|\bpulumi\b|\bjs-?ng\b|\bgrid ?client\b|\bsdk\b|\btfcmd\b|\btfrobot\b", 0.5),
    ("kubernetes", r"\bkubernetes\b|\bk8s\b|\bk3s\b|\bkubectl\b|\bkubevirt\b|\bworker\b", 0.5),
    ("micro/full vm", r"\b(?:micro|full|grid|threefold) ?vms?\b|\bvm on the (?:grid|tfgrid)\b", 0.5),
    (
        "user workload",
        r"\bcontracts?\b|\bpublic ipv?[46]?s?\b|\bssh(?:ing)? (?:in|into|to)\b|\bworkloads?\b"
        r"|\bcapacity pools?\b|\bwireguard\b|\bmycelium\b|\bweb gateway\b|\bname ?contract\b",
        0.3,
    ),
    ("rent capacity", r"\bdedicated node\b|\brent(?:ing)? (?:a |an |the )?(?:whole |entire )?node\b", 0.3),
    ("farmerbot", r"\bfarmer ?bot\b", 0.6),
    (
        "other project",
        r"\bpresearch\b|\bflux(?:node)?\b|\bhelium\b|\bstorj\b|\bfilecoin\b|\bgolem\b|\bakash\b"
        r"|\bmysterium\b|\bmasternodes?\b|\bvalidators?\b|\bsolana\b|\bethereum node\b|\bchia\b|\bnode\.?js\b"
        r"|\bnodeos\b|\bapachecs\b|\bcloudstack\b|\bopenstack\b",
        0.5,
        # the Presearch bans are part of the decentralization argument itself
        r"\bbann(?:ed|ing)\b.{0,80}\bpresearch\b|\bpresearch\b.{0,80}\bbann(?:ed|ing)\b",
    ),
    (
        "wallet/bridge",
        r"\bwallet\b|\bbridge (?:to|from)\b|\bstellar\b|\blobstr\b|\bswap\b|\btf ?connect\b"
        r"|\bpolkadot\b|\busdc\b",
        0.4,
    ),
    (
        "bios setting",
        r"\bbios\b|\buefi\b|\bvt-?[xd]\b|\bsvm\b|\bamd-?v\b|\bdev/kvm|\bhyper-?threading\b",
        0.45,
    ),
    (
        "self-hosting",
        r"\bself-?host(?:ing|ed)?\b|\bhomelab\b|\bhome ?assistant\b|\bplex\b|\bnextcloud\b",
        0.2,
    ),
    ("github runner", r"\bgithub (?:actions|runner)\b|\bci runner\b|\bfirecracker\b", 0.4),
)

# Cues that point at one entry; the matcher adds ENTRY_BOOST to that entry's similarity.
ENTRY_CUES: dict[str, tuple[Cue, ...]] = {
    "why-decentralization": _cues(
        (
            "decentralization",
            r"\bdecentrali[sz]|\bbann?(?:ed|ing)?\b|\bkick(?:ed)? out\b|\bterms of service\b"
            r"|\btos\b|\bwho owns\b|\bbig tech\b|\bprovider\b.{0,30}\b(?:shut|ban|block)",
            1.0,
        ),
        ("why", r"\b(?:why|por que|pourquoi|warum|explain|reason)\b", 0.3),
    ),
    "why-efficiency": _cues(
        ("efficiency", r"\befficien|\boverhead\b|\bperformance\b|\bwaste\b|\bslow\w*\b|\bineffizient", 1.0),
    ),
    "why-security": _cues(
        (
            "security",
            r"\bsecur\w*|\bs[uû]re\b|\btrust\b|\bspy\b|\bprivacy\b|\bcheat\w*|\bfake\b|\bspoof"
            r"|\boversubscri\w*|\bmanipulat\w*",
            1.0,
        ),
    ),
    "hypervisor-owners": _cues(
        (
            "hypervisor box",
            r"\bproxmox\b|\besxi\b|\bvmware\b|\bhyper-?v\b|\bvirtual ?box\b|\bunraid\b|\btruenas\b"
            r"|\bbhyve\b|\bparallels\b|\bhomelab\b|\bnas\b|\bpass-?through\b",
            0.6,
        ),
    ),
    "rented-servers": _cues(
        (
            "rented",
            r"\brent\w*\b|\bhetzner\b|\bovh\b|\bdedicated (?:server|cpu|vcpu)|\bcontabo\b|\blinode\b"
            r"|\bscaleway\b|\bdedibox\b|\bvast\.?ai\b|\bhostinger\b|\bionos\b|\bdigital ?ocean\b|\baws\b|\bec2\b"
            r"|\bserver auction\b|\broot-?server\b|\bcloud provider\b",
            0.7,
        ),
    ),
    "testing-in-vm": _cues(
        (
            "testing",
            r"\btest(?:ing|s)?\b|\btry(?:ing)?\b|\bdev(?:elop\w*)?\b|\bplay with\b|\bexperiment\w*"
            r"|\breadme\b|\brunmode\b|\bzos0\b|\btester\b|\bbefore (?:buying|i buy)|\bavant d'acheter",
            0.6,
        ),
    ),
    "farming-on-bare-metal": _cues(
        (
            "requirements",
            r"\bstake\b|\bcollateral\b|\bslash\w*|\bminimum hardware\b|\bwhat do i need\b"
            r"|\bproper way\b|\bwifi\b|\bethernet\b|\buptime\b|\bhow to start farming\b",
            0.6,
        ),
    ),
    "check-bare-metal": _cues(
        (
            "check",
            r"\bdmidecode\b|\blscpu\b|\bsystemd-detect-virt\b|\bvirt-what\b|\bhow (?:do|can) i (?:check|know|tell|verify)"
            r"|\bverify\b|\bdetect\w*\b|\bpr[uü]fe|\bhow does (?:zos|zero[- ]?os) (?:know|detect|check)",
            0.7,
        ),
    ),
    "containers": _cues(
        ("container", r"\bdocker\w*\b|\blxc\b|\blxd\b|\bpodman\b|\bcontainers?\b|\bwsl2?\b", 0.8),
    ),
    "bios-virtualization": _cues(
        ("bios", r"\bbios\b|\buefi\b|\bvt-?[xd]\b|\bsvm\b|\bamd-?v\b|\bdev/kvm", 0.9),
    ),
    "wrongly-flagged": (),
    "vm-farming": _cues(
        (
            "no rewards",
            r"\b(?:no|zero|0|not getting|never got|without) (?:any )?(?:tft|rewards?|minting|payout|paid)"
            r"|virtuali[sz]ed\W{0,3}(?:yes|true)|\bnot (?:getting |being )?paid\b",
            0.5,
        ),
    ),
}

# --- Whose virtualization is it? -------------------------------------------------------
# A strict layer list for SUBJECT: virtual machines and hypervisors only (no "cloud",
# "instance" or "container", which Zero OS itself offers to its users).
_VM_LAYER = (
    r"(?:vms?|vm's|virtual ?machines?|proxmox|esxi|vmware|vsphere|hyper-?v|virtual ?box|kvm|qemu"
    r"|hypervisors?|guest|unraid|truenas|vps|vds|xcp-?ng|xen|bhyve|parallels|libvirt)"
)
_ZOS_ITSELF = r"(?:zos|zero[- ]?os|0-os|3-?nodes?|(?:farm\w*|tf|threefold|zos) nodes?)"

# Zero OS / the farming node is the thing being virtualized ("zos in a VM", "run zos as a
# VM", "zero os under proxmox", "virtualize my 3Node", "a 3Node VM", "a VM running zos").
# With one of these, look-alikes about the surroundings (the user's Kubernetes or homelab
# cluster, a wallet, the dashboard) no longer veto: see SURROUNDINGS.
SUBJECT: tuple[Cue, ...] = _cues(
    (
        "zos itself virtualized",
        r"\b"
        + _ZOS_ITSELF
        + r" (?:\w+ ){0,2}?(?:in|inside|as|under|within|into|on top of|dans|en|sous|auf|in einer?)"
        r" (?:a |an |my |the |une? |una |einer |einem )?(?:\w+ )?" + _VM_LAYER + r"\b"
        r"|\bvirtuali[sz](?:e|ing) (?:my |a |the |our )?(?:zos|zero[- ]?os|3-?nodes?|farm\w*|nodes?)\b"
        r"|\b(?:a|my|our) (?:zos|zero[- ]?os|3-?node) (?:vm|virtual machine|guest)\b"
        r"|\b" + _VM_LAYER + r" (?:\w+ ){0,3}?(?:running|hosting|with) (?:a |my |the )?"
        r"(?:zos|zero[- ]?os|0-os|3-?node|farming node)\b",
    ),
)

# Look-alikes that describe the surroundings, not the workload: waived when SUBJECT holds.
# Farmerbot, other projects, Terraform, micro/full VMs on the grid and the rest still veto.
SURROUNDINGS = frozenset(
    {
        "kubernetes",
        "homelab cluster",
        "self-hosting",
        "user workload",
        "dashboard",
        "wallet/bridge",
        "deploy on the grid",
    }
)

# A farming word that is not the subject: "besides my 3Nodes", "apart from my farm",
# "in addition to my nodes". The matcher blanks these spans before looking for farming
# cues, so a passing mention cannot tie a homelab question to farming.
PASSING_MENTION = re.compile(
    r"\b(?:besides|beside|apart from|aside from|other than|in addition to|alongside|as well as|except for"
    r"|next to (?:my|our))\b(?: (?:my|our|the|a|an|some|few|two|three|four|\d+|couple of|bare[- ]?metal|own"
    r"|existing|current|threefold|tf))*(?: \w+)? (?:3-?nodes?|nodes?|farm\w*|zos|zero[- ]?os|mining|minting)\b"
)

# An explicit "this is not about farming" marker: only a SUBJECT phrase or a "why bare
# metal" question passes the gate then.
_TF = r"(?:tf|threefold|farming|the grid|grid|zos|my (?:3-?)?nodes?|my farm|the farm)"
OFF_TOPIC = re.compile(
    r"\boff[- ]?topic\b|\bofftopic\b|\(ot\)|^ot\b|\bot:|\(unrelated\)"
    r"|\bnot (?:tf|threefold|farming|grid|zos)[- ]related\b|\bnot about " + _TF + r"\b"
    r"|\bunrelated to " + _TF + r"\b|\bnothing to do with " + _TF + r"\b"
    # es, fr, it, pt, de, ru
    r"|\bfuera de tema\b|\bsin relacion con (?:tf|threefold|el farming)\b|\bhors[- ]sujet\b"
    r"|\brien a voir avec (?:tf|threefold|le farming|la grille)\b|\bfuori tema\b|\bfora d[eo] (?:tema|topico)\b"
    r"|\bnichts mit (?:tf|threefold|farming|dem farming) zu tun\b|не по теме|\bоффтоп"
)

# Moving AWAY from farming (retiring, decommissioning, repurposing the node): whatever the
# box becomes next (Proxmox, Unraid), the post is not a VM-farming question. Same effect as
# an off-topic marker.
LEAVING = re.compile(
    r"\b(?:retir|decommission|repurpos|reus|sell|sold|dismantl|shut\w* down)\w* (?:\w+ ){0,2}?"
    r"(?:3-?nodes?|nodes?|farm\w*)\b|\bdecommission\w*"
    r"|\b(?:stop|stopp|quit|done|leav|finish)\w* (?:with )?(?:farming|my farm|the farm|the grid)\b"
    r"|\bno longer farm\w*|\bdejar de farm\w*|\barret\w* (?:le |de )?farm\w*|\baufh\w* (?:mit dem |zu )?farm\w*"
    r"|\bturn\w* (?:my |the |our )?(?:old |former )?(?:3-?node|node|farm\w*)(?: \w+)? into (?:a |an )?"
    r"(?:proxmox|esxi|unraid|truenas|nas|homelab)\b"
)

# Every LEAVING / CONVERT match contains one of these (cheap `in` guards before the regex).
LEAVING_WORDS = (
    "retir", "decommission", "repurpos", "reus", "sell", "sold", "dismantl", "shut", "stop", "quit",
    "done", "leav", "finish", "no longer", "dejar", "arret", "aufh", "turn",
)  # fmt: skip
CONVERT_WORDS = ("proxmox", "esxi", "vmware", "hyper", "unraid", "truenas", "xcp", "homelab")

# Turning a hypervisor box INTO a bare-metal node, with a how-to (wiping, flashing, booting):
# the plan is already made, the post asks how. Precision first: stay silent.
CONVERT = re.compile(
    r"\b(?:convert|turn|transform|repurpos|replac|wip|retir|migrat|switch)\w* (?:\w+ ){0,4}?"
    r"(?:proxmox|esxi|vmware|hyper-?v|unraid|truenas|xcp-?ng|hypervisor|homelab)\b[^.!?\n]{0,60}?"
    r"\b(?:into|to|with|for|and install|by) (?:a |an |my |the )?(?:bare[- ]?metal |dedicated )?"
    r"(?:3-?nodes?|zos|zero[- ]?os|0-os|nodes?|farm\w*)\b"
    # "switch my Proxmox host to ZOS in a VM" is the VM question itself
    r"(?! (?:\w+ )?(?:in|as|inside|under|on) (?:a |an |my )?(?:vms?|virtual|guest|hypervisor))"
)
HOW_TO = re.compile(
    r"\b(?:how|wipe\w*|wiping|format\w*|flash\w*|usb|iso|partitions?|disks?|zfs|vmfs|boot\w*)\b"
)

# Choosing a hypervisor for other machines: a homelab question, whatever farming words
# stand next to it. Waived when SUBJECT holds ("which hypervisor to run zos in a VM").
HYPERVISOR_CHOICE: tuple[Cue, ...] = _cues(
    (
        "hypervisor for other machines",
        r"\b(?:which|what|best|recommended) (?:\w+ ){0,2}?hypervisors?\b"
        r"|\bfor (?:my|the|our) (?:other|remaining) (?:machines?|servers?|boxes|hardware|pcs?|stuff)\b"
        r"|\b(?:the )?rest of (?:my|the|our) (?:homelab|home lab|lab|servers?|machines?|hardware)\b"
        r"|\bseparately\b",
        0.4,
    ),
)


# --- Virtualization words that are not about the node -----------------------------------
# Words the matcher blanks before the cues run (negations, other infrastructure).
_VIRT_WORD = (
    r"(?:vms?|vm's|virtual ?machines?|vps|vds|hypervisors?|virtuali[sz]ation|virtuali[sz]ed|virtualisierung"
    r"|virtualizacion|virtualizzazione|virtualisatie|виртуализаци\w*|виртуалк\w*|proxmox|esxi|vmware"
    r"|hyper-?v|virtual ?box|docker|lxc|containers?|kvm|qemu|cloud|maquinas? virtual\w*"
    r"|machines? virtuelles?|virtuellen? maschinen?|nested)"
)

# "no VM", "not a VM", "without any virtualization", "sin VM", "sans VM", "ohne VM", "keine
# VM", "sem VM", "senza VM", "geen VM", "без виртуализации": only articles and prepositions
# may stand between the negation and the word. Not before a farming word ("no VM farming?"
# is the question itself); the matcher also keeps it in a sentence that asks "why".
NEGATED_VIRT = re.compile(
    r"\b(?:no|not|non|without|w/o|never|nor|ni|sin|sans|ohne|kein|keine|keinen|keiner|sem|senza|geen|zonder"
    r"|bez|pas|aucune?|ningun[oa]?|nenhum[a]?|nessun[oa]?|isn[’']?t|aren[’']?t|wasn[’']?t)(?= )"
    r"(?: (?:a|an|any|the|in|on|inside|under|via|una?|une|de|du|der|einer?|einem|einen|um|uma|en|dans|sur|auf"
    r"|es|est|ist|is|it[’']?s|real|actual|tiene|hay)){0,3} " + _VIRT_WORD + r"\b"
    r"(?!\W{1,3}(?:farming|farms?|nodes?|3-?nodes?|rule|rules|policy|restriction|requirement)\b)"
    r"|(?:без|не) " + _VIRT_WORD
)
NEGATION_WHY = re.compile(r"\b(?:why|por que|pourquoi|warum|perche)\b")

# Other infrastructure next to the node: a router/firewall/NAS/Home Assistant VM, "on a
# separate Proxmox box". The span is blanked unless it holds a farming word itself.
_INFRA = (
    r"(?:routers?|firewalls?|opnsense|pfsense|gateway|nas|home ?assistant|pi-?hole|adguard|plex|nextcloud"
    r"|jellyfin|openwrt|mikrotik|vyos|unifi(?: controller)?|dns server|vpn server|mail server|media server)"
)
OTHER_INFRA = re.compile(
    # "the router runs as a VM on an ESXi box": the second word of the clause goes too
    r"\b" + _INFRA + r"\b[^.!?\n]{0,40}?\b" + _VIRT_WORD + r"\b(?:[^.!?\n]{0,25}?\b" + _VIRT_WORD + r"\b)?"
    r"|\b"
    + _VIRT_WORD
    + r" (?:\w+ ){0,3}?(?:as|for|running|runs|hosting|with) (?:my |the |a |an |our )?(?:\w+ )?"
    + _INFRA
    + r"\b"
    r"|\b(?:on|in) (?:a |an |my |the )?(?:separate|different|other|second|another|dedicated) (?:\w+ )?"
    r"(?:proxmox|esxi|hyper-?v|unraid|truenas|xcp-?ng|vmware|kvm|hypervisor)(?: (?:box|host|server|machine))?\b"
)

# The poster says the node IS bare metal ("my bare metal node", "the 3Node itself is bare
# metal", "nodes are all bare metal", "running on bare metal"): evidence against a
# VM-farming question, unless BARE_EXCEPT holds (why / a comparison with a VM / a plan to
# virtualize / a rented server / "how do I check whether").
BARE_ASSERT = re.compile(
    r"\b(?:my|our|the|this|these|a|all|one)(?: \w+)? bare[- ]?metal (?:3-?)?nodes?\b|^bare[- ]?metal (?:3-?)?nodes?\b"
    r"|\b(?:3-?nodes?|nodes?|farm|machines?|servers?|box|boxes|hardware|rig|everything)(?: itself| themselves| here)?"
    r" (?:is|are|'s|runs?|running|sits?) (?:all |fully |100% |definitely |actually |already |still |just )?"
    r"(?:on )?(?:real )?bare[- ]?metal\b"
    r"|\b(?:running|runs|run|installed|booted|boots|booting|farming) (?:\w+ )?on bare[- ]?metal\b"
    r"|\binto a bare[- ]?metal\b"
    r"|\b(?:they|it|both|all of them)(?:[’']re|[’']s| are| is)(?: (?!not\b|no\b|never\b)\w+){0,2}? bare[- ]?metal\b"
)
BARE_NEGATED = re.compile(
    r"\b(?:not|no|never|without|isn[’']?t|aren[’']?t|don[’']?t|doesn[’']?t|nicht|kein\w*)\b"
)
BARE_EXCEPT = re.compile(
    r"\b(?:vs\.?|versus|compared? (?:to|with)|instead of|rather than|than|or|would|could|if|whether)"
    r" (?:\w+ ){0,6}?(?:vms?|vps|virtual\w*|hypervisor|proxmox|esxi|cloud|containers?|docker)\b"
    r"|\b(?:vms?|vps|virtual\w*|cloud) (?:\w+ ){0,2}?(?:vs\.?|versus|instead of|or|compared)\b"
    r"|\b(?:move|migrat|put|switch|convert|turn)\w* (?:\w+ ){0,3}?(?:in|into|onto|under) (?:a |an |my |the )?(?:\w+ )?"
    r"(?:vms?|virtual machine|proxmox|esxi|hypervisor|vps)\b|\bvirtuali[sz]e\b"
    r"|\brent\w*|\bhetzner\b|\bovh\b|\bdedicated server"
    r"|\b(?:check|verify|tell|know|sure|detect|confirm)\w* (?:\w+ ){0,3}?(?:if|whether)\b"
)
