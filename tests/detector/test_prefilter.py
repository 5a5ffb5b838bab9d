"""The fast paths give exactly what the slow, obvious per-line code gives.

`rules.scan_lines` searches a section once for the plain strings the line signatures need
(`literals`), and `segment.split` finds section boundaries with one regex pass. Here each
is compared with a straightforward line-by-line reference on generated text that contains
lines matching every signature (sampled from the signature's own regex), so a signature
whose needed strings are wrong makes these tests fail.
"""

from __future__ import annotations

import random
import re
import re._constants as c
import re._parser as sre_parse
from pathlib import Path

import pytest

from detector import analyze, literals, rules, segment

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LINE_TOOLS = ("dmesg", "lspci", "lsusb", "lsmod", "other", "*")
# Section commands: some signatures apply only after a matching command.
COMMANDS = (
    None,
    "cat /proc/xen/capabilities /proc/xen/balloon /proc/device-tree/hypervisor lparcfg",
    "cat /PROC/XEN/CAPABILITIES",
    "cat /sys/firmware/devicetree/base/hypervisor/compatible",
    "grep . /proc/ppc64/lparcfg",
    "cat /proc/cpuinfo",
    "ls -la /proc/vz",
    "sudo virsh list --all",
)
# Characters re.IGNORECASE equates with ASCII letters: the fold must see through them.
_LOOKALIKES = {"s": "\u017f", "k": "\u212a", "i": "\u0131", "I": "\u0130"}


def _sample(items: list, rng: random.Random, out: list[str]) -> None:
    """Append a random string the parsed regex `items` may match (best effort)."""
    for op, av in items:
        if op is c.LITERAL:
            ch = chr(av)
            out.append(ch.swapcase() if rng.random() < 0.3 else ch)
        elif op is c.NOT_LITERAL:
            out.append(rng.choice([ch for ch in " x:" if ch != chr(av)]))
        elif op is c.ANY:
            out.append(rng.choice("ab Z-9"))
        elif op is c.IN:
            out.append(_class_char(av, rng))
        elif op is c.BRANCH:
            _sample(list(rng.choice(av[1])), rng, out)
        elif op is c.SUBPATTERN:
            _sample(list(av[3]), rng, out)
        elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
            lo, hi = av[0], av[1]
            for _ in range(rng.randint(lo, min(hi, lo + 2))):
                _sample(list(av[2]), rng, out)
        # AT / ASSERT / ASSERT_NOT: zero width; the sample is checked against the regex anyway


def _class_char(items: list, rng: random.Random) -> str:
    if items and items[0][0] is c.NEGATE:
        return rng.choice(" :qQ7_")
    op, av = rng.choice(items)
    if op is c.LITERAL:
        return chr(av)
    if op is c.RANGE:
        return chr(rng.randint(av[0], av[1]))
    if op is c.CATEGORY:
        return {
            c.CATEGORY_DIGIT: "7",
            c.CATEGORY_SPACE: " ",
            c.CATEGORY_WORD: "w",
            c.CATEGORY_NOT_SPACE: "n",
        }.get(av, "z")
    return "z"


def examples(sig: rules.Signature, rng: random.Random, n: int = 6) -> list[str]:
    """Lines (noise around a sample) that the signature matches."""
    parsed = list(sre_parse.parse(sig.pattern.pattern, re.IGNORECASE))
    found: list[str] = []
    for _ in range(n * 20):
        out: list[str] = []
        _sample(parsed, rng, out)
        core = "".join(out)
        if rng.random() < 0.25:  # a look-alike letter that only re.IGNORECASE knows
            for ascii_ch, other in _LOOKALIKES.items():
                core = core.replace(ascii_ch, other, 1)
        line = rng.choice(["", "[   12.345678] ", "00:1f.0 ", "  "]) + core + rng.choice(["", " tail", "\t"])
        if sig.pattern.search(line) and not (sig.veto and sig.veto.search(line)):
            found.append(line)
            if len(found) >= n:
                break
    return found


def reference_scan(tool: str, text: str, start: int, source: str, command: str | None) -> list[rules.Hit]:
    """Every signature on every line, in line order then file order, first 3 lines each."""
    sigs = [
        s
        for s in rules.signatures()
        if "line" in s.keys
        and ((tool == "*" and ("*" in s.tools or s.anywhere)) or (tool != "*" and tool in s.tools and not s.anywhere))
        and (s.command is None or (command and s.command.search(command)))
    ]
    counts: dict[str, int] = {}
    hits = []
    for i, line in enumerate(text.split("\n")):
        for sig in sigs:
            if counts.get(sig.id, 0) >= 3:
                continue
            if sig.pattern.search(line) and not (sig.veto and sig.veto.search(line)):
                counts[sig.id] = counts.get(sig.id, 0) + 1
                hits.append(rules.Hit(sig, source, start + i, line))
    return hits


def _noise(rng: random.Random) -> list[str]:
    lines = []
    for p in sorted((FIXTURES / "dumps").rglob("*.txt"))[:40]:
        lines += p.read_text(encoding="utf-8").split("\n")
    lines += ["", "x" * 3000, "virtual " * 50, "Ünïcödé ΣΑΣ line", "a.b.c:d"]
    rng.shuffle(lines)
    return lines


def generated_text(tool: str, seed: int, size: int = 300) -> str:
    rng = random.Random(seed)
    positives = [
        line
        for sig in rules.signatures()
        if "line" in sig.keys and tool in sig.tools
        for line in examples(sig, rng, n=2)
    ]
    noise = _noise(rng)
    lines = rng.sample(noise, min(size, len(noise))) + positives
    rng.shuffle(lines)
    return "\n".join(lines)


def _key(hits: list[rules.Hit]) -> list[tuple[str, int, str]]:
    return [(h.sig.id, h.line, h.text) for h in hits]


def test_every_line_signature_has_needles_and_a_sampler_example():
    rng = random.Random(1)
    for sig in rules.signatures():
        if "line" in sig.keys:
            assert sig.needs, sig.id
            assert all(n == n.lower() and n.isascii() and "\n" not in n for n in sig.needs), sig.id
            assert examples(sig, rng, n=1), f"{sig.id}: the sampler found no matching line"


@pytest.mark.parametrize("tool", LINE_TOOLS)
@pytest.mark.parametrize("seed", range(4))
def test_prefiltered_scan_equals_the_per_line_scan(tool, seed):
    text = generated_text(tool, seed)
    for command in COMMANDS:
        want = reference_scan(tool, text, 7, "src", command)
        got = rules.scan_lines(tool, text, 7, "src", command)
        assert _key(got) == _key(want)
    assert want, "the generated text must contain matching lines"


@pytest.mark.parametrize("tool", ["*", "dmesg", "lspci"])
def test_repeated_lines_are_read_as_the_per_line_scan_reads_them(tool):
    # A line seen again is tried only against the signatures that matched it before: every
    # line here comes back several times, between others that retire signatures at their cap.
    rng = random.Random(11)
    lines = generated_text(tool, 3, size=120).split("\n")
    text = "\n".join(rng.choice(lines) for _ in range(6 * len(lines)))
    want = reference_scan(tool, text, 1, "src", None)
    assert len(want) > 20
    assert _key(rules.scan_lines(tool, text, 1, "src", None)) == _key(want)


def test_every_signature_is_found_on_its_own_examples():
    # One example per section, so the per-signature cap never hides a miss.
    rng = random.Random(5)
    for sig in rules.signatures():
        if "line" not in sig.keys:
            continue
        command = "cat /proc/xen/capabilities /proc/xen/balloon /proc/device-tree/hypervisor lparcfg /proc/vz /run/.containerenv; virsh list"
        # `anywhere` signatures are read by the whole-paste scan only.
        for tool in ("*",) if sig.anywhere else sig.tools:
            for line in examples(sig, rng, n=4):
                text = f"noise line\n{line}\nmore noise"
                got = [h for h in rules.scan_lines(tool, text, 1, "s", command) if h.sig.id == sig.id]
                assert [(h.line, h.text) for h in got] == [(2, line)], (sig.id, line)


def test_a_wrong_needle_is_caught(monkeypatch):
    # The comparison has teeth: give one signature a needle its lines do not contain.
    sig = next(s for s in rules.signatures() if s.id == "dmesg-hv-kvm")
    broken = tuple(
        rules.Signature(**{**{f: getattr(s, f) for f in s.__slots__}, "needs": frozenset({"zzz-never"})})
        if s is sig
        else s
        for s in rules.signatures()
    )
    monkeypatch.setattr(rules, "signatures", lambda: broken)
    rules._line_table.cache_clear()
    rules._live.cache_clear()
    try:
        text = "noise\n[    0.000000] Hypervisor detected: KVM\n"
        assert sig.anywhere  # so the whole-paste scan is the one that reads it
        assert _key(rules.scan_lines("*", text, 1, "s", None)) != _key(reference_scan("*", text, 1, "s", None))
    finally:
        rules._line_table.cache_clear()
        rules._live.cache_clear()


def test_needs_in_the_yaml_must_be_required_by_the_regex():
    row = {"id": "t", "match": "(Hypervisor detected:|Booting) KVM", "facts": ["line"]}
    assert rules._needs(row) in literals.candidates(row["match"])
    with pytest.raises(ValueError, match="not required"):
        rules._needs({**row, "needs": ["kvm "]})
    assert rules._needs({**row, "needs": ["hypervisor detected:", "booting"]}) == {
        "hypervisor detected:",
        "booting",
    }
    with pytest.raises(ValueError, match="requires no literal"):
        rules._needs({"id": "t", "match": r"\d+\s\w", "facts": ["line"]})


def test_required_literals():
    assert literals.required(r"\bVMware\b") == {"vmware"}
    assert literals.required(r"(kvm|qemu)[ \t]x") == {"kvm", "qemu"}
    assert literals.required(r"a?b") == {"b"}
    assert literals.required(r"(\d+|abc)") is None  # one branch needs nothing
    # A small class forks the run: "x[12]y" needs "x1y" or "x2y".
    assert literals.required(r"x[12]yy") == {"x1yy", "x2yy"}


def test_fold_keeps_offsets_and_sees_lookalikes():
    text = "İstanbul ſysfs \u212aVM ıd ΣΑΣ ẞ " * 3
    low = literals.fold(text)
    assert len(low) == len(text)
    assert "sysfs" in low and "kvm" in low and "id" in low and "istanbul" in low
    big = "é" + "Hypervisor Detected: KVM\n" * 50_000  # non-ASCII, sliced lowering
    assert literals.fold(big) == big.lower()


def test_finder_reports_the_longest_needle_at_each_position():
    f = literals.finder(frozenset({"xen", "xen_netfront", "kvm", "kvm-clock: "}))
    assert f.findall("a xen_netfront kvm-clock: xen") == ["xen_netfront", "kvm-clock: ", "xen"]


def test_line_numbers_survive_long_texts_and_long_lines():
    filler = "[    1.000000] usb 1-1: new device\n" * 40_000
    text = "$ dmesg\n" + filler + "x" * 200_000 + "\n[    2.000000] Hypervisor detected: KVM\n"
    v = analyze(text)
    hv = [e for e in v.evidence if e.signal == "dmesg-hv-kvm"]
    assert [e.line for e in hv] == [40_003]
    assert v.verdict == "virtual"


def reference_split(text: str) -> list[segment.Section]:
    """The original line-by-line segmenter."""
    sections: list[segment.Section] = []
    lines = text.split("\n")
    tool, command, start, buf_start = "other", None, 1, 0

    def close(end: int) -> None:
        if end > buf_start or command is not None:
            body = "\n".join(lines[buf_start:end])
            if body.strip() or command is not None:
                sections.append(segment.Section(tool, command, start, body))

    # neofetch/fastfetch blocks, found from their `OS:` lines (they may open two lines above).
    fetch_starts: set[int] = set()
    last = -1
    for i, line in enumerate(lines):
        if "OS:" in line and i > last:
            found = segment.fetch_header(lines, i)
            if found is not None and found > last:
                fetch_starts.add(found)
                last = found
            last = max(last, i)

    for i, line in enumerate(lines):
        if not line:
            continue
        if segment._PROMPT_CHARS.search(line):
            cmd = segment.prompt_command(line)
            if cmd is not None:
                close(i)
                tool, command, start, buf_start = segment._tool_for_command(cmd), cmd, i + 2, i + 1
                continue
        markers = []
        if line[0] in segment._MARKER_FIRST:
            # Some markers look one line ahead (inxi 3.x section names, lshw's top node).
            markers.append(segment._marker_tool("\n".join(lines[i : i + 2])))
        if i in fetch_starts:
            markers.append("fetch")
        for marker in markers:
            if marker is not None and marker != tool:
                close(i)
                tool, command, start, buf_start = marker, None, i + 1, i
    close(len(lines))
    return sections


def _all_fixture_texts() -> list[str]:
    texts = []
    for p in sorted(FIXTURES.glob("dumps/*/*.txt")) + sorted(FIXTURES.glob("pastes/*.txt")):
        try:
            texts.append(segment.normalize(p.read_text(encoding="utf-8")))
        except UnicodeDecodeError:
            continue
    return texts


def test_split_equals_the_line_by_line_segmenter_on_fixtures():
    for text in _all_fixture_texts():
        assert segment.split(text) == reference_split(text)


@pytest.mark.parametrize("seed", range(6))
def test_split_equals_the_line_by_line_segmenter_on_shuffled_lines(seed):
    rng = random.Random(seed)
    lines = [ln for t in _all_fixture_texts() for ln in t.split("\n")]
    lines += ["$ lspci", "root@h:~# dmesg", "# dmidecode 3.3", "", "   ", "Linux version 6.1", "[ 1.0] x"]
    text = "\n".join(rng.choice(lines) for _ in range(600))
    for variant in (text, text + "\n", "\n" + text, text.replace("\n", "\n\n", 3)):
        assert segment.split(variant) == reference_split(variant)


def test_dmi_line_fact_matches_the_regex_reference():
    pattern = re.compile(r"(?m)^[^\n]*\bDMI: ([^\n]*)$")
    cases = [
        "x\n[ 0.0] DMI: QEMU Standard PC (Q35 + ICH9, 2009), BIOS 1.16\ny",
        "xDMI: no\nfoo DMI: Dell Inc. PowerEdge R640 DMI: twice\n",
        "DMI: at start",
        "noDMI: word before\n_DMI: underscore\néDMI: accent\n",
        "",
    ]
    for text in cases:
        m = pattern.search(text)
        want = [] if not m else [(m.group(1).strip(), 3 + text.count("\n", 0, m.start()), m.group(0))]
        got = [(f.value, f.line, f.text) for f in rules.dmi_line_facts(text, 3) if f.key == "system.dmi_line"]
        assert got == want, text


def test_every_signature_regex_compiles():
    # Signatures compile on first use (start-up); a broken row must still fail here.
    for sig in rules.signatures():
        assert sig.pattern.pattern == sig.match_src
        if sig.veto_src:
            assert sig.veto is not None
        if sig.command_src:
            assert sig.command is not None


def test_a_signature_at_its_cap_in_earlier_sections_is_not_looked_for_again():
    from detector import rules

    text = "00:02.0 VGA compatible controller: Red Hat, Inc. QXL paravirtual graphic card\n" * 5
    spent: dict[str, int] = {}
    first = rules.scan_lines("lspci", text, 1, "lspci", None, spent)
    assert first and all(spent[h.sig.id] <= rules._MAX_HITS_PER_SIGNAL for h in first)
    # the same section again: every signature it holds is spent, so nothing more is found
    assert rules.scan_lines("lspci", text, 10, "lspci", None, spent) == []
    # without the paste's tally the section is read in full
    assert rules.scan_lines("lspci", text, 10, "lspci", None) == first[:0] + rules.scan_lines(
        "lspci", text, 10, "lspci", None, {}
    )
    assert len(rules.scan_lines("lspci", text, 10, "lspci", None)) == len(first)


def test_a_dump_repeated_says_what_it_says_once():
    from pathlib import Path

    from detector import analyze

    one = (Path(__file__).resolve().parents[1] / "fixtures" / "layouts" / "compound-semicolon.txt").read_text()
    once, many = analyze(one), analyze(one * 50)
    assert (many.verdict, many.hypervisor) == (once.verdict, once.hypervisor)
    assert {e.signal for e in many.evidence} == {e.signal for e in once.evidence}


def test_case_trie_matches_what_ignorecase_matches():
    # Every character re.IGNORECASE lets an ASCII letter match, and no other.
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF)
    for letter in "abcdefghijklmnopqrstuvwxyz":
        want = set(re.findall(letter, everything, re.IGNORECASE))
        assert set(re.findall(literals.case_trie(frozenset({letter})), everything)) == want, letter


def test_line_start_prefixes():
    assert literals.prefixes(r"(QEMU|Bochs)[ \t]*$") == {"qemu", "bochs", "qemu ", "qemu\t", "bochs ", "bochs\t"}
    assert literals.prefixes(r"(/sys/)?uuid:0") == {"/sys/uuid:0", "uuid:0"}
    assert literals.prefixes(r"\d+ kvm") is None
    assert literals.prefixes(r"(kvm|\w+)") is None
    rng = random.Random(3)
    for sig in rules.signatures():
        found = literals.prefixes(sig.match_src.removeprefix("^").removeprefix("[ \\t]*"))
        if not sig.match_src.startswith("^") or not found:
            continue
        for line in examples(sig, rng, n=4):
            start = literals.fold(line.lstrip(" \t") if sig.match_src.startswith("^[ \\t]*") else line)
            assert start.startswith(tuple(found)), (sig.id, line)
