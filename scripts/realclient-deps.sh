#!/usr/bin/env bash
# Installs what Flowkeeper's real WebSocket client needs to run headless under the fk serve tests
# (../shared/realclient/README.md "Requirements"): Debian's python3 with PySide2 (Qt 5.15, with
# QtWebSockets) and python3-cryptography. Does nothing when they are already there. Needs apt-get
# (Debian 12) and root or sudo; otherwise it says what to install, and the tests report the gap
# (a CI run fails on it, a local run skips those tests with the reason).
set -euo pipefail
PY=/usr/bin/python3
PKGS="python3-pyside2.qtcore python3-pyside2.qtgui python3-pyside2.qtnetwork python3-pyside2.qtwebsockets python3-pyside2.qtwidgets python3-cryptography"
if [ -x "$PY" ] && "$PY" -c 'import PySide2.QtWebSockets, PySide2.QtWidgets, cryptography' 2>/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "realclient-deps: no apt-get here; install on Debian 12: $PKGS" >&2
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "realclient-deps: not root and no sudo; install: $PKGS" >&2
    exit 0
  fi
fi
echo "realclient-deps: installing $PKGS" >&2
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null; }; then
  echo "realclient-deps: apt-get install failed; the fk serve tests will report it" >&2
fi
