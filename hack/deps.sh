#!/usr/bin/env bash
# Installs the Debian packages skiff's cluster and tests need, when missing:
# kubectl for the tests, and the node's runtime (containerd, runc, CNI plugins, nftables) plus
# busybox-static, which the test image (skiff.local/testapp:dev) copies its shell and utilities from.
set -euo pipefail
need=()
command -v kubectl >/dev/null || need+=(kubernetes-client)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v nft >/dev/null || need+=(nftables)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v nsenter >/dev/null || need+=(util-linux)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "missing: ${need[*]} (run as root to install)"; exit 1; fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"
fi
