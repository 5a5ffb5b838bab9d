"""Read knowledge-base YAML files into `Entry` objects, with `file:line` for every problem.

Each file is composed into YAML nodes first (not just loaded), so every field keeps the
line it came from and a problem can point at it. Every problem of a file is found, not
only the first: all fields are read even when one is unknown, misspelt or of the wrong
type, and a key given twice is an error (plain YAML would keep the last one silently).
`read_entries` never raises: it returns what it could read and the problems it found;
`load` in `__init__` refuses a KB with any problem so a broken KB stops start-up.
"""

from __future__ import annotations

import difflib
import errno
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge.model import Entry, Link

log = logging.getLogger(__name__)

ENTRIES_DIR = Path(__file__).resolve().parent / "entries"
MAX_ANSWER_CHARS = 1900
MIN_QUESTIONS = 8
REQUIRED = ("id", "title", "short", "answer", "questions", "links")
OPTIONAL = ("related", "auto_reply")
FIELDS = REQUIRED + OPTIONAL
LINK_KEYS = ("title", "url")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
_PLACE = re.compile(r"^(.*?):(\d+): ")
_STR = "tag:yaml.org,2002:str"
_KINDS = {
    "tag:yaml.org,2002:int": "a number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true/false",
    "tag:yaml.org,2002:null": "nothing",
    "tag:yaml.org,2002:timestamp": "a date",
}
_OS_WORDS = {
    errno.ENOENT: "no such file or directory",
    errno.EISDIR: "is a directory, not a file",
    errno.ENOTDIR: "is a file, not a directory",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
}

try:  # libyaml is much faster; fall back to the pure-Python loader where it is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class Located:
    """An entry with the line of each field and question, and which fields read cleanly.

    An entry with problems is still built from what could be read, so the rules over the
    whole set (duplicate ids, dead `related` ids, near-duplicate questions) see it too;
    those rules look only at the fields in `clean`.
    """

    entry: Entry
    lines: dict[str, int]  # field name -> line
    question_lines: tuple[int, ...]
    clean: frozenset[str] = frozenset(FIELDS)


def plural(n: int, word: str, many: str | None = None) -> str:
    """`1 problem`, `3 problems`, `1 entry` / `2 entries` (with `many`)."""
    return f"{n} {word if n == 1 else many or word + 's'}"


def os_words(exc: OSError) -> str:
    """An OSError in plain words, never `[Errno N]`."""
    return _OS_WORDS.get(exc.errno or 0) or (exc.strerror or type(exc).__name__).lower()


def kind(node: yaml.Node | None) -> str:
    """What a YAML value is, in words: `a string`, `a number`, `a list`, `a mapping`, ..."""
    if node is None:
        return "nothing"
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _STR:
        return "a string" if str(node.value).strip() else "an empty string"
    return _KINDS.get(node.tag, "a value of another type")


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar_str(node: yaml.Node | None) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == _STR:
        return str(node.value)
    return None


def nearest(key: str, allowed: tuple[str, ...]) -> str | None:
    """The allowed name `key` is most likely a misspelling of (difflib), or None."""
    near = difflib.get_close_matches(key.lower(), allowed, n=1, cutoff=0.6)
    return near[0] if near else None


def did_you_mean(key: str, allowed: tuple[str, ...]) -> str:
    """`did you mean `questions`?` for a near miss, else the allowed names."""
    near = nearest(key, allowed)
    return f"did you mean `{near}`?" if near else f"allowed: {', '.join(allowed)}"


@dataclass(slots=True)
class _File:
    """The problems of one entry file, and which fields had one."""

    name: str
    problems: list[str] = field(default_factory=list)
    bad: set[str] = field(default_factory=set)

    def add(self, line: int, message: str, key: str | None = None) -> None:
        self.problems.append(f"{self.name}:{line}: {message}")
        if key is not None:
            self.bad.add(key)

    def mapping(
        self, node: yaml.MappingNode, what: str, field: str | None = None
    ) -> dict[str, tuple[yaml.Node, yaml.Node]]:
        """`key -> (key node, value node)`; a key given twice or a non-string key is a problem."""
        out: dict[str, tuple[yaml.Node, yaml.Node]] = {}
        for key_node, value_node in node.value:
            key = _scalar_str(key_node)
            if key is None:
                self.add(_line(key_node), f"{what} name must be a string, got {kind(key_node)}", field)
                continue
            if key in out:
                first = _line(out[key][0])
                self.add(
                    _line(key_node), f"duplicate key {key!r} (first on line {first}); keep one", field or key
                )
                continue
            out[key] = (key_node, value_node)
        return out


def _read_text(path: Path, f: _File) -> str | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        f.add(1, f"cannot read: {os_words(exc)}")
        return None
    if b"\x00" in data:
        f.add(1, "not a text file (binary data); an entry is a YAML text file")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        f.add(line, f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the file as UTF-8")
        return None


def yaml_problem(exc: yaml.YAMLError, text: str) -> tuple[int, str]:
    """(line, one-line message) of a YAML syntax error."""
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    line = mark.line + 1 if mark is not None else 1
    problem = " ".join(str(getattr(exc, "problem", None) or str(exc).splitlines()[0]).split())
    context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    lines = text.splitlines()
    before = lines[mark.line][: mark.column + 1] if mark is not None and mark.line < len(lines) else ""
    if "\t" in before:
        problem += " (a tab: indent with spaces)"
    elif context and cmark is not None and cmark.line + 1 != line:
        problem += f" ({context} from line {cmark.line + 1})"
    return line, f"broken YAML: {problem}"


def read_file(path: Path) -> tuple[Located | None, list[str]]:
    """Parse one entry file; return it (None when it is no mapping) and all its problems."""
    f = _File(str(path))
    text = _read_text(path, f)
    if text is None:
        return None, f.problems
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        f.add(*yaml_problem(exc, text))
        return None, f.problems
    except RecursionError:
        f.add(1, "broken YAML: nested too deeply")
        return None, f.problems
    if root is None:
        f.add(1, "the file is empty; an entry is a mapping of fields (id, title, ...)")
        return None, f.problems
    if not isinstance(root, yaml.MappingNode):
        f.add(_line(root), f"an entry must be a mapping of fields (id, title, ...), got {kind(root)}")
        return None, f.problems
    item = _entry(path, root, f)
    return item, in_order(f.problems)


def line_of(problem: str) -> int:
    """The line number of a `file:line: message` problem (0 when it names none)."""
    m = _PLACE.match(problem)
    return int(m[2]) if m else 0


def in_order(problems: list[str]) -> list[str]:
    """Problems sorted by file, then line (stable: same-line problems keep their order)."""
    return sorted(problems, key=lambda p: (m[1] if (m := _PLACE.match(p)) else p, line_of(p)))


def _entry(path: Path, root: yaml.MappingNode, f: _File) -> Located:
    items = f.mapping(root, "field")
    fields = {key: value for key, (_k, value) in items.items()}
    lines = {key: _line(key_node) for key, (key_node, _v) in items.items()}
    hinted: set[str | None] = set()
    for key, (key_node, _v) in items.items():
        if key not in FIELDS:
            f.add(_line(key_node), f"unknown field {key!r}; {did_you_mean(key, FIELDS)}")
            hinted.add(nearest(key, FIELDS))
    for key in REQUIRED:
        if key not in fields and key not in hinted:  # a misspelt field already says what to rename
            f.add(1, f"missing field {key!r}", key)
    f.bad.update(key for key in REQUIRED if key not in fields)

    entry_id = _text(fields, "id", f)
    if entry_id and not ID_RE.match(entry_id):
        f.add(lines["id"], f"id {entry_id!r} is not kebab-case (a-z, 0-9, -)", "id")
    elif entry_id and path.stem != entry_id:
        f.add(lines["id"], f"id {entry_id!r} does not match the file name {path.name!r}")
    questions, question_lines = _questions(fields.get("questions"), f)
    entry = Entry(
        id=entry_id,
        title=_text(fields, "title", f),
        short=_text(fields, "short", f),
        answer=_text(fields, "answer", f),
        questions=tuple(questions),
        links=tuple(_links(fields.get("links"), f)),
        related=tuple(_related(fields.get("related"), f)),
        source_file=f.name,
        auto_reply=_auto_reply(fields.get("auto_reply"), f),
    )
    return Located(entry, lines, tuple(question_lines), frozenset(FIELDS) - f.bad)


def _text(fields: dict[str, yaml.Node], key: str, f: _File) -> str:
    node = fields.get(key)
    if node is None:
        return ""
    value = _scalar_str(node)
    if value is None:
        got = kind(node)
        quote = " (put it in quotes)" if isinstance(node, yaml.ScalarNode) and got != "nothing" else ""
        f.add(_line(node), f"{key!r} must be a string, got {got}{quote}", key)
        return ""
    if not value.strip():
        f.add(_line(node), f"{key!r} must not be empty", key)
        return ""
    return value.strip()


def _items(node: yaml.Node | None, key: str, what: str, f: _File) -> list[yaml.Node]:
    """The items of a list field; a problem (and no items) when it is not a list."""
    if node is None:
        return []
    if not isinstance(node, yaml.SequenceNode):
        f.add(_line(node), f"{key!r} must be a list of {what}, got {kind(node)}", key)
        return []
    return list(node.value)


def _questions(node: yaml.Node | None, f: _File) -> tuple[list[str], list[int]]:
    questions: list[str] = []
    lines: list[int] = []
    for n, item in enumerate(_items(node, "questions", "strings", f), 1):
        q = _scalar_str(item)
        if q is None or not q.strip():
            got = kind(item)
            hint = " (a ': ' inside it? put the question in quotes)" if got == "a mapping" else ""
            f.add(_line(item), f"question {n} must be a non-empty string, got {got}{hint}", "questions")
            continue
        questions.append(q.strip())
        lines.append(_line(item))
    return questions, lines


def _links(node: yaml.Node | None, f: _File) -> list[Link]:
    links = []
    for n, item in enumerate(_items(node, "links", "{title, url} mappings", f), 1):
        link = _link(item, n, f)
        if link is not None:
            links.append(link)
    return links


def _link(node: yaml.Node, n: int, f: _File) -> Link | None:
    if not isinstance(node, yaml.MappingNode):
        f.add(_line(node), f"link {n} must be a mapping with title and url, got {kind(node)}", "links")
        return None
    items = f.mapping(node, f"link {n} key", "links")
    values: dict[str, str] = {}
    hinted: set[str | None] = set()
    for key, (key_node, value_node) in items.items():
        if key not in LINK_KEYS:
            f.add(_line(key_node), f"link {n}: unknown key {key!r}; {did_you_mean(key, LINK_KEYS)}", "links")
            hinted.add(nearest(key, LINK_KEYS))
            continue
        value = _scalar_str(value_node)
        if value is None or not value.strip():
            f.add(
                _line(value_node),
                f"link {n} {key!r} must be a non-empty string, got {kind(value_node)}",
                "links",
            )
            continue
        values[key] = value.strip()
    for key in LINK_KEYS:
        if key not in items and key not in hinted:
            f.add(_line(node), f"link {n} has no {key!r}", "links")
    if "url" in values and not URL_RE.match(values["url"]):
        f.add(_line(items["url"][1]), f"link url {values['url']!r} is not an http(s) URL", "links")
        return None
    if len(values) < len(LINK_KEYS):
        return None
    return Link(title=values["title"], url=values["url"])


def _related(node: yaml.Node | None, f: _File) -> list[str]:
    related = []
    for n, item in enumerate(_items(node, "related", "entry ids", f), 1):
        rid = _scalar_str(item)
        if rid is None or not rid.strip():
            f.add(_line(item), f"related id {n} must be a string, got {kind(item)}", "related")
        else:
            related.append(rid.strip())
    return related


def _auto_reply(node: yaml.Node | None, f: _File) -> bool:
    if node is None:
        return True
    if not (isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:bool"):
        f.add(_line(node), f"'auto_reply' must be true or false, got {kind(node)}", "auto_reply")
        return True
    return str(node.value).lower() in ("true", "yes", "on")


def entry_files(directory: Path) -> list[Path]:
    """The entry files (`*.yaml`, `*.yml`, not hidden) of a directory, in a stable order."""
    return sorted(
        p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and not p.name.startswith(".")
    )


def directory_problem(directory: Path) -> str | None:
    """Why `directory` cannot be a knowledge base, in words; None when it holds entry files."""
    try:
        if not directory.is_dir():
            directory.stat()  # raises for a missing path; an existing one is a file
            return "is a file, not a directory (give the folder that holds the entry files)"
        files = entry_files(directory)
    except OSError as exc:
        return os_words(exc)
    return None if files else "no entry files (*.yaml) in it"


def read_entries(directory: str | Path | None = None) -> tuple[list[Located], list[str]]:
    """Read every entry file of a directory; return what could be read and all per-file problems.

    Entries with problems are included (see `Located`): use them only when there is no problem.
    """
    d = Path(directory) if directory is not None else ENTRIES_DIR
    if why := directory_problem(d):
        return [], [f"{d}: {why}"]
    located: list[Located] = []
    problems: list[str] = []
    for path in entry_files(d):
        item, errs = read_file(path)
        problems.extend(errs)
        if item is not None:
            located.append(item)
    return located, problems
