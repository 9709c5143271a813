#!/usr/bin/env bash
# Quick start, first command: set everything up and open Caseward (offers a demo vault on first run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "run: no display found (DISPLAY is not set). Run this from a desktop session." >&2
  exit 2
fi
exec .venv/bin/caseward "$@"
