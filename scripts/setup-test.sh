#!/usr/bin/env bash
# What the tests need beyond npm's packages, from Debian's registry only:
# - chromium, which the end-to-end tests drive (no browser download by a test tool);
# - Mesa's lavapipe 25.x from bookworm-backports (mesa-vulkan-drivers), the Vulkan driver that
#   gives Node a WebGPU adapter with shader-f16 through Dawn: the fp16 test bed (tests/gpu/).
#   bookworm's own 22.3 is refused by Dawn ("Vulkan shaderUniform*ArrayDynamicIndexing required").
set -euo pipefail
packages=()
command -v chromium >/dev/null || packages+=(chromium)
mesa=$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)
lavapipe=false
case "$mesa" in 2[5-9].* | [3-9][0-9].*) lavapipe=true ;; esac
if [ "$lavapipe" = false ] && [ -f /etc/debian_version ] && grep -q bookworm /etc/os-release; then
  echo 'deb http://deb.debian.org/debian bookworm-backports main' > /etc/apt/sources.list.d/bookworm-backports.list
fi
if [ ${#packages[@]} -gt 0 ] || [ "$lavapipe" = false ]; then
  apt-get update
  [ ${#packages[@]} -gt 0 ] && apt-get install -y "${packages[@]}"
  [ "$lavapipe" = false ] && apt-get install -y -t bookworm-backports mesa-vulkan-drivers
fi
exit 0
