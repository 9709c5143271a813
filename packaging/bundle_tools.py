"""Helpers for the offline bundle build: read pyproject.toml, write the hashed lock, stamp builds.

Used by packaging/build-offline-bundle (as `python packaging/bundle_tools.py COMMAND ...`) and by
tests/packaging. Standard library only: it runs with the build's interpreter before any venv
exists. Not a package (a `packaging/__init__.py` would shadow the `packaging` library)."""

from __future__ import annotations

import argparse
import hashlib
import re
import sys
import tomllib
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

# PEP 427 wheel file name: name-version(-build)?-python-abi-platform.whl
_WHEEL = re.compile(
    r"^(?P<name>[A-Za-z0-9_.]+?)-(?P<version>[^-]+)(?:-(?P<build>\d[^-]*))?"
    r"-(?P<python>[^-]+)-(?P<abi>[^-]+)-(?P<platform>[^-]+)\.whl$"
)


def canonical_name(name: str) -> str:
    """PEP 503 normalised project name (`PySide6_Essentials` -> `pyside6-essentials`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_project(pyproject: Path) -> dict[str, object]:
    with pyproject.open("rb") as handle:
        data = tomllib.load(handle)
    project = data.get("project")
    if not isinstance(project, dict):
        raise ValueError(f"{pyproject}: no [project] table")
    return project


def project_version(pyproject: Path) -> str:
    version = read_project(pyproject).get("version")
    if not isinstance(version, str) or not version:
        raise ValueError(f"{pyproject}: [project] has no static version")
    return version


def runtime_dependencies(pyproject: Path) -> list[str]:
    """The app's run-time requirements exactly as pyproject.toml states them (never the extras:
    test and dev tools stay out of the bundle)."""
    deps = read_project(pyproject).get("dependencies", [])
    if not isinstance(deps, list) or not all(isinstance(d, str) for d in deps):
        raise ValueError(f"{pyproject}: [project].dependencies must be a list of strings")
    return list(deps)


def parse_wheel_name(filename: str) -> tuple[str, str]:
    """(canonical name, version) of a wheel file; ValueError for anything else."""
    match = _WHEEL.match(filename)
    if not match:
        raise ValueError(f"not a wheel file name: {filename}")
    return canonical_name(match["name"]), match["version"]


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def lock_lines(wheels: Iterable[Path]) -> list[str]:
    """`name==version --hash=sha256:...` for each wheel, sorted by name; one hash per wheel.

    Two wheels of one project (different versions, or several platform builds) mean the
    wheelhouse was not one resolution, so that is refused rather than guessed at."""
    entries: dict[str, tuple[str, list[str]]] = {}
    for wheel in sorted(wheels, key=lambda p: p.name):
        name, version = parse_wheel_name(wheel.name)
        if name in entries:
            raise ValueError(
                f"two wheels for {name} in the wheelhouse ({entries[name][0]} and {version}); "
                "rebuild it from an empty folder"
            )
        entries[name] = (version, [sha256_file(wheel)])
    return [
        f"{name}=={version} " + " ".join(f"--hash=sha256:{h}" for h in hashes)
        for name, (version, hashes) in sorted(entries.items())
    ]


def write_lock(wheelhouse: Path, out: Path, header: Sequence[str] = ()) -> int:
    wheels = sorted(wheelhouse.glob("*.whl"))
    if not wheels:
        raise ValueError(f"{wheelhouse}: no wheels")
    lines = [f"# {h}" for h in header] + lock_lines(wheels)
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(wheels)


_LEGACY_MANYLINUX = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def wheel_glibc(filename: str) -> tuple[int, int] | None:
    """The oldest glibc a Linux wheel runs on (the loosest of its platform tags); None when the
    wheel is not tied to glibc (pure Python, or not a manylinux build)."""
    match = _WHEEL.match(filename)
    if not match:
        raise ValueError(f"not a wheel file name: {filename}")
    needs: list[tuple[int, int]] = []
    for tag in match["platform"].split("."):
        modern = re.match(r"^manylinux_(\d+)_(\d+)_", tag)
        if modern:
            needs.append((int(modern[1]), int(modern[2])))
        elif tag.split("_")[0] in _LEGACY_MANYLINUX:
            needs.append(_LEGACY_MANYLINUX[tag.split("_")[0]])
    return min(needs) if needs else None


def bundle_glibc(filenames: Iterable[str]) -> str:
    """The glibc the whole wheelhouse needs, as `2.34`, or `any` when no wheel needs one."""
    needs = [n for n in (wheel_glibc(f) for f in filenames) if n is not None]
    if not needs:
        return "any"
    major, minor = max(needs)
    return f"{major}.{minor}"


def missing_resources(wheel: Path, resources: Path) -> list[str]:
    """Files under the source tree's resources/ that the wheel does not carry as resources/..."""
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    wanted = sorted(
        "resources/" + p.relative_to(resources).as_posix()
        for p in resources.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    return [w for w in wanted if w not in names]


def build_info_module(version: str, commit: str, built: str) -> str:
    """Source of app/_build_info.py, written into the build's copy of the tree (never the repo)."""
    return (
        '"""Written by packaging/build-offline-bundle: what this build was made from."""\n\n'
        f"VERSION = {version!r}\n"
        f"COMMIT = {commit!r}\n"
        f"BUILT = {built!r}\n"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bundle_tools")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("version", help="print [project].version")
    p.add_argument("pyproject", type=Path)
    p = sub.add_parser("deps", help="print [project].dependencies, one a line")
    p.add_argument("pyproject", type=Path)
    p = sub.add_parser("lock", help="write requirements.lock from a wheelhouse")
    p.add_argument("wheelhouse", type=Path)
    p.add_argument("out", type=Path)
    p.add_argument("--header", action="append", default=[])
    p = sub.add_parser("min-glibc", help="print the glibc version the wheelhouse needs")
    p.add_argument("wheelhouse", type=Path)
    p = sub.add_parser("check-resources", help="fail if the wheel lacks any resources/ file")
    p.add_argument("wheel", type=Path)
    p.add_argument("resources", type=Path)
    p = sub.add_parser("build-info", help="write app/_build_info.py")
    p.add_argument("out", type=Path)
    p.add_argument("--version", required=True)
    p.add_argument("--commit", required=True)
    p.add_argument("--built", required=True)
    args = parser.parse_args(argv)

    if args.command == "version":
        print(project_version(args.pyproject))
    elif args.command == "deps":
        print("\n".join(runtime_dependencies(args.pyproject)))
    elif args.command == "lock":
        count = write_lock(args.wheelhouse, args.out, args.header)
        print(f"{args.out}: {count} pinned, hashed wheels", file=sys.stderr)
    elif args.command == "min-glibc":
        print(bundle_glibc(p.name for p in args.wheelhouse.glob("*.whl")))
    elif args.command == "check-resources":
        missing = missing_resources(args.wheel, args.resources)
        if missing:
            print(f"{args.wheel.name} lacks: " + ", ".join(missing), file=sys.stderr)
            return 1
    elif args.command == "build-info":
        args.out.write_text(
            build_info_module(args.version, args.commit, args.built), encoding="utf-8"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
