"""Posts that the shipped model puts in its abstain band, for tests of what happens to unsure posts.

The model is retrained whenever the labelled data grows, and which ambiguous posts land in the
band moves with it. So tests of triage pick their posts from this pool (and assert that they
sit in the band) instead of hard-coding one post that a retrain pushes out of it.
"""

from __future__ import annotations

import pytest

from knowledge import default_kb

# Ambiguous on purpose: on topic, but hedged, short or indirect.
POOL: tuple[tuple[str, str], ...] = (
    ("Virtual nodes on the grid", "How do I connect a few virtual nodes (ZOS in VMs on my own server) to the grid "
     "for farming? They come up but I'm not sure they count."),
    ("NAS", "can zos go on my nas?"),
    ("Homelab capacity", "my homelab has spare capacity in a vm, can threefold use it?"),
    ("VM flag", "my node is in a vm, is the virtualized flag a problem?"),
    ("Virtualized flag", 'does the "virtualized" flag on dashboard mean my *node* won\'t earn because it\'s in a VM? '
     "confused"),
    ("Testing a node in VMware", "I set up a node in VMware Workstation to learn. Does it count for farming or only "
     "for testing?"),
    ("Old server", "I have an old server running a few VMs, could one of them be a node?"),
    ("Spare box", "i have proxmox on my spare box, is that any good for the grid or not really?"),
    ("Cloud box", "would my small cloud box be useful to threefold somehow?"),
    ("Docker", "saw someone run zos stuff in docker, does that work for nodes too?"),
    ("Nested", "if I nest zos inside another hypervisor does the grid notice?"),
    ("Windows PC", "my windows pc is on all day with hyper-v, could it be a node?"),
)


def unsure_topics(n: int) -> list[tuple[str, str]]:
    """`n` (title, body) pairs whose `title\\n\\nbody` the shipped model puts in the band."""
    kb = default_kb()
    found = [(t, b) for t, b in POOL if kb.match(f"{t}\n\n{b}").band == "unsure"]
    if len(found) < n:
        pytest.fail(f"only {len(found)} of the pool's posts sit in the model's abstain band; add ambiguous ones")
    return found[:n]


def unsure_message(suffix: str = "") -> str:
    """One message (no title) in the band, also when `suffix` is appended to it."""
    kb = default_kb()
    for _, body in POOL:
        if kb.match(body).band == "unsure" and kb.match(body + suffix).band == "unsure":
            return body
    pytest.fail("no post of the pool sits in the model's abstain band; add ambiguous ones")
