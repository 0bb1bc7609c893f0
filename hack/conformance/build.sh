#!/bin/bash
# Builds what run.sh needs into OUT (default /tmp/skiff-conformance): the upstream e2e.test and ginkgo, the real
# agnhost, the curl/dig/getent/nc stand-ins, and the image tarballs. About 15 minutes on two cores the first time.
set -euo pipefail
cd "$(dirname "$0")"
OUT=${OUT:-/tmp/skiff-conformance}
mkdir -p "$OUT"
go mod download
go build -o "$OUT/ginkgo" github.com/onsi/ginkgo/v2/ginkgo
go test -c -o "$OUT/e2e.test" k8s.io/kubernetes/test/e2e
CGO_ENABLED=0 go build -o "$OUT/agnhost" k8s.io/kubernetes/test/images/agnhost
for t in curl dig getent nc; do CGO_ENABLED=0 go build -ldflags='-s -w' -o "$OUT/$t" ./tools/$t; done
python3 images.py "$OUT"
cp repolist.yaml "$OUT/"
echo "built into $OUT"
