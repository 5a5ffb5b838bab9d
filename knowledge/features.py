"""The matcher model's features, as a pure function of a post's text (no numpy, no sklearn).

    features(text) -> {name: value}

Text is normalised first (`normalize`: control characters blanked, lower case, accents
folded, digits collapsed to 0, CJK runs spaced), then split into words. A post contributes:

- ``w|word``      word unigrams
- ``b|w1 w2``     word bigrams
- ``c|gram``      character 3- to 5-grams inside each word padded as ``<word>`` (typos,
                  slang, inflections, languages the data barely covers)
- ``s|name``      a handful of rule signals (`SIGNALS`): a "not for farming" clause, a
                  support-case wording, another project's node, an off-topic marker...

The words of the title (the first line) count twice: that is where a post asks. Every
count is divided by sqrt(number of words), so a long post does not saturate the model.
The whole post is read up to `MAX_WORDS` words (pastes longer than that add nothing).

Because a word's unigram and character grams depend on that word alone, a scorer can cache
one weight per distinct word (`word_features`); see `knowledge/scorer.py`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from itertools import pairwise

from knowledge import prefilter, signals
from knowledge.cues import Scanner

MAX_CHARS = 40_000
MAX_WORDS = 2_000
TITLE_WEIGHT = 2  # the title's words count this many times
CHAR_MIN, CHAR_MAX = 3, 5
_WORD = re.compile(r"[^\W_]+(?:['.-][^\W_]+)*")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd]")
_DIGITS = re.compile(r"\d+")
_CJK_RUN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_SPACE = re.compile(r"[ \t\r\f\v]+")

# --- rule signals -------------------------------------------------------------------------
# Each is one compiled pattern over normalised text. They are features (the model weighs
# them); the few that are certain enough to decide alone are the vetoes in matcher.py.

# The writer's own intent: "(it's / this is / just) not for farming", "I'm not trying to farm",
# "no plans to farm". Tied to the clause ("VMs -> no farming?" asks, it does not say so).
NOT_FOR_FARMING = re.compile(
    r"\bnot (?:for|meant for|intended for|about) (?:farming|earning|rewards|production)\b"
    r"|\b(?:just|only|purely) (?:for|to) \w+(?: \w+)?,? (?:and )?not (?:for )?(?:farming|earning)\b"
    r"|\b(?:i'?m|im|i am|we'?re|we are) not (?:trying|looking|planning|going|gonna|here|interested)"
    r" (?:to |in )?(?:farm|earn)\w*"
    r"|\bno (?:plans?|intention|interest) (?:to|of|in) (?:farm|earn)\w*"
    r"|\bi (?:don'?t|do not|dont) (?:want|plan|intend) to (?:farm|earn)\b"
    # "..., no farming." / "not farming, just learning" (but "no farming rewards?" asks)
    r"|(?:^|[.,;:!(]\s*)(?:no|not|without) farming\s*(?:[.,;:!)]|$|,?\s*(?:just|only)\b)"
    # the same clause in the community's other languages (text is lower-cased, accents folded)
    r"|\bnicht (?:zum |furs? |fur das )?farm(?:en|ing)\b|\bkein(?:e)? farming\b|\bohne (?:zu )?farm(?:en|ing)\b"
    r"|\bpas pour (?:le |du )?farm(?:ing|er)\b|\bsans farm(?:ing|er)\b"
    r"|\bno (?:es )?para (?:el )?farm(?:ing|ear)\b|\bsin farm(?:ing|ear)\b"
    r"|\bnao (?:e )?para (?:o )?farm(?:ing|ar)\b|\bsem farm(?:ing|ar)\b"
    r"|\bnon (?:e )?per (?:il )?farm(?:ing|are)\b|\bniet (?:om te |voor )(?:het )?farm(?:en|ing)\b"
    r"|\bkhong (?:phai )?(?:de )?farm\b(?! (?:đ|d)uoc)|\bне для фарм|\bnie do farm(?:ingu|owania)\b"
    r"|不是为了(?:farm|挖矿|赚)|不用来(?:farm|挖矿)|不挖矿|ファーム(?:しない|目的ではない|目的じゃない)"
)
# A node shown as virtualized, and a claim that it is real hardware: the support case.
SHOWN_VIRTUAL = re.compile(
    r"(?:virtuali[sz]ed|virtualisiert|virtual)\W{0,4}(?:yes|true|=\s*(?:true|yes|1))"
    r"|\b(?:says?|saying|shows?|showing|shown|flag(?:ged|s)?|marked|detect(?:ed|s)|reports?|reporting|listed"
    r"|seen|registered|display(?:s|ed)?|thinks?|claims?|labell?ed|tagged|appears?)\b (?:\w+ ){0,3}"
    r"(?:as )?(?:a |an |being )?(?:vm|virtual\w*|hypervisor)\b|\bvirt-what\b.{0,40}\b(?:wrong|false)"
)
REAL_HARDWARE = re.compile(
    r"\bbare[- ]?metal\b|\bphysical\b|\breal (?:hardware|server|machine|box|dell|hp|hpe|supermicro|lenovo"
    r"|computer|pc|metal|iron|node)\b|\bactual (?:hardware|server|machine|box)\b|\bnot (?:a |in a |on a )?vm\b"
    r"|\bno vm\b|\bnever (?:used|ran|run|installed) (?:a |any )?(?:vm|hypervisor|virtual)|\bno hypervisor\b"
    r"|\bdedicated hardware\b|\bfalse positive\b|\bmis-?(?:flagged|detected)\b|\bwrongly\b|\bby mistake\b"
)
# Another project's node (a named project, or "<Name> node" with no ThreeFold word).
OTHER_PROJECT = re.compile(
    r"\b(?:presearch|flux(?:node)?|helium|storj|filecoin|golem|akash|mysterium|nym|pi network|pi node"
    r"|masternodes?|solana|ethereum|eth2?|bitcoin|lightning|chia|dusk|koii|grass|aleo|nosana|theta|ankr"
    r"|sia(?:coin)?|arweave|livepeer|polkadot validator|cosmos validator|avalanche|massa|shardeum"
    r"|subspace|autonomys|iotex|streamr|titan|meson|deeper|myst|xx network|elrond|hedera)\b"
)
THREEFOLD = re.compile(
    r"\b(?:threefold|three fold|tft|tfgrid|tf grid|tfchain|zos|zero[- ]?os|0-os|3-?nodes?|farmerbot|grid)\b"
)
SUPPORT_WORDS = re.compile(r"\b(?:help|support|fix|wrong|bug|issue|why does it say|mistake|error)\b")
HOSTING_ON_NODE = re.compile(
    r"\b(?:deploy\w*|host\w*|rent\w*|reserv\w*|spin(?:ning)? up|create|launch\w*) (?:\w+ ){0,3}"
    r"(?:vms?|virtual machines?|workloads?)\b (?:\w+ ){0,3}(?:on|in|from) (?:the |my |a )?(?:grid|node|3node|farm)"
)
_NEGATION = re.compile(r"\b(?:not|no|never|without|n't|dont|don't|isnt|isn't|aint|nicht|pas|nao|non|kein\w*)\b")

# Words for the node itself being virtual (not "virtualized", the flag's word).
VIRT_TERMS = (
    r"(?:vms?|virtual (?:machines?|servers?)|hypervisors?|vps|docker|proxmox|esxi|virtualbox|kvm|qemu|hyper-?v"
    r"|lxc|virtualization|virtualisation|virtualisierung|virtualizacion|virtualizzazione|виртуал\w*)"
)
VIRT_TERM = re.compile(r"\b" + VIRT_TERMS + r"\b")
# "no VM", "kein VM", "pas de VM", "sin VM", "без VM": the writer says there is no VM, which
# a bag of words reads as one more mention of a VM.
NEGATED_VIRT = re.compile(
    r"\b(?:no|not (?:a|an|in a|on a|inside a)|never (?:a|in a)|without(?: a| any)?|kein(?:e|en)?|ohne"
    r"|pas de|pas dans une?|sans|sin|sem|senza|niente|geen|zonder|nie w|bez|без|не в) "
    + VIRT_TERMS
    + r"\b"
)

# Each signal reads one post (`read`): its memoised searches are shared with the vetoes.
SIGNALS: tuple[tuple[str, Callable[[prefilter.Post], bool]], ...] = (
    ("not-for-farming", lambda p: p.search(NOT_FOR_FARMING) is not None),
    ("shown-virtual", lambda p: p.search(SHOWN_VIRTUAL) is not None),
    (
        "shown-virtual+real-hardware",
        lambda p: p.search(SHOWN_VIRTUAL) is not None and p.search(REAL_HARDWARE) is not None,
    ),
    ("other-project", lambda p: p.search(OTHER_PROJECT) is not None),
    ("other-project-no-threefold", lambda p: p.search(OTHER_PROJECT) is not None and p.search(THREEFOLD) is None),
    ("no-threefold-word", lambda p: p.search(THREEFOLD) is None),
    ("passing-mention", lambda p: p.search(signals.PASSING_MENTION) is not None),
    # (every LEAVING match holds one of signals.LEAVING_WORDS: tests/knowledge/test_speed.py)
    ("leaving-farming", lambda p: p.search(signals.LEAVING) is not None),
    ("hosting-vms-on-node", lambda p: p.search(HOSTING_ON_NODE) is not None),
    ("negation", lambda p: p.search(_NEGATION) is not None),
    ("negated-virt", lambda p: p.search(NEGATED_VIRT) is not None),
    ("support-words", lambda p: p.search(SUPPORT_WORDS) is not None),
    ("question-mark", lambda p: "?" in p.text),
)
_SIGNAL_PATTERNS = (
    NOT_FOR_FARMING, SHOWN_VIRTUAL, REAL_HARDWARE, OTHER_PROJECT, THREEFOLD, signals.PASSING_MENTION,
    signals.LEAVING, HOSTING_ON_NODE, _NEGATION, NEGATED_VIRT, VIRT_TERM, SUPPORT_WORDS,
)  # fmt: skip
# The hand-written cue groups, as features: each cue present is ``k|group:name``, and the
# conjunctions the old rules were built on are ``x|...`` (a linear model cannot AND by itself).
_GROUPS = ("virt", "farm", "why", "lookalike", "flagged")
_MAIN_GROUPS = (signals.VIRT, signals.FARM, signals.BARE_METAL_WHY, signals.LOOKALIKE, signals.FLAGGED)
_VIRT_BY_NAME = {c.name: (c.pattern, prefilter.strong_prefixes(c.pattern)) for c in signals.VIRT}
_FARM_BY_NAME = {c.name: (c.pattern, prefilter.strong_prefixes(c.pattern)) for c in signals.FARM}
_MAIN = Scanner(_MAIN_GROUPS)
_COMBO = Scanner((signals.COMBO, signals.SUBJECT))
# The feature name of each cue, made once: (group index, cue name) -> "k|virt:vm".
_MAIN_NAMES = {
    (g, c.name): f"k|{group}:{c.name}"
    for g, (group, cues) in enumerate(zip(_GROUPS, _MAIN_GROUPS, strict=True))
    for c in cues
}
_COMBO_NAMES = {(0, c.name): f"x|combo:{c.name}" for c in signals.COMBO} | {
    (1, c.name): f"x|subject:{c.name}" for c in signals.SUBJECT
}
# One scan per post finds the literals of every pattern above (`prefilter`).
_INDEX = prefilter.Index([*_SIGNAL_PATTERNS, *_MAIN.patterns(), *_COMBO.patterns()])
SIGNAL_WEIGHT = 1.0  # a signal is worth one word of a one-word post (then / sqrt(words))
# A virtualisation cue and a farming cue within this many characters: one clause asks about
# farming in a VM, however long the post. Unlike every other feature it is not divided by
# sqrt(words): a long post with several questions must not dilute the one that matters.
NEAR_CHARS = 60
NEAR = "x|near:virt&farm"


class _Marks(dict):
    """`str.translate` table that drops combining marks, filled in as characters are met
    (a table of all of Unicode would cost start-up time)."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        if len(self) < 65_536:  # bounded: junk input must not grow it without end
            self[code] = kept
        return kept


_DROP_MARKS = _Marks()


def normalize(text: str) -> str:
    """Lower case, accents folded, control characters blanked (what the rule signals read)."""
    text = _CONTROL.sub(" ", text[:MAX_CHARS])
    if not text.isascii():
        # NFKD splits "é" into "e" + a combining mark; the marks go (same as filtering out
        # every unicodedata.combining(c), one C call for the whole text)
        text = unicodedata.normalize("NFKD", text)
        if not text.isascii():
            text = text.translate(_DROP_MARKS)
        text = _CJK_RUN.sub(r" \g<0> ", text)
    return _SPACE.sub(" ", text.lower())


def tokens(norm: str) -> list[str]:
    """The words the model reads (digits collapsed to 0), title words repeated TITLE_WEIGHT
    times, at most MAX_WORDS."""
    first, _, rest = _DIGITS.sub("0", norm).strip().partition("\n")
    title = _WORD.findall(first)
    body = _WORD.findall(rest)
    if not body:  # a chat message is all title: nothing to emphasise
        return title[:MAX_WORDS]
    return (title * TITLE_WEIGHT + body)[:MAX_WORDS]


def bigrams(words: list[str]) -> list[str]:
    """Adjacent word pairs, as feature names."""
    return [f"b|{a} {b}" for a, b in pairwise(words)]


def char_grams(word: str) -> list[str]:
    """Character 3- to 5-grams of one word padded as <word>, with repeats."""
    padded = f"<{word}>"
    n = len(padded)
    return [padded[i : i + k] for k in range(CHAR_MIN, CHAR_MAX + 1) for i in range(n - k + 1)]


def word_features(word: str) -> list[str]:
    """Every feature one word contributes by itself: its unigram and its character grams."""
    return ["w|" + word, *("c|" + g for g in char_grams(word))]


def read(norm: str | prefilter.Post) -> prefilter.Post:
    """Normalised text as the rules read it (one line), with its literal scan done once."""
    if isinstance(norm, prefilter.Post):
        return norm
    return _INDEX.post(norm.replace("\n", " "))


def signal_names(norm: str | prefilter.Post) -> list[str]:
    """The rule signals present in normalised text (or a post `read` from it)."""
    post = read(norm)
    return ["s|" + name for name, test in SIGNALS if test(post)]


def features(text: str) -> dict[str, float]:
    """The sparse feature vector of a post (training; the scorer computes the same sum faster)."""
    norm = normalize(text)
    ws = tokens(norm)
    out: dict[str, float] = {}
    if ws:
        scale = 1.0 / math.sqrt(len(ws))
        for w in ws:
            for f in word_features(w):
                out[f] = out.get(f, 0.0) + scale
        for f in bigrams(ws):
            out[f] = out.get(f, 0.0) + scale
    scale = 1.0 / math.sqrt(max(len(ws), 1))
    post = read(norm)
    for name in signal_names(post) + cue_names(post):
        out[name] = SIGNAL_WEIGHT * (1.0 if name == NEAR else scale)
    return out


def near(text: str, virt: tuple[str, ...], farm: tuple[str, ...]) -> bool:
    """A virtualisation cue and a farming cue (of those the post holds, by name) start within
    NEAR_CHARS of each other. Where a cue's matches can only start with a few literals, the
    literals' places stand for its matches' (a `str.find` in C instead of a regex pass)."""
    at = _starts(text, virt, _VIRT_BY_NAME)
    if not at:
        return False
    return any(abs(a - b) <= NEAR_CHARS for b in _starts(text, farm, _FARM_BY_NAME) for a in at)


def _starts(text: str, names: tuple[str, ...], by_name: dict[str, tuple[re.Pattern[str], frozenset[str] | None]]) -> list[int]:
    out: list[int] = []
    for n in names:
        pattern, literals = by_name[n]
        if literals is None:
            out += [m.start() for m in pattern.finditer(text)]
            continue
        for lit in literals:
            i = text.find(lit)
            while i >= 0:
                out.append(i)
                i = text.find(lit, i + 1)
    return out


def cue_names(norm: str | prefilter.Post) -> list[str]:
    """The cue features of normalised text (``k|group:cue`` and the ``x|`` conjunctions)."""
    post = read(norm)
    hits = _MAIN.scan(post)
    out = [_MAIN_NAMES[g, n] for g, h in enumerate(hits) for n in h.names]
    virt, farm, _why, look, flagged = (h.weight > 0 for h in hits)
    if virt and farm:
        out.append("x|virt&farm")
        combo, subject = _COMBO.scan(post)
        out += [_COMBO_NAMES[0, n] for n in combo.names] + [_COMBO_NAMES[1, n] for n in subject.names]
        if not look:
            out.append("x|virt&farm&!lookalike")
        if near(post.text, hits[0].names, hits[1].names):
            out.append(NEAR)
    if flagged and not virt:
        out.append("x|flagged&!virt")
    return out


def spec() -> dict:
    """The feature settings a model was trained with (a model file of another spec is refused)."""
    return {
        "version": 1,
        "max_chars": MAX_CHARS,
        "max_words": MAX_WORDS,
        "title_weight": TITLE_WEIGHT,
        "char": [CHAR_MIN, CHAR_MAX],
        "signals": [name for name, _ in SIGNALS],
        "cues": "signals",
        "scale": "sqrt_words",
        "near": NEAR_CHARS,
    }
