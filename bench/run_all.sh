#!/usr/bin/env bash
# Every benchmark, one command:  bash bench/run_all.sh
# Uses the project's .venv (created by the README's install commands). Results are
# printed; the figures recorded in README.md and docs/*.md come from this script.
set -euo pipefail
cd "$(dirname "$0")/.."
py=.venv/bin/python
echo "## machine: $(nproc) cores, $(uname -m), $($py --version 2>&1), $(date -u +%F)"
for b in bench_detector.py bench_matcher.py "bench_forum_latency.py --n 5 --poll 2" "discord_reply.py 100" ops_replay.py; do
  echo
  echo "## bench/$b"
  # shellcheck disable=SC2086
  $py bench/$b
done
