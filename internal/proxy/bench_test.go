package proxy

import (
	"context"
	"fmt"
	"testing"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	"sigs.k8s.io/knftables"
)

const (
	benchServices  = 1000
	benchEndpoints = 10
)

// benchCluster is benchServices NodePort Services with benchEndpoints ready endpoints each.
func benchCluster() ([]*corev1.Service, []*discoveryv1.EndpointSlice) {
	var svcs []*corev1.Service
	var sls []*discoveryv1.EndpointSlice
	for i := range benchServices {
		name := fmt.Sprintf("svc-%04d", i)
		s := svc(name, fmt.Sprintf("10.43.%d.%d", i/250, i%250+1), corev1.ServiceTypeNodePort, port("http", 80, int32(30000+i)))
		svcs = append(svcs, s)
		sls = append(sls, benchSlice(name, i, benchEndpoints))
	}
	return svcs, sls
}

func benchSlice(name string, i, n int) *discoveryv1.EndpointSlice {
	var eps []ep
	for j := range n {
		eps = append(eps, ep{ip: fmt.Sprintf("10.42.%d.%d", i/20, (i%20)*12+j+1), ready: true, serving: true, node: me})
	}
	return slice(name, "http", 8080, eps...)
}

// benchFull measures a full sync of the whole cluster: Build, WriteAll and the transaction.
func benchFull(b *testing.B, nft knftables.Interface) {
	svcs, sls := benchCluster()
	ctx := context.Background()
	b.ResetTimer()
	ops := 0
	for range b.N {
		tx := nft.NewTransaction()
		Build(svcs, sls, local).WriteAll(tx)
		if err := nft.Run(ctx, tx); err != nil {
			b.Fatal(err)
		}
		ops = tx.NumOperations()
	}
	b.ReportMetric(float64(ops), "nft-ops/sync")
}

// benchOne measures an incremental sync after one Service's endpoints changed (one endpoint goes, or comes
// back), with the whole cluster in the table: BuildService, Table.Set and the transaction.
func benchOne(b *testing.B, nft knftables.Interface) {
	svcs, sls := benchCluster()
	ctx := context.Background()
	tbl := Build(svcs, sls, local)
	tx := nft.NewTransaction()
	tbl.WriteAll(tx)
	if err := nft.Run(ctx, tx); err != nil {
		b.Fatal(err)
	}
	const i = benchServices / 2
	changed := []*discoveryv1.EndpointSlice{benchSlice(svcs[i].Name, i, benchEndpoints-1), sls[i]}
	b.ResetTimer()
	ops := 0
	for n := range b.N {
		tx := nft.NewTransaction()
		tbl.Set(tx, Key(svcs[i]), BuildService(svcs[i], changed[n%2:n%2+1], local))
		if err := nft.Run(ctx, tx); err != nil {
			b.Fatal(err)
		}
		ops = tx.NumOperations()
	}
	b.ReportMetric(float64(ops), "nft-ops/sync")
}

func BenchmarkSyncFullFake(b *testing.B) {
	benchFull(b, knftables.NewFake(knftables.IPv4Family, TableName))
}

func BenchmarkSyncOneServiceFake(b *testing.B) {
	benchOne(b, knftables.NewFake(knftables.IPv4Family, TableName))
}

// The kernel variants write a scratch table "skiff-bench" (not skiff's own); they need root and nft.

func BenchmarkSyncFullKernel(b *testing.B) { benchFull(b, realNFT(b, "skiff-bench")) }

func BenchmarkSyncOneServiceKernel(b *testing.B) { benchOne(b, realNFT(b, "skiff-bench")) }

// BenchmarkIntactKernel measures the periodic check (Intact) against the kernel with the whole cluster in the
// table.
func BenchmarkIntactKernel(b *testing.B) {
	nft := realNFT(b, "skiff-bench")
	svcs, sls := benchCluster()
	tx := nft.NewTransaction()
	Build(svcs, sls, local).WriteAll(tx)
	if err := nft.Run(context.Background(), tx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if ok, err := Intact(context.Background(), nft); !ok || err != nil {
			b.Fatalf("Intact = %v, %v", ok, err)
		}
	}
}
