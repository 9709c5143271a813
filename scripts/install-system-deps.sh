#!/usr/bin/env bash
# System packages Caseward needs beyond Python: Qt's xcb/EGL libraries for a real display,
# fontconfig and the DejaVu fonts, and (for looking at exports) poppler-utils.
# Installs them with apt-get when it may (root, or passwordless sudo); otherwise it lists what is
# missing and how to install it, and exits 0 so that setup can continue offscreen.
set -u

PACKAGES=(
  libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
  libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
  libxcb-xkb1 libxcb-xfixes0 libx11-xcb1 libxrender1 libxi6
  fonts-dejavu-core poppler-utils
)

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "install-system-deps: not a Debian/Ubuntu system; install Qt 6's xcb libraries and" \
       "DejaVu fonts with your package manager." >&2
  exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; fi
fi
if [ "$(id -u)" -eq 0 ] || [ -n "$SUDO" ]; then
  echo "install-system-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  if $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; then
    exit 0
  fi
  echo "install-system-deps: apt-get failed; install these by hand: ${missing[*]}" >&2
  exit 0
fi
echo "install-system-deps: these system packages are missing (needed for a real display):" >&2
echo "    sudo apt-get install ${missing[*]}" >&2
exit 0
