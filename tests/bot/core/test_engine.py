"""Engine rules: events in, decisions out, no platform involved."""

from pathlib import Path

import pytest

from bot.core.engine import Engine
from bot.core.models import Action, Attachment, Author, Event, EventKind
from knowledge import default_kb

FIXTURES = Path(__file__).parent / "fixtures"
DMI = (FIXTURES / "kvm-dmidecode.txt").read_text()
LSCPU = (FIXTURES / "kvm-lscpu.txt").read_text()
ON_TOPIC = (
    "Can I run a ThreeFold farming node (Zero OS) in a VM on my Proxmox server and still get farming rewards?"
)
LOOKALIKE = "How do I deploy a VM on the ThreeFold grid with terraform? The playground keeps timing out."
MEMBER = Author(id="u1", name="newfarmer")


def ev(text="", kind=EventKind.NEW_TOPIC, author=MEMBER, **kw) -> Event:
    return Event(platform="test", kind=kind, where="t1", item_id="p1", author=author, text=text, **kw)


@pytest.fixture(scope="module")
def engine():
    return Engine(default_kb())


def test_on_topic_new_topic_is_answered(engine):
    d = engine.decide(ev(ON_TOPIC))
    assert d.action is Action.ANSWER and d.posts
    assert d.entry is not None and d.entry.auto_reply
    assert d.entry.id in d.reason and "score" in d.reason


def test_lookalike_new_topic_is_silent_with_reason(engine):
    d = engine.decide(ev(LOOKALIKE))
    assert d.action is Action.SILENT and not d.posts
    assert "off topic" in d.reason or "not auto-answered" in d.reason


def test_own_posts_and_bots_are_silent_even_when_explicit(engine):
    me = Author(id="b", name="farmhand", is_self=True)
    bot = Author(id="c", name="otherbot", is_bot=True)
    assert engine.decide(ev(ON_TOPIC, author=me)).reason == "own post"
    assert engine.decide(ev(ON_TOPIC, kind=EventKind.MENTION, author=bot)).action is Action.SILENT


def test_staff_not_auto_answered_by_default_but_explicit_is(engine):
    staff = Author(id="s", name="mod", is_staff=True)
    assert engine.decide(ev(ON_TOPIC, author=staff)).action is Action.SILENT
    assert engine.decide(ev(ON_TOPIC, kind=EventKind.MENTION, author=staff)).action is Action.ANSWER
    assert Engine(default_kb(), answer_staff=True).decide(ev(ON_TOPIC, author=staff)).action is Action.ANSWER


def test_no_auto_reply_when_a_human_already_answered(engine):
    d = engine.decide(ev(ON_TOPIC, answered_by_human=True))
    assert d.action is Action.SILENT and "already answered" in d.reason
    # ...but an explicit call still is answered
    assert engine.decide(ev(ON_TOPIC, kind=EventKind.MENTION, answered_by_human=True)).posts


def test_dump_in_text_gets_a_verdict(engine):
    d = engine.decide(ev(f"Here is my output\n\n```\n{LSCPU}```\n"))
    assert d.action in (Action.VERDICT, Action.BOTH)
    assert d.verdict is not None and d.verdict.verdict == "virtual"
    assert d.reason.startswith("dump: virtual")


def test_dump_plus_on_topic_question_gets_both(engine):
    d = engine.decide(ev(f"{ON_TOPIC}\n\n```\n{DMI}```\n"))
    assert d.action is Action.BOTH
    assert d.entry is not None and d.verdict is not None and d.verdict.verdict == "virtual"


def test_dump_as_attachment_in_a_private_message(engine):
    att = Attachment(filename="lscpu.txt", size=len(LSCPU), content=LSCPU.encode())
    d = engine.decide(ev("is this ok?", kind=EventKind.PRIVATE, attachments=(att,)))
    assert d.verdict is not None and d.verdict.verdict == "virtual"


def test_refused_attachment_is_noted_not_raised(engine):
    att = Attachment(filename="blob.bin", size=4, content=b"\x00\x01\x02\xff" * 64)
    d = engine.decide(ev("what is this", kind=EventKind.PRIVATE, attachments=(att,)))
    assert d.posts and d.verdict is None
    assert any("blob.bin" in n for n in d.notes)


def test_reply_without_dump_is_silent_with_dump_gets_verdict(engine):
    assert engine.decide(ev(ON_TOPIC, kind=EventKind.REPLY)).action is Action.SILENT
    d = engine.decide(ev(f"```\n{LSCPU}```", kind=EventKind.REPLY))
    assert d.action is Action.VERDICT


def test_explicit_call_always_answered(engine):
    for kind in (EventKind.MENTION, EventKind.PRIVATE, EventKind.COMMAND):
        d = engine.decide(ev("@farmhand why does it have to be bare metal?", kind=kind))
        assert d.posts, kind
    d = engine.decide(ev("@farmhand thanks a lot!", kind=EventKind.MENTION))
    assert d.action is Action.HELP
    d = engine.decide(ev("@farmhand is my server bare metal?", kind=EventKind.MENTION))
    assert d.action in (Action.ASK_FOR_DUMP, Action.ANSWER)


def test_requested_entry_wins_for_commands(engine):
    d = engine.decide(ev("", kind=EventKind.COMMAND, requested_entry="why-security"))
    assert d.action is Action.ANSWER and d.entry is not None and d.entry.id == "why-security"
    d = engine.decide(ev("", kind=EventKind.COMMAND, requested_entry="no-such-entry"))
    assert d.posts and any("no-such-entry" in n for n in d.notes)


def test_wrongly_flagged_entry_is_never_auto_replied(engine):
    kb = default_kb()
    assert kb.get("wrongly-flagged") is not None and not kb.get("wrongly-flagged").auto_reply
    text = "My bare metal Dell server shows as virtualized in the farmer dashboard, no VM at all. Why is it flagged?"
    auto = engine.decide(ev(text))
    assert not (auto.entry is not None and auto.entry.id == "wrongly-flagged")
    called = engine.decide(ev(text, kind=EventKind.MENTION))
    assert called.posts


def test_min_score_override_gates_auto_replies():
    strict = Engine(default_kb(), min_score=1.01)
    assert strict.decide(ev(ON_TOPIC)).action is Action.SILENT
    assert strict.decide(ev(ON_TOPIC, kind=EventKind.MENTION)).posts


def test_oversized_text_is_cut_not_refused():
    small = Engine(default_kb(), max_dump_bytes=2000)
    d = small.decide(ev(ON_TOPIC + "\n\n" + "x" * 10_000))
    assert any("cut" in n for n in d.notes)


def test_never_raises(engine, monkeypatch):
    def boom(*_a, **_k):
        raise RuntimeError("matcher exploded")

    monkeypatch.setattr(engine.kb, "match", boom)
    d = engine.decide(ev(ON_TOPIC))
    assert d.action is Action.SILENT and "engine error" in d.reason


def test_silent_decision_keeps_its_closest_entry_for_the_audit_log():
    from bot.core.models import Action, Decision
    from knowledge.model import Match

    near = Decision(Action.SILENT, "off topic", match=Match(False, None, 0.45, candidate="vm-farming"))
    assert near.audit_entry == "vm-farming"
    assert Decision(Action.SILENT, "bot").audit_entry is None


BARE_METAL_DMI = """# dmidecode 3.4
Handle 0x0001, DMI type 1, 27 bytes
System Information
\tManufacturer: Dell Inc.
\tProduct Name: PowerEdge R720
\tSerial Number: 7XK2Q12
"""


def test_unsolicited_bare_metal_dump_in_an_unrelated_topic_is_silent(engine):
    d = engine.decide(ev(f"Node stuck at boot after the update, any idea?\n\n```\n{BARE_METAL_DMI}```\n"))
    assert d.action is Action.SILENT and "asks nothing about virtualization" in d.reason


def test_bare_metal_dump_that_asks_is_judged(engine):
    d = engine.decide(ev(f"Is my server bare metal?\n\n```\n{BARE_METAL_DMI}```\n"))
    assert d.action is Action.VERDICT and d.verdict is not None and d.verdict.verdict == "bare-metal"


def test_virtual_dump_in_an_unrelated_topic_still_gets_the_verdict(engine):
    # A farmer debugging "no rewards" who is in fact on a VM needs to hear it.
    d = engine.decide(ev(f"Node stuck at boot after the update, any idea?\n\n```\n{LSCPU}```\n"))
    assert d.action is Action.VERDICT and d.verdict is not None and d.verdict.verdict == "virtual"
