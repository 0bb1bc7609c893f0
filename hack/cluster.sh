#!/usr/bin/env bash
# Starts `skiff server` in the background on DATA and PORT, waits until it is ready and shows the cluster.
set -euo pipefail
DATA=${1:-/var/lib/skiff}
PORT=${2:-6443}
mkdir -p "$DATA"
if [ -f "$DATA/skiff.pid" ] && kill -0 "$(cat "$DATA/skiff.pid")" 2>/dev/null; then
  echo "skiff already running (pid $(cat "$DATA/skiff.pid"))"
else
  # SKIFF_SERVER_ARGS adds flags, e.g. SKIFF_SERVER_ARGS="--eviction-hard nodefs.available<0%,imagefs.available<0%".
  # shellcheck disable=SC2086
  nohup ./bin/skiff server --data-dir "$DATA" --port "$PORT" ${SKIFF_SERVER_ARGS:-} >"$DATA/skiff.log" 2>&1 &
  echo $! >"$DATA/skiff.pid"
fi
export KUBECONFIG="$DATA/admin.kubeconfig"
for i in $(seq 1 100); do
  if [ -f "$KUBECONFIG" ] && kubectl get --raw /readyz >/dev/null 2>&1; then break; fi
  sleep 0.1
done
kubectl get --raw /readyz; echo
kubectl version
for i in $(seq 1 300); do
  if kubectl get nodes 2>/dev/null | grep -q " Ready"; then break; fi
  sleep 0.1
done
kubectl get nodes -o wide
if [ "$(kubectl get nodes -o jsonpath='{.items[0].status.conditions[?(@.type=="DiskPressure")].status}')" = True ]; then
  echo "The node reports DiskPressure (less free disk than --eviction-hard allows, default 5%): it is tainted and new"
  echo "pods stay Pending. Free some disk, or restart with SKIFF_SERVER_ARGS='--eviction-hard nodefs.available<0%,imagefs.available<0%'."
fi
echo
echo "A Deployment of the test app (built from this repo), scheduled and run on containerd:"
kubectl get deployment hello >/dev/null 2>&1 ||
  kubectl create deployment hello --image=skiff.local/testapp:dev --replicas=2 -- /agnhost netexec --http-port=8080
kubectl rollout status deployment/hello --timeout=120s
kubectl get pods -o wide
ip=$(kubectl get pods -l app=hello -o jsonpath='{.items[0].status.podIP}')
echo "GET http://$ip:8080/hostname -> $(curl -s --max-time 5 "http://$ip:8080/hostname")"
kubectl exec deployment/hello -- sh -c 'echo "exec: hello from $(hostname)"'
echo
echo "skiff is running (pid $(cat "$DATA/skiff.pid"), log $DATA/skiff.log). Point kubectl at it with:"
echo "  export KUBECONFIG=$DATA/admin.kubeconfig"
echo "Stop it with: make stop DATA=$DATA"
