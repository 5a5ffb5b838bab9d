"""Train the learned gate (knowledge/gate_model.py) and evaluate it honestly.

    .venv/bin/python bench/train_gate.py [--no-write] [--no-history] [--epochs 20] [--l2 1e-4]

Training data: the project's OWN labelled posts only, `tests/fixtures/questions/*.jsonl`
and `tests/fixtures/questions-heldout{,2,3}/posts.jsonl` (`vm_farming` vs anything else;
each held-out set joined once its first-contact figures were taken), plus the knowledge
base's own questions and the golden file. `tests/fixtures/questions-heldout4/` is the
final blind judge and `../shared/eval/questions-dev.jsonl` is evaluation only: neither
is ever trained on, and heldout4 is never read.

Evaluation:

- leave-one-FILE-out: for each file, a model trained on all the other files scores it.
  Files were written in batches by different people at different times, so a held-out
  file is much closer to "unseen posts" than a random split would be;
- the rule-based matcher two ways: as it is now (tuned on every one of these files, so
  in-sample) and, per file, as it was in git just before that file was added ("blind");
- combinations: model alone, matcher AND model >= t, matcher OR model >= t, and a blend
  a*matcher_score + (1-a)*p >= t. The rule and threshold are chosen on the pooled
  leave-one-file-out predictions (with the blind matcher), never on the full-data fit;
- the dev set (when present) with the full-data model and today's matcher.
- speed of `GateModel.score` (posts/s, one process).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge import default_kb  # noqa: E402
from knowledge.gate_model import WEIGHTS_PATH, GateModel, features, sigmoid  # noqa: E402

TRAIN_FILES = [
    *sorted((ROOT / "tests" / "fixtures" / "questions").glob("*.jsonl")),
    ROOT / "tests" / "fixtures" / "questions-heldout" / "posts.jsonl",
    ROOT / "tests" / "fixtures" / "questions-heldout2" / "posts.jsonl",
    ROOT / "tests" / "fixtures" / "questions-heldout3" / "posts.jsonl",
]
DEV = ROOT.parent / "shared" / "eval" / "questions-dev.jsonl"
POSITIVE = "vm_farming"
# Entries the bot answers when called but whose questions are look-alikes for auto-replies:
# BIOS VT-x settings are about a bare-metal node (issue 3 lists them among the look-alikes).
EXPLICIT_ONLY_TOPICS = frozenset({"wrongly-flagged", "bios-virtualization"})
SEED = 20261126
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
BLEND_ALPHAS = (0.25, 0.5, 0.75)
TARGET_P, TARGET_R = 0.95, 0.90
# The matcher's gate score is ~0..1.3; clip so the blend stays a probability-like number.
MATCHER_SCORE_CAP = 1.0


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    text: str
    y: int
    file: str


def read_posts(path: Path) -> list[Post]:
    """Labelled posts of one JSONL file (blank lines skipped)."""
    if "heldout4" in str(path):  # the final blind judge: never read here
        raise SystemExit(f"refusing to read {path}")
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            key = f"{file_key(path)}:{row['id']}"  # ids are unique per file only
            out.append(Post(key, str(row["text"]), int(row["label"] == POSITIVE), file_key(path)))
    return out


def kb_posts() -> list[Post]:
    """The knowledge base's own questions and the golden file, labelled by whether they may be auto-answered."""
    import yaml

    kb = default_kb()
    out = [
        Post(f"kb:{e.id}:{i}", q, int(e.auto_reply and e.id not in EXPLICIT_ONLY_TOPICS), "kb-questions")
        for e in kb.entries
        for i, q in enumerate(e.questions)
    ]
    golden = yaml.safe_load(
        (ROOT / "tests" / "fixtures" / "questions" / "golden.yaml").read_text(encoding="utf-8")
    )
    out += [
        Post(f"golden:{i}", str(c["text"]), int(c.get("on_topic", True)), "golden")
        for i, c in enumerate(golden)
    ]
    return out


def file_key(path: Path) -> str:
    """A file's name relative to tests/fixtures (two files are both called posts.jsonl)."""
    return f"{path.parent.name}/{path.name}"


# ---------------------------------------------------------------- training


def train(
    posts: Sequence[Post], *, epochs: int, l2: float, lr: float, min_df: int, seed: int = SEED
) -> GateModel:
    """Logistic regression by Adagrad with L2, fixed seed; features seen in < min_df posts dropped."""
    vecs = [features(p.text) for p in posts]
    df: dict[str, int] = {}
    for v in vecs:
        for f in v:
            df[f] = df.get(f, 0) + 1
    keep = {f for f, n in df.items() if n >= min_df}
    data = [({f: x for f, x in v.items() if f in keep}, p.y) for v, p in zip(vecs, posts, strict=True)]
    w: dict[str, float] = dict.fromkeys(keep, 0.0)
    g2: dict[str, float] = dict.fromkeys(keep, 1e-8)
    bias, bias_g2 = 0.0, 1e-8
    rng = random.Random(seed)
    order = list(range(len(data)))
    for _ in range(epochs):
        rng.shuffle(order)
        for i in order:
            x, y = data[i]
            p = sigmoid(bias + sum(w[f] * v for f, v in x.items()))
            err = p - y
            for f, v in x.items():
                # Lazy L2: only the weights of features present in this post decay.
                g = err * v + l2 * w[f]
                g2[f] += g * g
                w[f] -= lr * g / math.sqrt(g2[f])
            bias_g2 += err * err
            bias -= lr * err / math.sqrt(bias_g2)
    # Round for a small, stable file; weights that round to zero are not stored.
    weights = {f: round(v, 4) for f, v in w.items() if round(v, 4) != 0.0}
    return GateModel(weights, round(bias, 4))


# ---------------------------------------------------------------- matcher, now and in history

_HISTORY_SCRIPT = """
import json, sys
import knowledge
assert knowledge.__file__.startswith(sys.argv[1]), knowledge.__file__
kb = knowledge.default_kb()
for line in open(sys.argv[2], encoding="utf-8"):
    if line.strip():
        m = kb.match(json.loads(line)["text"])
        print(json.dumps([bool(m.on_topic), float(m.score)]))
"""


def matcher_now(posts: Sequence[Post]) -> list[tuple[bool, float]]:
    """Today's matcher (working tree): on_topic and gate score per post."""
    kb = default_kb()
    return [(m.on_topic, m.score) for m in (kb.match(p.text) for p in posts)]


def matcher_before(path: Path) -> list[tuple[bool, float]] | None:
    """The matcher as committed just before `path` was added to git (blind to that file)."""
    rel = str(path.relative_to(ROOT))
    added = subprocess.run(
        ["git", "log", "--diff-filter=A", "--format=%H", "--", rel],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    if not added:
        return None
    commit = added[-1] + "^"
    with tempfile.TemporaryDirectory() as tmp:
        archive = subprocess.run(
            ["git", "archive", "--format=tar", commit, "knowledge"],
            cwd=ROOT,
            capture_output=True,
            check=False,
        )
        if archive.returncode != 0:
            return None
        tar_path = Path(tmp) / "k.tar"
        tar_path.write_bytes(archive.stdout)
        with tarfile.open(tar_path) as tar:
            tar.extractall(tmp, filter="data")
        env = {**os.environ, "PYTHONPATH": tmp}
        run = subprocess.run(
            [sys.executable, "-c", _HISTORY_SCRIPT, tmp, str(path)],
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if run.returncode != 0:
            print(f"  (history matcher for {rel} failed: {run.stderr.strip().splitlines()[-1:]})")
            return None
        return [tuple(json.loads(line)) for line in run.stdout.splitlines()]


# ---------------------------------------------------------------- metrics and rules


def pr(pred: Sequence[bool], ys: Sequence[int]) -> tuple[float, float, int, int]:
    """Precision, recall, false positives, false negatives (P = 1 when nothing is predicted)."""
    tp = sum(1 for p, y in zip(pred, ys, strict=True) if p and y)
    fp = sum(1 for p, y in zip(pred, ys, strict=True) if p and not y)
    fn = sum(1 for p, y in zip(pred, ys, strict=True) if not p and y)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0), fp, fn


Rule = Callable[[bool, float, float], bool]  # (matcher on_topic, matcher score, p) -> answer?


def rules() -> dict[str, Rule]:
    """Every candidate decision rule, by name."""
    out: dict[str, Rule] = {"matcher": lambda on, s, p: on}
    for t in THRESHOLDS:
        out[f"model>={t}"] = lambda on, s, p, t=t: p >= t
        out[f"matcher AND model>={t}"] = lambda on, s, p, t=t: on and p >= t
        out[f"matcher OR model>={t}"] = lambda on, s, p, t=t: on or p >= t
        for a in BLEND_ALPHAS:
            out[f"blend a={a} >={t}"] = lambda on, s, p, t=t, a=a: (
                a * min(s, MATCHER_SCORE_CAP) + (1 - a) * p >= t
            )
            # The blend as a veto only: it can silence the matcher, never make it speak.
            out[f"matcher AND blend a={a} >={t}"] = lambda on, s, p, t=t, a=a: (
                on and a * min(s, MATCHER_SCORE_CAP) + (1 - a) * p >= t
            )
    return out


def choose(table: dict[str, tuple[float, float, int, int]]) -> str:
    """Highest recall with pooled P >= target; else the best F0.5 (precision first)."""
    ok = [(r, p, name) for name, (p, r, _, _) in table.items() if p >= TARGET_P]
    if ok:
        return max(ok, key=lambda t: (t[0], t[1]))[2]

    def f05(p: float, r: float) -> float:
        return 1.25 * p * r / (0.25 * p + r) if p + r else 0.0

    return max(table, key=lambda n: f05(table[n][0], table[n][1]))


def fmt(p: float, r: float, fp: int, fn: int) -> str:
    return f"P {p:.3f} R {r:.3f} (fp {fp}, fn {fn})"


# ---------------------------------------------------------------- main


def speed(model: GateModel, texts: Sequence[str], n: int = 40_000) -> float:
    """Posts/s through GateModel.score on a fresh model (the word cache warms as in service)."""
    fresh = GateModel(model.weights, model.bias)
    batch = [texts[i % len(texts)] for i in range(n)]
    t0 = time.perf_counter()
    for t in batch:
        fresh.score(t)
    return n / (time.perf_counter() - t0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--l2", type=float, default=1e-4)
    ap.add_argument("--lr", type=float, default=0.3)
    ap.add_argument("--min-df", type=int, default=2)
    ap.add_argument("--no-write", action="store_true", help="do not overwrite knowledge/gate_weights.json")
    ap.add_argument("--no-history", action="store_true", help="skip the blind (pre-file) matcher")
    args = ap.parse_args(argv)
    hp = {"epochs": args.epochs, "l2": args.l2, "lr": args.lr, "min_df": args.min_df}

    by_file = {file_key(p): read_posts(p) for p in TRAIN_FILES}
    all_posts = [p for ps in by_file.values() for p in ps]
    print(f"training files: {', '.join(f'{k} ({len(v)})' for k, v in by_file.items())}; hp {hp}")

    now = dict(zip((p.id for p in all_posts), matcher_now(all_posts), strict=True))
    blind: dict[str, tuple[bool, float]] = {}
    if not args.no_history:
        for path in TRAIN_FILES:
            got = matcher_before(path)
            if got is not None and len(got) == len(by_file[file_key(path)]):
                blind.update(zip((p.id for p in by_file[file_key(path)]), got, strict=True))

    # Leave one file out: every post scored by a model that never saw its file.
    lofo: dict[str, float] = {}
    t0 = time.perf_counter()
    for name, held in by_file.items():
        model = train([p for p in all_posts if p.file != name], **hp)
        lofo.update((p.id, model.score(p.text)) for p in held)
    print(f"leave-one-file-out: {len(by_file)} fits in {time.perf_counter() - t0:.1f} s\n")

    rule_set = rules()
    ys = [p.y for p in all_posts]
    pooled: dict[str, dict[str, tuple[float, float, int, int]]] = {}
    for which, src in (("now", now), ("blind", blind)):
        if which == "blind" and len(blind) != len(all_posts):
            continue
        pooled[which] = {
            name: pr([rule(*src[p.id], lofo[p.id]) for p in all_posts], ys) for name, rule in rule_set.items()
        }
    basis = "blind" if "blind" in pooled else "now"
    chosen = choose(pooled[basis])
    src = blind if basis == "blind" else now

    print(f"## Per file: model = leave-one-file-out; combinations use the {basis} matcher\n")
    print(
        "matcher now = today's matcher, tuned on every file (in-sample); blind = as in git before the file.\n"
    )
    show = list(
        dict.fromkeys(
            [
                "matcher",
                "model>=0.5",
                "matcher AND model>=0.5",
                "matcher OR model>=0.7",
                "matcher AND blend a=0.5 >=0.7",
                "matcher AND blend a=0.75 >=0.6",
                chosen,
            ]
        )
    )
    header = "| file | n (pos) | matcher now | " + " | ".join(
        f"{basis} {n}" if "matcher" in n else n for n in show
    )
    print(header + " |")
    print("|" + " --- |" * (header.count("|")))
    for name, held in by_file.items():
        hys = [p.y for p in held]
        cells = [name, f"{len(held)} ({sum(hys)})", fmt(*pr([now[p.id][0] for p in held], hys))]
        if not all(p.id in src for p in held):
            cells += ["n/a"] * len(show)
        else:
            cells += [fmt(*pr([rule_set[rn](*src[p.id], lofo[p.id]) for p in held], hys)) for rn in show]
        print("| " + " | ".join(cells) + " |")

    print(f"\n## Pooled leave-one-file-out ({len(all_posts)} posts, {sum(ys)} positive)\n")
    cols = list(pooled)
    print("| rule | " + " | ".join(f"with matcher {c}" for c in cols) + " |")
    print("| --- |" + " --- |" * len(cols))
    for name in rule_set:
        if "blend" in name and not name.endswith(("0.5", "0.6", "0.7")):
            continue
        print(f"| {name} | " + " | ".join(fmt(*pooled[c][name]) for c in cols) + " |")
    print(f"\nchosen on pooled LOFO with the {basis} matcher: **{chosen}** -> {fmt(*pooled[basis][chosen])}")

    # The final model also learns the curated paraphrases: every entry's questions (on topic
    # when the entry may auto-reply) and the golden file. They are not in the leave-one-file-out
    # tables above, which judge generalization across files written by different people.
    curated = kb_posts()
    final = train(all_posts + curated, **hp)
    final.meta = {
        "trained_on": [*by_file, "kb-questions+golden"],
        "posts": len(all_posts) + len(curated),
        "hyperparameters": hp,
        "seed": SEED,
    }
    if DEV.exists():
        dev = read_posts(DEV)
        dys = [p.y for p in dev]
        dnow = matcher_now(dev)
        dp = [final.score(p.text) for p in dev]
        print(f"\n## Dev set (evaluation only, {len(dev)} posts, {sum(dys)} positive; full-data model)\n")
        print("| rule | dev |")
        print("| --- | --- |")
        dev_rules = [
            n for n in rule_set if n != "matcher" and ("blend" not in n or n.endswith(("0.6", "0.7")))
        ]
        for name in dict.fromkeys(["matcher", *dev_rules, chosen]):
            print(
                f"| {name} | {fmt(*pr([rule_set[name](*m, p) for m, p in zip(dnow, dp, strict=True)], dys))} |"
            )
    texts = [p.text for p in all_posts]
    print(f"\nspeed: {speed(final, texts):,.0f} posts/s (GateModel.score, one process)")
    print(f"weights: {len(final.weights)} non-zero")
    if not args.no_write:
        WEIGHTS_PATH.write_text(json.dumps(final.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
        print(f"wrote {WEIGHTS_PATH} ({WEIGHTS_PATH.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
