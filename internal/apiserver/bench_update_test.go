package apiserver

import (
	"fmt"
	"testing"
)

// BenchmarkUpdateLease measures the path a node heartbeat takes: a merge patch of a Lease's renewTime.
func BenchmarkUpdateLease(b *testing.B) {
	ts := benchServer(b)
	for i := 0; i < 16; i++ {
		if err := ts.send("POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
			fmt.Sprintf(`{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"n%d"},"spec":{"holderIdentity":"n%d","leaseDurationSeconds":40}}`, i, i)); err != nil {
			b.Fatal(err)
		}
	}
	runClients(b, 16, func(c, i int) error {
		return ts.sendPatch(fmt.Sprintf("/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n%d", c),
			fmt.Sprintf(`{"spec":{"renewTime":"2026-11-24T03:%02d:%02d.000000Z"}}`, (i/60)%60, i%60))
	})
}
