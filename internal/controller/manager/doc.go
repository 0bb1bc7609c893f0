// Package manager is skiff's kube-controller-manager: it runs the registered controllers against the API
// server while this process holds the leader lease, so that several servers can run and only one acts.
//
// Run(ctx, rc, opts) campaigns for the coordination.k8s.io/v1 Lease kube-system/kube-controller-manager
// (client-go leader election; identity hostname_uuid; lease 15 s, renew deadline 10 s, retry 2 s as upstream;
// the lease is released on shutdown). For each term it holds the lease it:
//
//  1. builds one SharedInformerFactory and one metadata SharedInformerFactory (resync 0) on one clientset, an
//     event broadcaster writing core/v1 Events (deduplicated and counted by client-go's EventCorrelator) and a
//     discovery-backed RESTMapper, all shared through a controller.Context;
//  2. constructs every registered controller (Options.Controllers, by default the Controllers list in
//     controllers.go), then starts the informer factories;
//  3. runs each controller's Run(ctx, workers) in its own goroutine until the term ends.
//
// A term ends when ctx ends, when the lease is lost (the manager then stops every controller, waits for them and
// campaigns again with fresh caches) or when a controller's Run returns an error (Run then returns that error).
// Run returns after every goroutine of its own has stopped.
//
// Adding a controller: write package internal/controller/<name> (see package controller for the shape), then
// add one entry to Controllers in controllers.go, e.g.
//
//	{Name: "replicaset", Workers: 5, New: replicaset.New},
package manager
