#!/usr/bin/env bash
# Starts `skiff server` in the background on DATA and PORT, waits until it is ready and shows the cluster.
set -euo pipefail
DATA=${1:-/var/lib/skiff}
PORT=${2:-6443}
mkdir -p "$DATA"
if [ -f "$DATA/skiff.pid" ] && kill -0 "$(cat "$DATA/skiff.pid")" 2>/dev/null; then
  echo "skiff already running (pid $(cat "$DATA/skiff.pid"))"
else
  nohup ./bin/skiff server --data-dir "$DATA" --port "$PORT" >"$DATA/skiff.log" 2>&1 &
  echo $! >"$DATA/skiff.pid"
fi
export KUBECONFIG="$DATA/admin.kubeconfig"
for i in $(seq 1 100); do
  if [ -f "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1; then break; fi
  sleep 0.1
done
kubectl get --raw /readyz; echo
kubectl version
kubectl get namespaces
kubectl get services -A
echo
echo "skiff is running (pid $(cat "$DATA/skiff.pid"), log $DATA/skiff.log). Point kubectl at it with:"
echo "  export KUBECONFIG=$DATA/admin.kubeconfig"
echo "Stop it with: make stop DATA=$DATA"
