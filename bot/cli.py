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


def build_parser() -> argparse.ArgumentParser:
    """The whole `farmhand` argument parser."""
    p = argparse.ArgumentParser(prog="farmhand", description="ThreeFold farmers' support bot.")
    p.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING, ERROR (default INFO)")
    p.add_argument("--log-format", choices=("text", "json"), default="text", help="log line format")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    a = sub.add_parser("analyze", help="judge a hardware dump: bare metal, virtual, container")
    a.add_argument("path", nargs="?", default="-", help="file to read, or - for stdin (default)")
    a.add_argument("--json", action="store_true", help="print one JSON object")
    a.add_argument("--max-bytes", type=int, default=None, help="refuse input larger than this (10 MB)")
    a.set_defaults(cmd=("analyze",))

    q = sub.add_parser("ask", help="would the bot answer this text, and with what")
    q.add_argument("text", nargs="?", default="-", help="the question, or - for stdin (default)")
    q.add_argument("--json", action="store_true", help="print one JSON object")
    q.set_defaults(cmd=("ask",))

    c = sub.add_parser("classify", help="classify JSONL posts {id, text}; one JSON line out per input")
    c.add_argument("path", help="JSONL file, or - for stdin")
    c.set_defaults(cmd=("classify",))

    kb = sub.add_parser("kb", help="knowledge-base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", metavar="ACTION", required=True)
    kc = kb_sub.add_parser("check", help="validate the knowledge base")
    kc.add_argument("--dir", default=None, help="entries directory (default: the bundled one)")
    kc.set_defaults(cmd=("kb", "check"))

    ev = sub.add_parser("eval", help="measure accuracy on labelled data")
    ev_sub = ev.add_subparsers(dest="eval_command", metavar="WHAT", required=True)
    eq = ev_sub.add_parser("questions", help="precision/recall/F1 of the matcher on labelled posts")
    eq.add_argument("path", help="JSONL with id, text, label (vm_farming | other)")
    eq.add_argument("--json", action="store_true", help="print the figures as JSON")
    eq.set_defaults(cmd=("eval", "questions"))
    ed = ev_sub.add_parser("dumps", help="accuracy of the detector on a manifest of dumps")
    ed.add_argument("path", help="MANIFEST.jsonl (file, truth, ...); paths relative to it")
    ed.add_argument("--json", action="store_true", help="print the figures as JSON")
    ed.set_defaults(cmd=("eval", "dumps"))

    r = sub.add_parser("run", help="run the bot service")
    r.add_argument("-c", "--config", default="farmhand.yaml", help="config file (default farmhand.yaml)")
    r.set_defaults(cmd=("run",))

    d = sub.add_parser("demo", help="the whole bot end to end against a local sandbox forum")
    d.add_argument("--seconds", type=float, default=None, help="stop after this long (default: when done)")
    d.set_defaults(cmd=("demo",))

    cf = sub.add_parser("config", help="configuration tools")
    cf_sub = cf.add_subparsers(dest="config_command", metavar="ACTION", required=True)
    cc = cf_sub.add_parser("check", help="validate a config and its secrets without connecting")
    cc.add_argument("-c", "--config", default="farmhand.yaml", help="config file")
    cc.set_defaults(cmd=("config", "check"))

    rp = sub.add_parser("report", help="markdown digest of decisions from the state")
    rp.add_argument("-c", "--config", default="farmhand.yaml", help="config file")
    rp.add_argument("--since", default="7d", help="how far back: 90m, 24h, 7d (default 7d)")
    rp.set_defaults(cmd=("report",))

    rl = sub.add_parser("replay", help="run the matcher over an exported history and print the digest")
    rl.add_argument("export", help="Discourse /posts.json pages, JSON/JSONL posts, or a Discord export")
    rl.set_defaults(cmd=("replay",))

    pg = sub.add_parser("purge", help="remove a person's records from the state")
    pg.add_argument("-c", "--config", default="farmhand.yaml", help="config file")
    pg.add_argument("--user", required=True, help="the person's user id (forum or Discord)")
    pg.set_defaults(cmd=("purge",))

    t = sub.add_parser("train", help="fit the matcher model from the labelled data (needs the train extra)")
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

    lb = sub.add_parser("labels", help="the moderators' triage decisions")
    lb_sub = lb.add_subparsers(dest="labels_command", metavar="ACTION", required=True)
    le = lb_sub.add_parser("export", help="write the labels as training JSONL (for train --with-labels)")
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
    module = importlib.import_module(f"bot.commands.{_COMMANDS[args.cmd]}")
    try:
        return int(module.main(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
