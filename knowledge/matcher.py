"""Decide whether a post asks about farming with a virtualized node, and which entry answers it.

Two stages, both cheap and offline:

1. The gate (is it on topic?) adds up cue weights from `signals`: a virtualization cue
   (VM, VPS, Proxmox, Docker, ...) AND a farming cue (farm, ZOS, 3Node, rewards, ...), or a
   phrase that ties them ("farm in a VM", "virtualized node", "why bare metal"). Look-alike
   cues (deploying on the grid, Terraform, Kubernetes, Farmerbot, other projects' nodes,
   wallet, BIOS settings) subtract. A close rapidfuzz paraphrase of a KB question adds a
   little. Precision beats recall: both cue kinds are required unless a tying phrase is seen.
2. The choice (which entry?) ranks entries by their closest question (rapidfuzz
   token_set_ratio over content words) plus the entry's own cues.

Every decision keeps the cues and the closest paraphrase in `Match.reasons`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from knowledge import signals
from knowledge.gate_model import GateModel
from knowledge.model import Entry, Match
from knowledge.text import content_words, normalize

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 0.5
# The learned gate (knowledge/gate_model.py) may only silence a post the cues answered,
# never make the bot speak: answer when VETO_MIX * score + (1 - VETO_MIX) * p >= VETO_AT.
# Chosen by leave-one-file-out over our own labelled files (docs/gate-model.md): the cue
# rules' blind errors are false positives on kinds of post they had not seen, and the
# model, trained on different evidence (word and character n-grams), disagrees with most.
VETO_MIX = 0.5
VETO_AT = 0.7
# ...and it may rescue a post the cues scored just short: both cue families present, no
# rule against it, the cue score at most RESCUE_MARGIN under the threshold and the model
# nearly sure. A threshold above 1 (more than any score) still turns auto-replies off.
# (Chosen on questions-heldout3 after its first-contact figures were taken; judged on
# questions-heldout4, which neither the rules nor the model ever saw.)
RESCUE_MARGIN = 0.2
RESCUE_P = 0.85
# Only the head of a post goes through fuzzy matching: titles and first sentences carry
# the question, and token_set_ratio on a long body would match every short question.
FUZZY_HEAD_CHARS = 400
GROUP_CAP = 1.0
FUZZY_CUTOFF = 50.0
# Weights of the gate score (sum to about 1 for a clear on-topic post).
W_VIRT, W_FARM, W_COMBO, W_WHY, W_QUESTION, W_FUZZY = 0.35, 0.35, 0.25, 0.45, 0.05, 0.15
PREFIX_CHARS = 5  # literal pre-filter prefixes are cut to this length and shared
MIN_GROUP = 0.4  # a cue group counts as present from this summed weight on
# Compositional rule: a virtualization cue and a farming cue this close (in characters, no
# sentence break between them) are about the same thing ("ZOS inside a VM", "my node on a
# VPS", "nodo en una VPS"), whatever the language or the words in between.
NEAR_CHARS = 50
W_NEAR = 0.2
# The proximity rule and "no rewards" reports look at the head only: the question is in the
# title and first lines, while long bodies (logs, issue reports) pair any words by chance.
TIE_HEAD_CHARS = 600
# Entry choice reads the head too: it names the entry, never decides the gate.
CHOICE_HEAD_CHARS = 1200
MIN_REPORT_VIRT = 0.3  # a "no rewards" report ties to virtualization from this virt weight on
# Entry choice: similarity (0..1) plus ENTRY_BOOST times the entry's cue weight.
ENTRY_BOOST = 0.5
DEFAULT_ENTRY = "vm-farming"
DEFAULT_PRIOR = 0.08  # ties go to the core answer
_QUESTION_WORDS = (
    "?",
    "can i",
    "could i",
    "is it",
    "will ",
    "would ",
    "does ",
    "do i",
    "how ",
    "why",
    "what",
    "puedo",
    "peut",
    "kann ich",
    "est-ce",
    "¿",
    "possible",
    "posible",
    "possivel",
    "possibile",
    "moglich",
    "mogelijk",
    "mumkun",
    "bisa",
    "можно",
    "ли ",
    "why",
)


@dataclass(frozen=True, slots=True)
class _Hits:
    names: tuple[str, ...]
    weight: float


_NO_HITS = _Hits((), 0.0)
_ANY: dict[int, re.Pattern[str]] = {}


def _any_of(cues: Sequence[signals.Cue]) -> re.Pattern[str]:
    """One plain alternation of a whole group (the proximity rule walks its matches)."""
    key = id(cues)
    pattern = _ANY.get(key)
    if pattern is None:
        pattern = _ANY[key] = re.compile("|".join(f"(?:{c.pattern.pattern})" for c in cues))
    return pattern


class _Scanner:
    """Which cues of one or more groups occur in a text, with a literal pre-filter.

    Python's `re` tries every alternative at every position, which is what made one
    `search` per cue (and even one big alternation) the costliest part of a match. Most
    cues can only start with one of a few literal strings ("vm", "proxmox", "virtual m",
    ...), read off the compiled pattern once (`_literal_prefixes`). A cue whose
    prefixes are all absent cannot match and is skipped with a few `str.find` calls;
    otherwise its `search` starts at the first prefix occurrence. Same result as
    `cue.pattern.search(text[:endpos])` for every cue, at a fraction of the cost.
    """

    __slots__ = ("_cues", "_groups")

    def __init__(self, groups: Sequence[Sequence[signals.Cue]]) -> None:
        self._groups = len(groups)
        cues = []
        for g, group in enumerate(groups):
            for c in group:
                found = _literal_prefixes(c.pattern)
                # One literal alternation per cue: `re` scans it quickly (it skips every
                # position whose character starts none of the literals).
                gate = re.compile("|".join(re.escape(p) for p in found)) if found else None
                cues.append((g, c, gate))
        self._cues = tuple(cues)

    def scan(self, text: str, endpos: int | None = None) -> list[_Hits]:
        """Hits per group (in the order given), as if each cue searched text[:endpos]."""
        end = len(text) if endpos is None else min(endpos, len(text))
        hits: list[list[signals.Cue]] = [[] for _ in range(self._groups)]
        for g, c, gate in self._cues:
            start = 0
            if gate is not None:
                first = gate.search(text, 0, end)
                if first is None:
                    continue  # none of its literal prefixes occurs: the cue cannot match
                start = first.start()  # and no match can start before the first of them
            if c.pattern.search(text, start, end) and not (c.unless and c.unless.search(text, 0, end)):
                hits[g].append(c)
        return [_to_hits(h) for h in hits]


def _literal_prefixes(pattern: re.Pattern[str]) -> tuple[str, ...] | None:
    """Literal strings one of which starts every match of `pattern`; None when unknown."""
    if pattern.flags & re.IGNORECASE:
        return None
    try:
        from re import _parser  # CPython's own parser: the prefixes follow the compiled regex

        found = _seq_prefixes(list(_parser.parse(pattern.pattern).data), _parser)
    except Exception:  # another Python: no pre-filter, same results
        return None
    return tuple(sorted(found)) if found else None


def _seq_prefixes(seq: list, parser: object) -> set[str] | None:
    """Prefixes of a parsed sequence (zero-width assertions at its start are skipped)."""
    from re import _constants as k

    out = ""
    for op, av in seq:
        if op is k.LITERAL:
            out += chr(av)
            continue
        if op in (k.AT, k.ASSERT, k.ASSERT_NOT) and not out:
            continue  # zero width: the match still starts at the next literal
        inner: set[str] | None = None
        if op is k.SUBPATTERN:
            inner = _seq_prefixes(list(av[-1].data), parser)
        elif op is k.BRANCH:
            parts = [_seq_prefixes(list(b.data), parser) for b in av[1]]
            inner = None if any(x is None for x in parts) else set().union(*parts)  # type: ignore[arg-type]
        if inner is None:
            break
        return {out + x for x in inner}
    return {out} if out else None


def _to_hits(cues: list[signals.Cue]) -> _Hits:
    if not cues:
        return _NO_HITS
    return _Hits(tuple(c.name for c in cues), min(sum(c.weight for c in cues), GROUP_CAP))


_SENTENCE_BREAK = re.compile(r"[.!?]\s|\n")


def _near(a: Sequence[signals.Cue], b: Sequence[signals.Cue], text: str, window: int = NEAR_CHARS) -> bool:
    """True when some cue of `a` and some cue of `b` sit within `window` characters, same sentence."""
    pattern_a = _any_of(a)
    for m in _any_of(b).finditer(text):
        start, end = m.span()
        # Scan `a` only around this hit (widened to word edges so \b sees whole words):
        # far cheaper than running the big alternation over the whole head.
        lo, hi = max(0, start - window), min(len(text), end + window)
        while lo > 0 and text[lo - 1].isalnum():
            lo -= 1
        while hi < len(text) and text[hi].isalnum():
            hi += 1
        for n in pattern_a.finditer(text, lo, hi):
            s, e = n.span()
            if s - end > window or start - e > window:
                continue
            gap_lo, gap_hi = (e, start) if e <= start else (end, s)
            if gap_lo >= gap_hi or not _SENTENCE_BREAK.search(text, gap_lo, gap_hi):
                return True
    return False


def _not_about_node(text: str) -> str:
    """Blank negated virtualization words and virtualization of other infrastructure."""

    def negated(m: re.Match[str]) -> str:
        # "why not just a VM?" asks about the VM: keep it in a sentence that asks why.
        breaks = list(_SENTENCE_BREAK.finditer(text, 0, m.start()))
        sentence_start = breaks[-1].end() if breaks else 0
        if signals.NEGATION_WHY.search(text, sentence_start, m.start()):
            return m.group()
        # "Isn't a hypervisor just overhead?" is a question about the layer, not a denial
        if m.group().startswith(("isn", "aren", "wasn")) and not text[sentence_start : m.start()].strip():
            return m.group()
        return " " * len(m.group())

    def infra(m: re.Match[str]) -> str:
        # "my firewall and my 3Node both run as VMs" is still about the node
        if _any_of(signals.NEAR_FARM).search(m.group()):
            return m.group()
        return " " * len(m.group())

    text = signals.NEGATED_VIRT.sub(negated, text)
    return signals.OTHER_INFRA.sub(infra, text)


def _bare_asserted(text: str) -> bool:
    """The post says the node IS bare metal (not "I don't have a bare metal node")."""
    for m in signals.BARE_ASSERT.finditer(text):
        if not signals.BARE_NEGATED.search(text, max(0, m.start() - 25), m.start()):
            return True
    return False


def _veto(text: str, combo: bool, subject: bool, off_topic: bool) -> str | None:
    """Why a post that passed the cue gate is still not a VM-farming question, if it is not."""
    # Leaving farming or converting a hypervisor box to bare metal outweigh a SUBJECT
    # phrase: "repurposing the 3Node as a TrueNAS box", "replacing Proxmox with ZOS" read
    # like one.
    # Substring guards first: each regex runs only when its key words can be present.
    if any(w in text for w in signals.LEAVING_WORDS) and signals.LEAVING.search(text):
        return "moving away from farming (retiring / repurposing the node)"
    if (
        any(w in text for w in signals.CONVERT_WORDS)
        and signals.CONVERT.search(text)
        and signals.HOW_TO.search(text)
    ):
        return "converting a hypervisor box into a bare-metal node: a how-to, not a VM question"
    if subject:
        return None
    if off_topic:
        return "marked off-topic and no phrase about the node itself"
    if not combo and "bare" in text and _bare_asserted(text) and not signals.BARE_EXCEPT.search(text):
        return "the node is said to be bare metal and no comparison with a VM is asked"
    return None


class Matcher:
    """Scores posts against a fixed set of entries; build once, call `match` many times."""

    def __init__(
        self, entries: Sequence[Entry], threshold: float = DEFAULT_THRESHOLD, gate: GateModel | None = None
    ) -> None:
        self.entries = tuple(entries)
        self.threshold = threshold
        self.gate = gate
        self._by_id = {e.id: e for e in self.entries}
        self._questions: list[str] = []
        self._owner: list[str] = []
        self._raw: list[str] = []
        for e in self.entries:
            for q in (e.title, *e.questions):
                self._questions.append(content_words(normalize(q)))
                self._owner.append(e.id)
                self._raw.append(q)

    def match(self, text: object, *, threshold: float | None = None) -> Match:
        """Judge one post; never raises (junk of any kind gives a clean off-topic Match)."""
        try:
            return self._match(_as_text(text), self.threshold if threshold is None else threshold)
        except Exception as exc:  # a matcher bug must not take the bot down with it
            log.exception("matcher failed on a post of %d characters", len(str(text)[:10_000_000]))
            return Match(False, None, 0.0, None, (f"error: {type(exc).__name__}",))

    def _match(self, raw: str, threshold: float) -> Match:
        text = normalize(raw)
        if not text:
            return Match(False, None, 0.0, None, ("empty text",))
        reasons: list[str] = []
        passing = signals.PASSING_MENTION.search(text)
        if passing:
            # "besides my 3Nodes": that farming word is not what the post is about.
            text = signals.PASSING_MENTION.sub(lambda m: " " * len(m.group()), text)
        said = text  # before blanking: "not a VM" is what a wrongly-flagged claim says
        virt, farm, why, look, flagged_hits = _MAIN.scan(text)
        if virt.weight > 0:
            # Virtualization words that are not about the node ("no VM", "not a VM", "the
            # router runs as a VM", "on a separate Proxmox box") are blanked, then rescanned.
            blanked = _not_about_node(text)
            if blanked != text:
                text = blanked
                reasons.append("virtualization word negated or about other infrastructure ignored")
                virt, farm, why, look, flagged_hits = _MAIN.scan(text)
        subject = _SUBJECT.scan(text)[0].names if virt.weight > 0 and farm.weight > 0 else ()
        off_topic = signals.OFF_TOPIC.search(text) is not None
        if subject and look.names:
            # Zero OS itself is the guest: the user's cluster or wallet around it is scenery.
            kept = [
                c for c in signals.LOOKALIKE if c.name in look.names and c.name not in signals.SURROUNDINGS
            ]
            look = _to_hits(kept)
        elif not subject:
            choice = _CHOICE.scan(text)[0]
            look = _Hits(look.names + choice.names, min(look.weight + choice.weight, GROUP_CAP))
        why, flagged = why.names, flagged_hits.names
        # The gate needs a farming cue next to a phrase, so without one the (costly) phrase
        # scan cannot change the decision.
        combo = _COMBO.scan(text)[0].names if farm.weight > 0 else ()
        bare_claim = _BARE_CLAIM.scan(said)[0].names if flagged else ()
        bare = _BARE_METAL.scan(said)[0].names if flagged and not bare_claim else ()
        tie_head = text[:TIE_HEAD_CHARS]
        report = _REPORT.scan(tie_head)[0].names if virt.weight >= MIN_REPORT_VIRT else ()
        near = (
            virt.weight >= MIN_GROUP and farm.weight > 0 and _near(signals.VIRT, signals.NEAR_FARM, tie_head)
        )
        question = any(w in text for w in _QUESTION_WORDS)
        reasons += [f"virtualization cue: {n}" for n in virt.names]
        reasons += [f"farming cue: {n}" for n in farm.names]
        reasons += [f"phrase: {n}" for n in combo + why + report + subject]
        if passing:
            reasons.append("farming word in a passing mention ignored")
        if near:
            reasons.append("virtualization cue next to a farming cue")
        reasons += [f"look-alike: {n}" for n in look.names]

        head = content_words(text[:FUZZY_HEAD_CHARS])
        best_q, best_score, per_entry = self._fuzzy(head)
        fuzzy = max(0.0, (best_score - 60.0) / 40.0)
        if best_q is not None and best_score >= 60:
            reasons.append(f"closest question ({best_score:.0f}): {self._raw[best_q]!r}")

        score = (
            W_VIRT * virt.weight
            + W_FARM * farm.weight
            + (W_COMBO if combo or report or subject else 0.0)
            + (W_NEAR if near else 0.0)
            + (W_WHY if why else 0.0)
            + (W_QUESTION if question else 0.0)
            + W_FUZZY * fuzzy
            - look.weight
        )
        score = max(0.0, min(1.0, score))
        gate = (
            bool(why)
            or (bool(combo or report or near) and farm.weight > 0)
            or (virt.weight >= MIN_GROUP and farm.weight >= MIN_GROUP)
        )
        ruled_out = False
        if not gate:
            reasons.append("no virtualization + farming pair")
        elif not why:
            # Evidence against, checked only for posts that passed so far (cheap overall).
            veto = _veto(text, bool(combo), bool(subject), off_topic)
            if veto:
                gate = False
                ruled_out = True
                reasons.append(veto)

        candidate = self._choose(text[:CHOICE_HEAD_CHARS], per_entry, reasons)
        platform_named = bool(set(virt.names) & signals.PLATFORM_NAMES)
        if flagged and (bare_claim or bare) and not platform_named and "wrongly-flagged" in self._by_id:
            # A real machine shown as virtualized is a detection issue for support, not a
            # VM-farming question: name the entry for explicit calls, never auto-reply.
            candidate = "wrongly-flagged"
            reasons.append("bare-metal node shown as virtualized: support case")
        entry = self._by_id.get(candidate) if candidate else None
        on_topic = gate and score >= threshold and entry is not None and entry.auto_reply
        if (
            not on_topic
            and self.gate is not None
            and not ruled_out
            and virt.weight > 0
            and farm.weight > 0
            and threshold <= 1.0
            and score >= threshold - RESCUE_MARGIN
            and entry is not None
            and entry.auto_reply
            and not (flagged and (bare_claim or bare))
        ):
            p = self.gate.score(raw)
            if p >= RESCUE_P:
                on_topic = True
                reasons.append(f"rescued by the gate model (p={p:.2f} >= {RESCUE_P}, cue score {score:.2f})")
        elif on_topic and self.gate is not None and not (combo or subject or why or report):
            p = self.gate.score(raw)
            blend = VETO_MIX * score + (1.0 - VETO_MIX) * p
            if blend < VETO_AT:
                on_topic = False
                reasons.append(f"vetoed by the gate model (p={p:.2f}, blend {blend:.2f} < {VETO_AT})")
            else:
                reasons.append(f"gate model agrees (p={p:.2f}, blend {blend:.2f})")
        if entry is not None and not entry.auto_reply:
            reasons.append(f"entry {entry.id!r} is answered only when called explicitly")
        return Match(
            on_topic=on_topic,
            entry=candidate if on_topic else None,
            score=round(score, 4),
            candidate=candidate,
            reasons=tuple(reasons),
        )

    def _fuzzy(self, head: str) -> tuple[int | None, float, dict[str, float]]:
        per_entry: dict[str, float] = {}
        if not head:
            return None, 0.0, per_entry
        best_i, best = None, 0.0
        # The cut-off lets rapidfuzz skip hopeless pairs early; below it a question says nothing.
        for _choice, s, i in process.extract_iter(
            head, self._questions, scorer=fuzz.token_set_ratio, score_cutoff=FUZZY_CUTOFF
        ):
            owner = self._owner[i]
            if s > per_entry.get(owner, 0.0):
                per_entry[owner] = s
            if s > best:
                best_i, best = i, s
        return best_i, best, per_entry

    def _choose(self, text: str, per_entry: dict[str, float], reasons: list[str]) -> str | None:
        best_id, best, names = None, -1.0, ()
        entry_hits = dict(zip(_ENTRY_IDS, _ENTRY.scan(text), strict=True))
        for e in self.entries:
            if not e.auto_reply:
                continue  # support-only entries are chosen by their own rule, never by likeness
            sim = per_entry.get(e.id, 0.0) / 100.0
            hits = entry_hits.get(e.id, _NO_HITS)
            total = sim + ENTRY_BOOST * hits.weight + (DEFAULT_PRIOR if e.id == DEFAULT_ENTRY else 0.0)
            if total > best:
                best_id, best, names = e.id, total, hits.names
        if best_id is not None:
            reasons.append(f"entry {best_id}" + (f" (cues: {', '.join(names)})" if names else ""))
        return best_id


# One scanner per pass: the cues every post needs, then the ones only some posts reach.
_MAIN = _Scanner((signals.VIRT, signals.FARM, signals.BARE_METAL_WHY, signals.LOOKALIKE, signals.FLAGGED))
_COMBO = _Scanner((signals.COMBO,))
_SUBJECT = _Scanner((signals.SUBJECT,))
_CHOICE = _Scanner((signals.HYPERVISOR_CHOICE,))
_BARE_CLAIM = _Scanner((signals.BARE_CLAIM,))
_BARE_METAL = _Scanner((signals.BARE_METAL,))
_REPORT = _Scanner((signals.NO_REWARDS,))
_ENTRY_IDS = tuple(signals.ENTRY_CUES)
_ENTRY = _Scanner(tuple(signals.ENTRY_CUES.values()))


def _as_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray):
        return bytes(value[:65536]).decode("utf-8", errors="replace")
    return ""
