#!/usr/bin/env bash
# Quick start, second command: set everything up and run every check (lint, types, tests).
#
# pytest runs on every core with pytest-xdist (CASEWARD_TEST_WORKERS overrides the number, 0 runs
# in this one process); `--dist loadgroup` keeps tests marked xdist_group("name") on one worker
# (the offline bundle's tests share one build) and hands out every other test one at a time.
# Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
bash scripts/setup.sh
export QT_QPA_PLATFORM=offscreen
echo "== setup: $((SECONDS - started)) s"
step=$SECONDS
echo "== ruff"; .venv/bin/ruff check app ui tests bench scripts
echo "== mypy --strict"; .venv/bin/mypy
echo "== ruff and mypy: $((SECONDS - step)) s"
echo "== pytest (its own closing line gives its time)"
exec .venv/bin/python -m pytest -q -p no:cacheprovider -n "${CASEWARD_TEST_WORKERS:-auto}" \
  --dist loadgroup --no-loadscope-reorder --durations=20 "$@"
