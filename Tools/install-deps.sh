#!/usr/bin/env bash
# Installs the Debian 12 packages the engine needs to build, test and run (when missing).
# Swift itself is expected at /opt/swift or on PATH.
set -euo pipefail
packages=(libvulkan-dev mesa-vulkan-drivers glslc glslang-tools spirv-tools libopenblas0-pthread libcurl4 libcurl4-openssl-dev vulkan-validationlayers zlib1g-dev ca-certificates)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v swift >/dev/null; then
    if [ -x /opt/swift/usr/bin/swift ]; then
        echo "note: add /opt/swift/usr/bin to PATH"
    else
        echo "error: no Swift toolchain found (install Swift 6 from swift.org)" >&2
        exit 1
    fi
fi
