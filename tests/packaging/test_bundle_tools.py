"""The offline bundle's helpers: lock generation, wheel names, pyproject reading, the app wheel."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_bundle_tools() -> ModuleType:
    # packaging/ is deliberately not a package (it would shadow the `packaging` library).
    spec = importlib.util.spec_from_file_location(
        "caseward_bundle_tools", ROOT / "packaging" / "bundle_tools.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


bt = _load_bundle_tools()


def _fake_wheel(folder: Path, filename: str, payload: bytes) -> Path:
    path = folder / filename
    path.write_bytes(payload)
    return path


# -- names ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [("PySide6_Essentials", "pyside6-essentials"), ("jaraco.classes", "jaraco-classes"),
     ("SQLAlchemy", "sqlalchemy"), ("argon2-cffi", "argon2-cffi")],
)
def test_canonical_name(raw: str, canonical: str) -> None:
    assert bt.canonical_name(raw) == canonical


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("SQLAlchemy-2.1.9-cp311-cp311-manylinux_2_17_x86_64.whl", ("sqlalchemy", "2.1.9")),
        ("pyside6_essentials-6.12.0-cp39-abi3-manylinux_2_28_x86_64.whl",
         ("pyside6-essentials", "6.12.0")),
        ("jaraco.classes-3.4.0-py3-none-any.whl", ("jaraco-classes", "3.4.0")),
        ("foo-1.0-2build-py3-none-any.whl", ("foo", "1.0")),
    ],
)
def test_parse_wheel_name(filename: str, expected: tuple[str, str]) -> None:
    assert bt.parse_wheel_name(filename) == expected


@pytest.mark.parametrize("filename", ["foo-1.0.tar.gz", "foo.whl", "foo-1.0-py3.whl"])
def test_parse_wheel_name_refuses_other_files(filename: str) -> None:
    with pytest.raises(ValueError, match="not a wheel"):
        bt.parse_wheel_name(filename)


@pytest.mark.parametrize(
    ("filename", "glibc"),
    [
        ("pyside6_essentials-6.12.0-cp310-abi3-manylinux_2_34_x86_64.whl", (2, 34)),
        ("pillow-13.0.0-cp311-cp311-manylinux_2_27_x86_64.manylinux_2_28_x86_64.whl", (2, 27)),
        ("x-1.0-cp311-cp311-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", (2, 17)),
        ("keyring-25.7.0-py3-none-any.whl", None),
        ("x-1.0-cp311-cp311-musllinux_1_2_x86_64.whl", None),
    ],
)
def test_wheel_glibc(filename: str, glibc: tuple[int, int] | None) -> None:
    assert bt.wheel_glibc(filename) == glibc


def test_bundle_glibc_is_the_newest_any_wheel_needs() -> None:
    assert bt.bundle_glibc([
        "a-1-cp311-cp311-manylinux_2_17_x86_64.whl",
        "b-1-cp310-abi3-manylinux_2_34_x86_64.whl",
        "c-1-py3-none-any.whl",
    ]) == "2.34"
    assert bt.bundle_glibc(["c-1-py3-none-any.whl"]) == "any"


# -- the lock --------------------------------------------------------------------------------------


def test_lock_pins_every_wheel_with_its_sha256(tmp_path: Path) -> None:
    a = _fake_wheel(tmp_path, "Zed_Pkg-2.0-py3-none-any.whl", b"zed contents")
    b = _fake_wheel(tmp_path, "alpha-1.2.3-cp311-cp311-linux_x86_64.whl", b"alpha contents")
    lines = bt.lock_lines([a, b])
    assert lines == [
        f"alpha==1.2.3 --hash=sha256:{hashlib.sha256(b'alpha contents').hexdigest()}",
        f"zed-pkg==2.0 --hash=sha256:{hashlib.sha256(b'zed contents').hexdigest()}",
    ]


def test_lock_refuses_two_versions_of_one_project(tmp_path: Path) -> None:
    a = _fake_wheel(tmp_path, "alpha-1.0-py3-none-any.whl", b"1")
    b = _fake_wheel(tmp_path, "Alpha-1.1-py3-none-any.whl", b"2")
    with pytest.raises(ValueError, match="two wheels for alpha"):
        bt.lock_lines([a, b])


def test_write_lock_has_header_and_refuses_an_empty_wheelhouse(tmp_path: Path) -> None:
    house = tmp_path / "wheelhouse"
    house.mkdir()
    out = tmp_path / "requirements.lock"
    with pytest.raises(ValueError, match="no wheels"):
        bt.write_lock(house, out)
    _fake_wheel(house, "alpha-1.0-py3-none-any.whl", b"x")
    (house / "notes.txt").write_text("not a wheel")
    assert bt.write_lock(house, out, ["made for a test"]) == 1
    text = out.read_text().splitlines()
    assert text[0] == "# made for a test"
    assert text[1].startswith("alpha==1.0 --hash=sha256:")


def test_lock_is_accepted_by_pip_require_hashes(tmp_path: Path) -> None:
    """pip itself reads the lock in --require-hashes mode and finds the wheels by it."""
    house = tmp_path / "wheelhouse"
    house.mkdir()
    wheel = house / "caseward_locktest-1.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("caseward_locktest/__init__.py", "")
        zf.writestr(
            "caseward_locktest-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: caseward-locktest\nVersion: 1.0\n",
        )
        zf.writestr(
            "caseward_locktest-1.0.dist-info/WHEEL",
            "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        )
        zf.writestr("caseward_locktest-1.0.dist-info/RECORD", "")
    lock = tmp_path / "requirements.lock"
    bt.write_lock(house, lock)
    env = {"PIP_CONFIG_FILE": "/dev/null", "PIP_NO_INDEX": "1", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", "--find-links",
           str(house), "--require-hashes", "--target", str(tmp_path / "t"), "-r", str(lock)]
    ok = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    # The same lock with the wheel altered must be refused.
    wheel.write_bytes(wheel.read_bytes() + b"tampered")
    bad = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert bad.returncode != 0
    assert "HASH" in bad.stderr.upper()


# -- pyproject -------------------------------------------------------------------------------------


def test_runtime_dependencies_leave_out_extras(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "x"\nversion = "9.8.7"\ndependencies = ["a>=1", "b; sys_platform == '
        "'linux'\"]\n[project.optional-dependencies]\ndev = [\"pytest\"]\n"
    )
    assert bt.runtime_dependencies(pyproject) == ["a>=1", "b; sys_platform == 'linux'"]
    assert bt.project_version(pyproject) == "9.8.7"


def test_the_bundle_ships_no_dev_tools() -> None:
    deps = bt.runtime_dependencies(ROOT / "pyproject.toml")
    names = {bt.canonical_name(re.match(r"[A-Za-z0-9_.-]+", d)[0]) for d in deps}  # type: ignore[index]
    assert "pyside6" in names and "sqlcipher3" in names
    assert not names & {"pytest", "pytest-qt", "hypothesis", "mypy", "ruff", "pyinstaller"}


def test_build_info_module_is_valid_python() -> None:
    source = bt.build_info_module("0.1.0", "abc123-dirty", "2026-01-01T00:00:00Z")
    namespace: dict[str, object] = {}
    exec(compile(source, "_build_info.py", "exec"), namespace)
    assert namespace["COMMIT"] == "abc123-dirty"
    assert namespace["VERSION"] == "0.1.0"


# -- the application wheel -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def app_wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The application wheel, built offline from a copy of the tree (nothing lands in the repo)."""
    src = tmp_path_factory.mktemp("src")
    for name in ("app", "ui", "resources"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_build_info.py"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    out = tmp_path_factory.mktemp("wheel")
    # Built as the bundle builds it: pip's isolated build environment (setuptools from the index).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(out),
         str(src)],
        capture_output=True, text=True, timeout=600, env=env,
    )
    assert proc.returncode == 0, proc.stderr
    (wheel,) = out.glob("caseward-*.whl")
    return wheel


def test_wheel_carries_every_resource(app_wheel: Path) -> None:
    assert bt.missing_resources(app_wheel, ROOT / "resources") == []
    names = zipfile.ZipFile(app_wheel).namelist()
    assert "resources/fonts/DejaVuSans.ttf" in names
    assert "resources/reference/name_variants.json" in names
    assert "app/store/migrations/versions/0001_baseline.py" in names
    assert not [n for n in names if n.startswith(("tests/", "packaging/", "bench/", "scripts/"))]


def test_missing_resources_names_what_is_absent(app_wheel: Path, tmp_path: Path) -> None:
    extra = tmp_path / "resources"
    shutil.copytree(ROOT / "resources", extra)
    (extra / "reference" / "not_shipped.json").write_text("{}")
    assert bt.missing_resources(app_wheel, extra) == ["resources/reference/not_shipped.json"]


def test_installed_wheel_finds_its_resources(app_wheel: Path, tmp_path: Path) -> None:
    """Installed (not from the source tree), every resource path resolves inside the install."""
    target = tmp_path / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index",
         "--target", str(target), str(app_wheel)],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    probe = (
        "import sys; sys.path.insert(0, sys.argv[1]);"
        "from pathlib import Path;"
        "import app; from app.paths import resources_dir;"
        "from app.domain.rules import reference_dir, load_reference;"
        "from app.domain.names import variants_path, load_variant_table;"
        "from app.io.national_import import _default_table_path;"
        "site = Path(sys.argv[1]).resolve();"
        "paths = [resources_dir(), reference_dir(), variants_path(), _default_table_path()];"
        "assert Path(app.__file__).resolve().parents[1] == site, app.__file__;"
        "assert all(p.exists() and site in p.resolve().parents for p in paths), paths;"
        "load_reference('mopi_retention'); load_variant_table(variants_path());"
        "print('ok')"
    )
    ran = subprocess.run([sys.executable, "-c", probe, str(target)], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path,
                         env={"PATH": "/usr/bin:/bin", "CASEWARD_HOME": str(tmp_path / "h")})
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.strip() == "ok"


def test_resources_dir_follows_a_pyinstaller_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from app.paths import resources_dir

    assert resources_dir() == ROOT / "resources"
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert resources_dir() == tmp_path / "resources"


# -- install.sh refuses before anything is installed -------------------------------------------


def _fake_bundle(folder: Path, **info: str) -> Path:
    fields = {
        "product": "Caseward", "version": "0.0.0", "commit": "abc", "python": "3.11.7",
        "python_tag": f"cp{sys.version_info[0]}{sys.version_info[1]}", "min_glibc": "2.17",
        "app_wheel": "caseward-0.0.0-py3-none-any.whl",
    } | info
    folder.mkdir()
    shutil.copy2(ROOT / "packaging" / "install.sh", folder / "install.sh")
    (folder / "BUILD-INFO.txt").write_text("".join(f"{k}: {v}\n" for k, v in fields.items()))
    (folder / "requirements.lock").write_text("")
    names = sorted(p.name for p in folder.iterdir())
    (folder / "SHA256SUMS").write_text("".join(
        f"{hashlib.sha256((folder / n).read_bytes()).hexdigest()}  {n}\n" for n in names))
    return folder


def _run_install(bundle: Path, prefix: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(bundle / "install.sh"), "--prefix", str(prefix), "--no-link",
         "--python", sys.executable],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )


def test_install_refuses_a_bundle_for_another_python(tmp_path: Path) -> None:
    proc = _run_install(_fake_bundle(tmp_path / "b", python_tag="cp27"), tmp_path / "opt")
    assert proc.returncode == 1
    assert "this bundle is for Python" in proc.stderr
    assert not (tmp_path / "opt").exists()


def test_install_refuses_a_bundle_needing_a_newer_glibc(tmp_path: Path) -> None:
    proc = _run_install(_fake_bundle(tmp_path / "b", min_glibc="99.0"), tmp_path / "opt")
    assert proc.returncode == 1
    assert "need glibc 99.0 or newer" in proc.stderr
    assert not (tmp_path / "opt").exists()


def test_install_refuses_an_altered_file(tmp_path: Path) -> None:
    bundle = _fake_bundle(tmp_path / "b")
    with (bundle / "requirements.lock").open("a") as handle:
        handle.write("evil==6.6.6\n")
    proc = _run_install(bundle, tmp_path / "opt")
    assert proc.returncode == 1
    assert "do not match SHA256SUMS" in proc.stderr
