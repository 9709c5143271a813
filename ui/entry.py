"""The `caseward` console script: no arguments opens the window, anything else is the CLI."""

from __future__ import annotations

import sys


def main() -> int:
    if len(sys.argv) > 1:
        from app.cli import main as cli_main

        return cli_main(sys.argv[1:])
    from ui.app import run_gui

    return run_gui()


if __name__ == "__main__":
    sys.exit(main())
