#!/bin/sh
# Debian's dataset-fashion-mnist, the real data set some tests read. Installed when missing and this
# machine can (apt-get, as root or with password-less sudo); otherwise those tests are skipped.
dpkg -s dataset-fashion-mnist >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "no apt-get here: tests on Debian's Fashion-MNIST will be skipped"
    exit 0
fi
SUDO=""
[ "$(id -u)" = 0 ] || SUDO="sudo -n"
if ! { $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq dataset-fashion-mnist; } >/dev/null; then
    echo "could not install dataset-fashion-mnist: tests on Debian's Fashion-MNIST will be skipped"
fi
exit 0
