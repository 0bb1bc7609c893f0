package manager

import (
	"github.com/skiff-sh/skiff/internal/controller/clusterroleaggregation"
	"github.com/skiff-sh/skiff/internal/controller/cronjob"
	"github.com/skiff-sh/skiff/internal/controller/csrsigning"
	"github.com/skiff-sh/skiff/internal/controller/daemonset"
	"github.com/skiff-sh/skiff/internal/controller/deployment"
	"github.com/skiff-sh/skiff/internal/controller/disruption"
	"github.com/skiff-sh/skiff/internal/controller/endpoints"
	"github.com/skiff-sh/skiff/internal/controller/endpointslice"
	"github.com/skiff-sh/skiff/internal/controller/endpointslicemirroring"
	"github.com/skiff-sh/skiff/internal/controller/garbagecollector"
	"github.com/skiff-sh/skiff/internal/controller/job"
	"github.com/skiff-sh/skiff/internal/controller/namespace"
	"github.com/skiff-sh/skiff/internal/controller/nodelifecycle"
	"github.com/skiff-sh/skiff/internal/controller/podgc"
	"github.com/skiff-sh/skiff/internal/controller/replicaset"
	"github.com/skiff-sh/skiff/internal/controller/replication"
	"github.com/skiff-sh/skiff/internal/controller/resourcequota"
	"github.com/skiff-sh/skiff/internal/controller/rootcacertpublisher"
	"github.com/skiff-sh/skiff/internal/controller/serviceaccount"
	"github.com/skiff-sh/skiff/internal/controller/servicelb"
	"github.com/skiff-sh/skiff/internal/controller/statefulset"
)

// Controllers is the registry of the controllers Run starts, in construction order. To add a controller, add
// its package's import above and one line here: {Name: "<name>", Workers: <concurrent syncs>, New: <pkg>.New}.
// Workers follow kube-controller-manager's --concurrent-*-syncs defaults.
var Controllers = []Registration{
	{Name: namespace.Name, Workers: 10, New: namespace.New},
	{Name: serviceaccount.Name, Workers: 1, New: serviceaccount.New},
	{Name: rootcacertpublisher.Name, Workers: 1, New: rootcacertpublisher.New},
	{Name: csrsigning.Name, Workers: 1, New: csrsigning.New},
	{Name: garbagecollector.Name, Workers: 20, New: garbagecollector.New},
	{Name: replicaset.Name, Workers: 5, New: replicaset.New},
	{Name: replication.Name, Workers: 5, New: replication.New},
	{Name: deployment.Name, Workers: 5, New: deployment.New},
	{Name: job.Name, Workers: 5, New: job.New},
	{Name: cronjob.Name, Workers: 5, New: cronjob.New},
	{Name: daemonset.Name, Workers: 2, New: daemonset.New},
	{Name: statefulset.Name, Workers: 5, New: statefulset.New},
	{Name: nodelifecycle.Name, Workers: 8, New: nodelifecycle.New},
	{Name: endpointslice.Name, Workers: 5, New: endpointslice.New},
	{Name: endpointslicemirroring.Name, Workers: 5, New: endpointslicemirroring.New},
	{Name: endpoints.Name, Workers: 5, New: endpoints.New},
	{Name: podgc.Name, Workers: 1, New: podgc.New},
	{Name: resourcequota.Name, Workers: 5, New: resourcequota.New},
	{Name: disruption.Name, Workers: 1, New: disruption.New},
	{Name: servicelb.Name, Workers: 1, New: servicelb.New},
	{Name: clusterroleaggregation.Name, Workers: 1, New: clusterroleaggregation.New},
}
