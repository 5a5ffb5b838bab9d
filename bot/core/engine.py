"""The platform-neutral engine: an `Event` in, a `Decision` (with its reason) out.

Pure and synchronous: the matcher and the detector, no I/O, never sends anything and
never raises. The rules, in the order they apply:

1. its own posts and other bots' posts: silent;
2. staff posts are not auto-answered unless `answer_staff` (explicit calls from staff are);
3. no auto-reply where a staff member or trusted helper already answered;
4. a post carrying a dump (in its text or an attachment) gets the verdict, and the
   answer too when its prose asks an on-topic question (or for an explicit call that
   names an entry) — except an unsolicited new topic whose dump looks physical or
   inconclusive and whose prose asks nothing about virtualization: that is someone
   debugging a bare-metal node (a boot log, a disk listing), and a verdict would be spam;
5. an explicit call (mention, private message, command) is always answered: the entry
   it asked for, else the matcher's candidate, else a request for a dump (when it asks
   about its own machine) or short help;
6. otherwise only a new topic (or a message in a watched channel) that the matcher
   finds on topic, with an entry allowed to auto-reply, gets the answer.

`answer_staff` is a constructor option rather than an event field because it is a
per-platform setting: the service builds one engine per platform.

Adapters on an event loop call `decide_async`: a small text is decided inline; for anything
with an attachment or a long text, the heavy part (cutting, splitting, decoding, the
detector) runs in a small shared pool of worker processes (`ANALYSIS_WORKERS`), and only the
quick matching happens on the loop. Threads would not do: the detector's regular
expressions hold the GIL for a whole call over a megabyte, which starved the loop for
seconds. So a burst of big pastes neither stalls the loop (and `/healthz`) nor runs more
than that many analyses at once; the rest wait their turn.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot.core.models import Action, Attachment, Decision, Event, EventKind
from bot.core.paste import split_paste
from detector import InputRefused, analyze, decode, looks_like_dump
from detector.model import Verdict
from knowledge import KnowledgeBase
from knowledge.model import Entry, Match

log = logging.getLogger(__name__)

DEFAULT_MAX_DUMP_BYTES = 10 * 1024 * 1024
ANALYSIS_WORKERS = 2  # analyses at once, across every engine in the process
INLINE_TEXT_CHARS = 16 * 1024  # below this, with no attachment, deciding takes well under 10 ms

_pool: ProcessPoolExecutor | None = None
_pool_lock = threading.Lock()

# (prose, verdict or None, notes): the heavy half of a decision, computed in a worker.
Prepared = tuple[str, Verdict | None, tuple[str, ...]]


def _analysis_pool() -> ProcessPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            # "spawn": never fork a process that runs an event loop and library threads.
            _pool = ProcessPoolExecutor(
                max_workers=ANALYSIS_WORKERS, mp_context=multiprocessing.get_context("spawn")
            )
        return _pool


def _drop_pool() -> None:
    global _pool
    with _pool_lock:
        if _pool is not None:
            _pool.shutdown(wait=False, cancel_futures=True)
        _pool = None


def split_event_text(
    text: str, attachments: tuple[Attachment, ...], max_dump_bytes: int
) -> tuple[str, str, tuple[str, ...]]:
    """(prose, dump, notes): the question, the paste (text and attachments), and caveats."""
    notes: list[str] = []
    limit = max_dump_bytes
    # Cut by characters first (each is at least one byte), so a 60 MB post is never
    # encoded whole; then trim the (now small) rest to the byte limit.
    cut = len(text) > limit
    if cut:
        text = text[:limit]
    if len(text) > limit // 4 and len(encoded := text.encode("utf-8", "ignore")) > limit:
        text = encoded[:limit].decode("utf-8", "ignore")
        cut = True
    if cut:
        notes.append(f"text cut to the first {limit} bytes")
    paste = split_paste(text, looks_like_dump)
    dumps = [paste.dump] if paste.has_dump else []
    for att in attachments:
        if att.content is None:
            notes.append(f"attachment {att.filename!r} was not read")
            continue
        try:
            content = decode(att.content, max_bytes=max_dump_bytes)
        except InputRefused as exc:
            notes.append(f"attachment {att.filename!r} refused: {exc}")
            continue
        if looks_like_dump(content):
            dumps.append(content)
        else:
            notes.append(f"attachment {att.filename!r} does not look like tool output")
    return paste.prose, "\n\n".join(dumps), tuple(notes)


def prepare(text: str, attachments: tuple[Attachment, ...], max_dump_bytes: int) -> Prepared:
    """Split and analyse (pure, picklable in and out): what a worker process computes."""
    prose, dump, notes = split_event_text(text, attachments, max_dump_bytes)
    return prose, (analyze(dump) if dump else None), notes


# An explicit call whose candidate scores below this share of the threshold is not about
# any entry ("@farmhand thanks!"): it gets help instead of a random answer.
EXPLICIT_FLOOR_SHARE = 0.3
# "Is my box bare metal?"-style questions with no paste: ask for one.
_ASKS_ABOUT_OWN_MACHINE = re.compile(
    r"\b(bare[- ]?metal|virtuali[sz]ed|virtual machine|vm|vps|hypervisor|dmidecode|lscpu|"
    r"my (server|machine|box|node|hardware|rig)|check|detect(ed)?)\b",
    re.IGNORECASE,
)


class Engine:
    """Decides what to do about one event. Build once per platform, call `decide` many times."""

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        min_score: float | None = None,
        max_dump_bytes: int = DEFAULT_MAX_DUMP_BYTES,
        answer_staff: bool = False,
    ) -> None:
        self.kb = kb
        self.min_score = min_score
        self.max_dump_bytes = max_dump_bytes
        self.answer_staff = answer_staff

    @property
    def threshold(self) -> float:
        """The auto-reply score threshold in force."""
        return self.kb.threshold if self.min_score is None else self.min_score

    async def decide_async(self, event: Event) -> Decision:
        """`decide` for code on an event loop: off the loop when the event is big. Never raises."""
        if (not event.attachments and len(event.text or "") <= INLINE_TEXT_CHARS) or self._early(event):
            return self.decide(event)
        loop = asyncio.get_running_loop()
        args = (event.text or "", tuple(event.attachments), self.max_dump_bytes)
        try:
            try:
                prepared = await loop.run_in_executor(_analysis_pool(), prepare, *args)
            except BrokenProcessPool:  # a worker died (OOM killer?): start afresh, once
                log.warning("analysis worker died; restarting the pool")
                _drop_pool()
                prepared = await loop.run_in_executor(_analysis_pool(), prepare, *args)
        except Exception as exc:  # one bad post must not stop the bot
            log.error("analysis failed on %s item %s: %s", event.platform, event.item_id, type(exc).__name__)
            return Decision(Action.SILENT, f"engine error: {type(exc).__name__}")
        return self.decide(event, prepared)

    def decide(self, event: Event, prepared: Prepared | None = None) -> Decision:
        """The decision for one event, with a one-line reason. Never raises.

        `prepared`: the result of `prepare()` for this event, when it was computed elsewhere.
        """
        try:
            return self._decide(event, prepared)
        except Exception as exc:  # one bad post must not stop the bot
            log.exception("engine failed on %s item %s", event.platform, event.item_id)
            return Decision(Action.SILENT, f"engine error: {type(exc).__name__}")

    def _early(self, event: Event) -> Decision | None:
        """The decisions that need no look at the text (who posted, and where)."""
        author = event.author
        if author.is_self:
            return Decision(Action.SILENT, "own post")
        if author.is_bot:
            return Decision(Action.SILENT, "posted by another bot")
        explicit = event.explicit
        if not explicit and author.is_staff and not self.answer_staff:
            return Decision(Action.SILENT, "staff post: staff are not auto-answered")
        if not explicit and event.answered_by_human:
            return Decision(Action.SILENT, "a staff member or trusted helper already answered here")
        return None

    def _decide(self, event: Event, prepared: Prepared | None) -> Decision:
        early = self._early(event)
        if early is not None:
            return early
        explicit = event.explicit
        if prepared is None:
            prepared = prepare(event.text or "", tuple(event.attachments), self.max_dump_bytes)
        prose, verdict, notes = prepared
        if verdict is not None:
            if (
                event.kind is EventKind.NEW_TOPIC
                and verdict.verdict in ("bare-metal", "inconclusive")
                and not _ASKS_ABOUT_OWN_MACHINE.search(prose)
                and not self.kb.match(prose, threshold=self.min_score).on_topic
            ):
                return Decision(
                    Action.SILENT,
                    f"dump ({verdict.verdict}) in a post that asks nothing about virtualization",
                    verdict=verdict,
                    notes=notes,
                )
            return self._with_verdict(event, prose, verdict, notes)
        if explicit:
            return self._explicit(event, prose or event.text, notes)
        if event.kind is not EventKind.NEW_TOPIC:
            return Decision(Action.SILENT, f"{event.kind.value} without a dump or a call", notes=notes)
        match = self.kb.match(prose, threshold=self.min_score)
        entry = self.kb.get(match.entry) if match.entry else None
        if match.on_topic and entry is not None and entry.auto_reply:
            return Decision(
                Action.ANSWER,
                f"on topic: {entry.id} (score {match.score:.2f} >= {self.threshold:.2f})",
                entry=entry,
                match=match,
                notes=notes,
            )
        return Decision(Action.SILENT, _off_topic_reason(match, self.threshold), match=match, notes=notes)

    def _split(self, event: Event) -> tuple[str, str, tuple[str, ...]]:
        """(prose, dump, notes) for one event (see `split_event_text`)."""
        return split_event_text(event.text or "", tuple(event.attachments), self.max_dump_bytes)

    def _with_verdict(self, event: Event, prose: str, verdict: Verdict, notes: tuple[str, ...]) -> Decision:
        entry: Entry | None = None
        match: Match | None = None
        if event.requested_entry:
            entry = self.kb.get(event.requested_entry)
        elif prose.strip() and event.kind is not EventKind.REPLY:
            match = self.kb.match(prose, threshold=self.min_score)
            if match.on_topic and match.entry:
                entry = self.kb.get(match.entry)
        what = f"dump: {verdict.verdict} ({verdict.confidence:.2f})"
        if entry is not None:
            score = f", score {match.score:.2f}" if match is not None else ""
            return Decision(
                Action.BOTH,
                f"{what} and question: {entry.id}{score}",
                entry=entry,
                match=match,
                verdict=verdict,
                notes=notes,
            )
        return Decision(Action.VERDICT, what, match=match, verdict=verdict, notes=notes)

    def _explicit(self, event: Event, text: str, notes: tuple[str, ...]) -> Decision:
        call = event.kind.value
        if event.requested_entry:
            entry = self.kb.get(event.requested_entry)
            if entry is not None:
                return Decision(
                    Action.ANSWER, f"{call}: requested entry {entry.id}", entry=entry, notes=notes
                )
            notes = (*notes, f"unknown entry {event.requested_entry!r}")
        match = self.kb.match(text, threshold=self.min_score)
        chosen = match.entry or match.candidate
        entry = self.kb.get(chosen) if chosen else None
        if entry is not None and (match.on_topic or match.score >= EXPLICIT_FLOOR_SHARE * self.threshold):
            return Decision(
                Action.ANSWER,
                f"{call}: {entry.id} (score {match.score:.2f})",
                entry=entry,
                match=match,
                notes=notes,
            )
        if _ASKS_ABOUT_OWN_MACHINE.search(text):
            return Decision(
                Action.ASK_FOR_DUMP,
                f"{call}: asks about a machine but pasted no dump (score {match.score:.2f})",
                match=match,
                notes=notes,
            )
        return Decision(
            Action.HELP, f"{call}: not about any entry (score {match.score:.2f})", match=match, notes=notes
        )


def _off_topic_reason(match: Match, threshold: float) -> str:
    if match.candidate and match.score >= threshold and not match.on_topic:
        return f"not auto-answered: {match.candidate} is for explicit calls or the topic gate failed"
    return f"off topic (score {match.score:.2f} < {threshold:.2f})"
