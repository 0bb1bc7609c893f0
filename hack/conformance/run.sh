#!/bin/bash
# Runs under flock /tmp/skiff-e2e.lock: skiff server WITH the agent, then ginkgo -p over $FOCUS.
set -u
OUT=${OUT:-/tmp/skiff-conformance}
SKIFF=${SKIFF:-$(cd "$(dirname "$0")"/../.. && pwd)/bin/skiff}
D=$OUT/data
cd "$OUT"
"$SKIFF" server --cleanup --data-dir $D >/dev/null 2>&1
mkdir -p $D/images && cp $OUT/images/*.tar $D/images/
"$SKIFF" server --data-dir $D --port 17444 --log-level warn > nodeserver-$NAME.log 2>&1 &
SPID=$!; echo $SPID > nodeserver.pid
export KUBECONFIG=$D/admin.kubeconfig
for i in $(seq 1 90); do kubectl get nodes 2>/dev/null | grep -q ' Ready' && break; sleep 2; done
kubectl get nodes -o wide
C="ctr -a $D/containerd/containerd.sock -n k8s.io"
$C images tag --force skiff.local/pause:3.10 skiff.local/gc/pause:3.10.2 >/dev/null
KUBE_TEST_REPO_LIST=$OUT/repolist.yaml ./ginkgo --procs=${PROCS:-4} --no-color --focus="$FOCUS" --skip="${SKIP:-x^}" --timeout=${GTIMEOUT:-40m} --output-dir=$OUT/report-$NAME --json-report=report.json \
  ./e2e.test -- --kubeconfig=$KUBECONFIG --provider=skeleton --report-dir=$OUT/report-$NAME > $NAME.log 2>&1
echo "exit=$?" >> $NAME.log
kubectl get pods -A -o wide > $NAME.pods.txt 2>&1
kill $SPID; wait $SPID
"$SKIFF" server --cleanup --data-dir $D >> nodeserver-$NAME.log 2>&1
