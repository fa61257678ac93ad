#!/usr/bin/env bash
# Installs the Debian packages the tests need, only when they are missing: nginx and
# openssl for the real-server test world, headless Chromium and poppler-utils
# (pdftotext) for the test that prints the HTML handover to PDF. Needs root (or sudo)
# and apt-get. Idempotent.
set -euo pipefail

missing=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v pdftotext >/dev/null 2>&1 || missing+=(poppler-utils)

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps: nginx, openssl, chromium and poppler-utils already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: missing ${missing[*]} and apt-get is not available; install them by hand" >&2
    exit 1
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo)
    else
        echo "install-deps: need root (or sudo) to install ${missing[*]}" >&2
        exit 1
    fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing ${missing[*]}"
"${SUDO[@]}" apt-get update -qq
# nginx-light is gone from newer Debian releases: fall back to the plain nginx package.
if ! "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    fallback=()
    for p in "${missing[@]}"; do
        if [ "$p" = nginx-light ]; then fallback+=(nginx); else fallback+=("$p"); fi
    done
    "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${fallback[@]}"
fi

# The Debian package starts a system nginx on port 80 when a service manager is present;
# our tests run their own instances, so a system one is not needed (left as is if running).
echo "install-deps: done ($(nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1); $(chromium --version 2>/dev/null))"
