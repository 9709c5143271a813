"""Entry point of the frozen (PyInstaller) Caseward: the same `caseward` as the installed script."""

from __future__ import annotations

import sys


def _main() -> int:
    # `caseward selfcheck` loads the Qt platform plugin in a child `sys.executable -c CODE`, so
    # that a broken plugin cannot abort it. Frozen, sys.executable is this program, so it runs
    # that code itself, as python would (this gives no more than the caller could already run).
    if len(sys.argv) >= 3 and sys.argv[1] == "-c":
        code = sys.argv[2]
        sys.argv = ["-c", *sys.argv[3:]]
        exec(compile(code, "<string>", "exec"), {"__name__": "__main__"})
        return 0
    from ui.entry import main

    return main()


if __name__ == "__main__":
    sys.exit(_main())
