"""The `farmhand` command line.

The parser lives here so the contract in DESIGN.md is in one place; each command's
work lives in `bot/commands/<name>.py` as `main(args) -> int` and is imported only
when that command runs. `analyze`, `ask` and `classify` must never load discord.py,
pydiscourse or the engine, so they start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

# command path -> module under bot.commands that has `main(args) -> int`
_COMMANDS: dict[tuple[str, ...], str] = {
    ("analyze",): "analyze",
    ("ask",): "ask",
    ("classify",): "classify",
    ("kb", "check"): "kb_check",
    ("eval", "questions"): "eval_questions",
    ("eval", "dumps"): "eval_dumps",
    ("run",): "run",
    ("demo",): "demo",
    ("config", "check"): "config_check",
    ("report",): "report",
    ("replay",): "replay",
    ("purge",): "purge",
    ("train",): "train",
    ("labels", "export"): "labels",
}


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

EXIT_CODES = """exit codes:
  0  done (for checks: no problem found)
  1  runtime failure or problems found: bad lines skipped, kb check problems, start-up failed
  2  usage: a wrong option or argument, or input the command refuses (missing file, bad config)"""


def _examples(*lines: str) -> str:
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("farmhand")
    except PackageNotFoundError:  # running from a checkout that was never installed
        return "unknown"


class _VersionAction(argparse.Action):
    """`--version`, looked up only when asked (package metadata costs start-up time)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kw)

    def __call__(self, parser: argparse.ArgumentParser, *_args: Any) -> None:
        print(f"farmhand {_version()}")
        parser.exit()


def _log_level(text: str) -> str:
    level = str(text).strip().upper()
    if level not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(f"choose one of {', '.join(LOG_LEVELS)}, not {text!r}")
    return level


def _size(text: str) -> int:
    from bot.inputs import parse_size

    return parse_size(text)


def build_parser() -> argparse.ArgumentParser:
    """The whole `farmhand` argument parser; every parser's --help ends with examples."""
    fmt = argparse.RawDescriptionHelpFormatter
    p = argparse.ArgumentParser(
        prog="farmhand",
        description="ThreeFold farmers' support bot.",
        formatter_class=fmt,
        epilog=EXIT_CODES
        + "\n\n"
        + _examples(
            "farmhand demo",
            "sudo dmidecode -t system | farmhand analyze -",
            'farmhand ask "can I farm in a proxmox vm?"',
        ),
    )
    p.add_argument("--version", action=_VersionAction, help="print the version and exit")
    p.add_argument(
        "--log-level",
        type=_log_level,
        default="INFO",
        metavar="LEVEL",
        help=f"{', '.join(LOG_LEVELS)} (default INFO)",
    )
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="log line format")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    def add(parent: Any, name: str, help: str, examples: tuple[str, ...]) -> argparse.ArgumentParser:
        return parent.add_parser(
            name, help=help, description=help, formatter_class=fmt, epilog=_examples(*examples)
        )

    a = add(
        sub,
        "analyze",
        "judge a hardware dump: bare metal, virtual, container",
        (
            "sudo dmidecode -t system | farmhand analyze",
            "farmhand analyze dump.txt --json",
            "farmhand analyze big.log --max-bytes 50MB",
        ),
    )
    a.add_argument("path", nargs="?", default="-", help="file to read, or - for stdin (default)")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument(
        "-v", "--verbose", action="store_true", help="every piece of evidence, with signal ids and weights"
    )
    a.add_argument(
        "--max-bytes",
        type=_size,
        default=None,
        metavar="SIZE",
        help="refuse input larger than this: 10MB, 512KB, bytes (default 10MB)",
    )
    a.set_defaults(cmd=("analyze",))

    q = add(
        sub,
        "ask",
        "would the bot answer this text, and with what",
        (
            "farmhand ask can I farm in a vm",
            'farmhand ask "can I run a 3node in proxmox?"',
            "echo 'farming on a VPS?' | farmhand ask - --json",
        ),
    )
    q.add_argument(
        "text", nargs="*", default=["-"], help="the question (quotes optional), or - for stdin (default)"
    )
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.set_defaults(cmd=("ask",))

    c = add(
        sub,
        "classify",
        "classify JSONL posts {id, text}; one JSON line out per input",
        ("farmhand classify posts.jsonl > decisions.jsonl", "cat posts.jsonl | farmhand classify -"),
    )
    c.add_argument("path", nargs="?", default="-", help="JSONL file, or - for stdin (default)")
    c.set_defaults(cmd=("classify",))

    kb = add(sub, "kb", "knowledge-base tools", ("farmhand kb check", "farmhand kb check --dir my-entries/"))
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    kc = add(
        kb_sub,
        "check",
        "validate the knowledge base",
        ("farmhand kb check", "farmhand kb check --dir my-entries/"),
    )
    kc.add_argument("--dir", default=None, help="entries directory (default: the bundled one)")
    kc.set_defaults(cmd=("kb", "check"))

    ev = add(
        sub,
        "eval",
        "measure accuracy on labelled data",
        ("farmhand eval questions labelled.jsonl", "farmhand eval dumps MANIFEST.jsonl --json"),
    )
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    eq = add(
        ev_sub,
        "questions",
        "precision/recall/F1 of the matcher on labelled posts",
        (
            "farmhand eval questions labelled.jsonl",
            "farmhand eval questions labelled.jsonl --json",
            "cat labelled.jsonl | farmhand eval questions -",
        ),
    )
    eq.add_argument("path", help="JSONL with id, text, label (vm_farming | other), or - for stdin")
    eq.add_argument("--json", action="store_true", help="print the figures as JSON")
    eq.set_defaults(cmd=("eval", "questions"))
    ed = add(
        ev_sub,
        "dumps",
        "accuracy of the detector on a manifest of dumps",
        (
            "farmhand eval dumps tests/fixtures/real-pastes/tune/MANIFEST.jsonl",
            "farmhand eval dumps MANIFEST.jsonl --json --files 'cases/[23]*'",
            "cat MANIFEST.jsonl | farmhand eval dumps -",
        ),
    )
    ed.add_argument(
        "path",
        help="MANIFEST.jsonl (file, truth, ...), or - for stdin; paths relative to it (to . for stdin)",
    )
    ed.add_argument(
        "--files",
        metavar="GLOB",
        default=None,
        help="only the dumps whose manifest path matches this glob (one part of a split set)",
    )
    ed.add_argument("--json", action="store_true", help="print the figures as JSON")
    ed.set_defaults(cmd=("eval", "dumps"))

    r = add(
        sub,
        "run",
        "run the bot service",
        ("farmhand run -c /etc/farmhand/config.yaml", "farmhand --log-format json run -c farmhand.yaml"),
    )
    r.add_argument("-c", "--config", default="farmhand.yaml", help="config file (default farmhand.yaml)")
    r.set_defaults(cmd=("run",))

    d = add(
        sub,
        "demo",
        "the whole bot end to end against a local sandbox forum",
        ("farmhand demo", "farmhand demo --serve", "farmhand demo --serve --port 8089"),
    )
    d.add_argument("--seconds", type=float, default=None, help="stop after this long (default: when done)")
    d.add_argument(
        "--serve", action="store_true", help="then keep the sandbox and a read-only web view of it running"
    )
    d.add_argument(
        "--port", type=int, default=0, help="port of the web view on 127.0.0.1 (default: a free one)"
    )
    d.set_defaults(cmd=("demo",))

    cf = add(
        sub,
        "config",
        "configuration tools",
        ("farmhand config check -c /etc/farmhand/config.yaml", "farmhand config check -c farmhand.yaml"),
    )
    cf_sub = cf.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    cc = add(
        cf_sub,
        "check",
        "validate a config and its secrets without connecting",
        ("farmhand config check -c /etc/farmhand/config.yaml", "farmhand config check -c farmhand.yaml"),
    )
    cc.add_argument("-c", "--config", default="farmhand.yaml", help="config file")
    cc.set_defaults(cmd=("config", "check"))

    rp = add(
        sub,
        "report",
        "markdown digest of decisions from the state",
        (
            "farmhand report -c /etc/farmhand/config.yaml --since 7d",
            "farmhand report -c farmhand.yaml --since 2026-05-01 --json",
        ),
    )
    rp.add_argument("-c", "--config", default="farmhand.yaml", help="config file")
    rp.add_argument(
        "--since", default="7d", help="how far back: 90m, 12h, 7d, 2w or a date 2026-05-01 (default 7d)"
    )
    rp.add_argument("--json", action="store_true", help="print one JSON object instead of markdown")
    rp.set_defaults(cmd=("report",))

    rl = add(
        sub,
        "replay",
        "run the matcher over an exported history and print the digest",
        (
            "farmhand replay posts-pages/",
            "farmhand replay export.jsonl --json",
            "cat export.jsonl | farmhand replay -",
        ),
    )
    rl.add_argument(
        "export",
        help="Discourse /posts.json pages, JSON/JSONL posts, a Discord export, a directory, or - for stdin",
    )
    rl.add_argument("--json", action="store_true", help="print one JSON object instead of markdown")
    rl.set_defaults(cmd=("replay",))

    pg = add(
        sub,
        "purge",
        "remove a person's records from the state",
        (
            "farmhand purge -c /etc/farmhand/config.yaml --user 1234",
            "farmhand purge -c farmhand.yaml --user 80351110224678912",
        ),
    )
    pg.add_argument("-c", "--config", default="farmhand.yaml", help="config file")
    pg.add_argument("--user", required=True, help="the person's user id (forum or Discord)")
    pg.set_defaults(cmd=("purge",))

    t = add(
        sub,
        "train",
        "fit the matcher model from the labelled data (needs the train extra)",
        (
            "farmhand train",
            "farmhand train --out /var/lib/farmhand/model.json --with-labels labels.jsonl",
        ),
    )
    t.add_argument("--out", default=None, help="model file to write (default: the shipped knowledge model)")
    t.add_argument(
        "--with-labels",
        action="append",
        default=None,
        metavar="STATE_OR_JSONL",
        help="a state file's triage labels (or labelled JSONL): refit, compare, write --out if not worse",
    )
    t.add_argument(
        "--limit", type=int, default=None, help=argparse.SUPPRESS
    )  # quick runs and tests: only this many shipped examples
    t.set_defaults(cmd=("train",))

    lb = add(
        sub,
        "labels",
        "the moderators' triage decisions",
        (
            "farmhand labels export -c /etc/farmhand/config.yaml --out labels.jsonl",
            "farmhand labels export -c farmhand.yaml | head",
        ),
    )
    lb_sub = lb.add_subparsers(dest="labels_command", metavar="ACTION", required=True)
    le = add(
        lb_sub,
        "export",
        "write the labels as training JSONL (for train --with-labels)",
        (
            "farmhand labels export -c /etc/farmhand/config.yaml --out labels.jsonl",
            "farmhand train --with-labels labels.jsonl --out model.json",
        ),
    )
    le.add_argument("-c", "--config", default="farmhand.yaml", help="config file")
    le.add_argument("--out", default="-", help="file to write (default: stdout)")
    le.set_defaults(cmd=("labels", "export"))
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `farmhand` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "cmd", None):
        parser.print_help(sys.stderr)
        return 2
    from bot.logsetup import setup_logging

    setup_logging(args.log_level, args.log_format)
    try:
        module = importlib.import_module(f"bot.commands.{_COMMANDS[args.cmd]}")
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # a bug: through the logging setup (masked, JSON if asked), exit 1
        import logging

        logging.getLogger("farmhand").critical(
            "farmhand %s failed: %s", " ".join(args.cmd), type(exc).__name__, exc_info=True
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
