#!/usr/bin/env bash
# Install Caseward from this offline bundle. Nothing is fetched from any network: every package
# comes from ./wheelhouse and must match its sha256 in requirements.lock.
#
#   ./install.sh [--prefix DIR] [--python PY] [--link DIR | --no-link]
#
#   --prefix DIR   where versions are installed (default /opt/caseward as root,
#                  ~/.local/opt/caseward otherwise); this one goes to DIR/<version>-<time>/ and
#                  DIR/current points at it once its self-check has passed
#   --python PY    the Python to use (default python3); must be the version the bundle was
#                  built for (BUILD-INFO.txt, python_tag)
#   --link DIR     put a `caseward` symlink to DIR/current in DIR (default /usr/local/bin as
#                  root, none otherwise); --no-link: none
#
# Exit status: 0 installed and self-check passed; 1 anything else (nothing half-installed is left,
# and DIR/current still points at what it pointed at before).
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
# The caller's Python settings must not leak in (a PYTHONPATH could put the source tree first).
unset PYTHONPATH PYTHONHOME PYTHONSTARTUP PYTHONUSERBASE PYTHONNOUSERSITE
PY="python3"
if [ "$(id -u)" -eq 0 ]; then
  PREFIX="/opt/caseward"; LINK="/usr/local/bin"
else
  PREFIX="$HOME/.local/opt/caseward"; LINK=""
fi

while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) PREFIX="$2"; shift 2 ;;
    --python) PY="$2"; shift 2 ;;
    --link) LINK="$2"; shift 2 ;;
    --no-link) LINK=""; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
done

say() { echo "install: $*" >&2; }
die() { say "$*"; exit 1; }
info() { sed -n "s/^$1: //p" "$HERE/BUILD-INFO.txt"; }

# -- 1. the bundle is whole and unaltered ---------------------------------------------------------
[ -f "$HERE/BUILD-INFO.txt" ] && [ -f "$HERE/SHA256SUMS" ] || die "run this from an unpacked bundle"
say "checking the bundle's files against SHA256SUMS"
(cd "$HERE" && sha256sum --quiet --strict -c SHA256SUMS) ||
  die "some files do not match SHA256SUMS: the bundle is damaged or was altered; do not install it"
VERSION="$(info version)"
APPWHEEL="$HERE/$(info app_wheel)"

# -- 2. the right Python ----------------------------------------------------------------------------
command -v "$PY" >/dev/null 2>&1 || die "$PY not found: Caseward needs Python $(info python) (with venv)"
want_tag="$(info python_tag)"
have_tag="$("$PY" -c 'import sys; print("cp%d%d" % sys.version_info[:2])')"
[ "$have_tag" = "$want_tag" ] ||
  die "this bundle is for Python $(info python) ($want_tag); $PY is $have_tag. Use --python."
want_glibc="$(info min_glibc)"
if [ -n "$want_glibc" ] && [ "$want_glibc" != "any" ]; then
  have_glibc="$(getconf GNU_LIBC_VERSION 2>/dev/null | awk '{print $2}')"
  if [ -z "$have_glibc" ] ||
     [ "$(printf '%s\n%s\n' "$want_glibc" "$have_glibc" | sort -V | head -n1)" != "$want_glibc" ]; then
    die "this bundle's packages need glibc $want_glibc or newer; this system has ${have_glibc:-no glibc}"
  fi
fi
"$PY" -c 'import venv, ensurepip' 2>/dev/null ||
  die "$PY has no venv/ensurepip module (on Debian/Ubuntu: the python3-venv package)"

# -- 3. a fresh venv, installed from the wheelhouse only ---------------------------------------------
# Each install gets its own folder (a venv's scripts carry absolute paths, so it is built where it
# will live); DIR/current moves to it only after the self-check, so a failed install or upgrade
# leaves the working one untouched, and the previous folder stays for a rollback.
mkdir -p "$PREFIX"
TARGET="$PREFIX/$VERSION-$(date +%Y%m%d-%H%M%S)"
[ ! -e "$TARGET" ] || die "$TARGET already exists; try again in a second"
INSTALLED=0
trap '[ "$INSTALLED" -eq 1 ] || rm -rf "$TARGET"' EXIT

# No index, no find-links but the bundle's, no pip configuration from this machine: whatever is
# not in the wheelhouse with the right hash makes the install fail.
offline() {
  # shellcheck disable=SC2046  # one -u per PIP_ variable in the environment
  env $(env | grep -o '^PIP_[A-Za-z0-9_]*' | sed 's/^/-u /') \
    PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1 PIP_DISABLE_PIP_VERSION_CHECK=1 "$@"
}

say "creating the environment in $TARGET"
"$PY" -m venv "$TARGET"

say "installing $(grep -vc '^#' "$HERE/requirements.lock") locked packages from the wheelhouse"
offline "$TARGET/bin/python" -m pip install --quiet --no-index --find-links "$HERE/wheelhouse" \
  --require-hashes --only-binary=:all: -r "$HERE/requirements.lock" ||
  die "installing the locked packages failed (see above); nothing was changed"
say "installing $(basename "$APPWHEEL")"
offline "$TARGET/bin/python" -m pip install --quiet --no-index --no-deps "$APPWHEEL" ||
  die "installing the application failed (see above); nothing was changed"
offline "$TARGET/bin/python" -m pip check >/dev/null ||
  die "the installed packages do not agree with each other (pip check); nothing was changed"
cp "$HERE/BUILD-INFO.txt" "$TARGET/BUILD-INFO.txt"

# -- 4. the self-check ---------------------------------------------------------------------------------
say "running caseward selfcheck"
if ! "$TARGET/bin/caseward" selfcheck; then
  die "the self-check failed (see above and README-ADMIN.md); Caseward $VERSION was not installed"
fi

# -- 5. switch over ------------------------------------------------------------------------------------
INSTALLED=1
ln -sfn "$(basename "$TARGET")" "$PREFIX/current.tmp"
mv -T "$PREFIX/current.tmp" "$PREFIX/current"
if [ -n "$LINK" ]; then
  mkdir -p "$LINK"
  if [ -e "$LINK/caseward" ] && [ ! -L "$LINK/caseward" ]; then
    say "$LINK/caseward exists and is not a link: left alone"
  else
    ln -sfn "$PREFIX/current/bin/caseward" "$LINK/caseward"
  fi
fi
say "Caseward $VERSION installed: $PREFIX/current/bin/caseward${LINK:+ (linked from $LINK/caseward)}"
