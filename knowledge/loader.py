"""Read knowledge-base YAML files into `Entry` objects, with `file:line` for every problem.

Each file is composed into YAML nodes first (not just loaded), so every field keeps
the line it came from and a problem can point at it. `read_entries` never raises: it
returns the entries it could build and the problems it found; `load` in `__init__`
turns the first problem into a `KnowledgeError` so a broken KB stops start-up.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from knowledge.model import Entry, Link

log = logging.getLogger(__name__)

ENTRIES_DIR = Path(__file__).resolve().parent / "entries"
MAX_ANSWER_CHARS = 1900
MIN_QUESTIONS = 8
REQUIRED = ("id", "title", "short", "answer", "questions", "links")
OPTIONAL = ("related", "auto_reply")
ID_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")

try:  # libyaml is much faster; fall back to the pure-Python loader where it is missing
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover
    _Loader = yaml.SafeLoader


@dataclass(frozen=True, slots=True)
class Located:
    """An entry together with the line of each of its fields and questions (for kb check)."""

    entry: Entry
    lines: dict[str, int]  # field name -> line
    question_lines: tuple[int, ...]


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _scalar_str(node: yaml.Node) -> str | None:
    if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:str":
        return str(node.value)
    return None


def read_file(path: Path) -> tuple[Located | None, list[str]]:
    """Parse one entry file; return it (or None) and its problems as `file:line: message`."""
    name = str(path)
    problems: list[str] = []
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, [f"{name}:1: cannot read: {exc}"]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [f"{name}:{line}: broken YAML: {problem}"]
    if not isinstance(root, yaml.MappingNode):
        line = _line(root) if root is not None else 1
        return None, [f"{name}:{line}: an entry must be a mapping of fields (id, title, ...)"]

    fields: dict[str, yaml.Node] = {}
    lines: dict[str, int] = {}
    for key_node, value_node in root.value:
        key = _scalar_str(key_node)
        if key is None:
            problems.append(f"{name}:{_line(key_node)}: field names must be strings")
            continue
        if key in fields:
            problems.append(f"{name}:{_line(key_node)}: field {key!r} given twice")
        if key not in REQUIRED and key not in OPTIONAL:
            problems.append(f"{name}:{_line(key_node)}: unknown field {key!r}")
        fields[key] = value_node
        lines[key] = _line(key_node)
    for key in REQUIRED:
        if key not in fields:
            problems.append(f"{name}:1: missing field {key!r}")

    def text_field(key: str) -> str:
        node = fields.get(key)
        if node is None:
            return ""
        value = _scalar_str(node)
        if value is None or not value.strip():
            problems.append(f"{name}:{_line(node)}: {key!r} must be a non-empty string")
            return ""
        return value.strip()

    entry_id = text_field("id")
    if entry_id and not ID_RE.match(entry_id):
        problems.append(f"{name}:{lines['id']}: id {entry_id!r} is not kebab-case (a-z, 0-9, -)")
    # Reported, but the entry is still built so duplicate ids across files are found too.
    soft: list[str] = []
    if entry_id and path.stem != entry_id:
        soft.append(f"{name}:{lines['id']}: id {entry_id!r} does not match the file name {path.name!r}")
    title = text_field("title")
    short = text_field("short")
    answer = text_field("answer")

    questions: list[str] = []
    question_lines: list[int] = []
    qnode = fields.get("questions")
    if qnode is not None:
        if not isinstance(qnode, yaml.SequenceNode):
            problems.append(f"{name}:{_line(qnode)}: 'questions' must be a list of strings")
        else:
            for item in qnode.value:
                q = _scalar_str(item)
                if q is None or not q.strip():
                    problems.append(f"{name}:{_line(item)}: each question must be a non-empty string")
                    continue
                questions.append(q.strip())
                question_lines.append(_line(item))

    links: list[Link] = []
    lnode = fields.get("links")
    if lnode is not None:
        if not isinstance(lnode, yaml.SequenceNode):
            problems.append(f"{name}:{_line(lnode)}: 'links' must be a list of {{title, url}}")
        else:
            for item in lnode.value:
                link = _link(item, name, problems)
                if link is not None:
                    links.append(link)

    related: list[str] = []
    rnode = fields.get("related")
    if rnode is not None:
        if not isinstance(rnode, yaml.SequenceNode):
            problems.append(f"{name}:{_line(rnode)}: 'related' must be a list of entry ids")
        else:
            for item in rnode.value:
                rid = _scalar_str(item)
                if rid is None or not rid.strip():
                    problems.append(f"{name}:{_line(item)}: each related id must be a string")
                else:
                    related.append(rid.strip())

    auto_reply = True
    anode = fields.get("auto_reply")
    if anode is not None:
        if not (isinstance(anode, yaml.ScalarNode) and anode.tag == "tag:yaml.org,2002:bool"):
            problems.append(f"{name}:{_line(anode)}: 'auto_reply' must be true or false")
        else:
            auto_reply = anode.value.lower() in ("true", "yes", "on")

    if problems:
        return None, problems + soft
    entry = Entry(
        id=entry_id,
        title=title,
        short=short,
        answer=answer,
        questions=tuple(questions),
        links=tuple(links),
        related=tuple(related),
        source_file=name,
        auto_reply=auto_reply,
    )
    return Located(entry, lines, tuple(question_lines)), soft


def _link(node: yaml.Node, name: str, problems: list[str]) -> Link | None:
    if not isinstance(node, yaml.MappingNode):
        problems.append(f"{name}:{_line(node)}: each link must be a mapping with title and url")
        return None
    values = {_scalar_str(k): _scalar_str(v) for k, v in node.value}
    title, url = values.get("title"), values.get("url")
    if not title or not url:
        problems.append(f"{name}:{_line(node)}: a link needs a non-empty 'title' and 'url'")
        return None
    if not URL_RE.match(url.strip()):
        problems.append(f"{name}:{_line(node)}: link url {url!r} is not an http(s) URL")
        return None
    return Link(title=title.strip(), url=url.strip())


def entry_files(directory: Path) -> list[Path]:
    """The entry files of a directory, in a stable order."""
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())


def read_entries(directory: str | Path | None = None) -> tuple[list[Located], list[str]]:
    """Read every entry file of a directory; return the good ones and all per-file problems."""
    d = Path(directory) if directory is not None else ENTRIES_DIR
    if not d.is_dir():
        return [], [f"{d}:1: knowledge-base directory not found"]
    located: list[Located] = []
    problems: list[str] = []
    files = entry_files(d)
    if not files:
        problems.append(f"{d}:1: no entry files (*.yaml) found")
    for path in files:
        item, errs = read_file(path)
        problems.extend(errs)
        if item is not None:
            located.append(item)
    return located, problems
