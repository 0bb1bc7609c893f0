// Package servicelb is the service load-balancer controller, in the role of
// k3s's ServiceLB (klipper-lb): it gives every Service of type LoadBalancer
// the addresses of the cluster's nodes as its load-balancer ingress. No
// DaemonSet of svclb pods is needed: skiff's proxy already serves each
// Service's node ports and load-balancer ingress on every node itself.
//
// # Core
//
// DesiredIngress(svc, nodes) is pure and returns the Service's wanted
// status.loadBalancer.ingress, or Skip for a Service this controller does not
// manage:
//
//   - a Service with spec.loadBalancerClass set belongs to another
//     implementation and is skipped whatever its type;
//   - a Service of any other type than LoadBalancer wants no ingress (so a
//     Service that stops being LoadBalancer has its ingress cleared);
//   - a LoadBalancer Service wants one entry per address of the eligible
//     nodes: Ready=True, not spec.unschedulable and without the label
//     node.kubernetes.io/exclude-from-external-load-balancers. As k3s does,
//     the ExternalIP addresses are used when any eligible node has one,
//     otherwise the InternalIP addresses; addresses of IP families the
//     Service does not have (spec.ipFamilies) are dropped; the rest are
//     deduplicated and sorted as strings, each with ipMode VIP.
//
// Changed(cur, want) compares ingress lists ignoring the order of fields the
// controller does not set.
//
// # Shell
//
// Controller watches Services and Nodes and queues Service keys
// (namespace/name) only: a Service event queues that Service; a Node event
// that changes its eligibility or addresses queues every LoadBalancer
// Service. sync(key) reads the Service from the cache (NotFound is done),
// computes DesiredIngress over the cached nodes and, when the ingress differs,
// writes it through services/status (UpdateStatus, on a deep copy) with the
// events of the cloud-provider service controller that k3s runs:
// EnsuringLoadBalancer "Ensuring load balancer" and EnsuredLoadBalancer
// "Ensured load balancer" when setting addresses; DeletingLoadBalancer
// "Deleting load balancer" and DeletedLoadBalancer "Deleted load balancer"
// when clearing them from a Service that is no longer LoadBalancer; a
// Warning UnAvailableLoadBalancer "There are no available nodes for
// LoadBalancer" when a LoadBalancer Service loses its last node.
//
// # Not done (k3s or upstream has it)
//
// The service.kubernetes.io/load-balancer-cleanup finalizer (nothing outside
// the API has to be cleaned up), k3s's svccontroller.k3s.cattle.io/lbpool
// node pools and --servicelb-namespace DaemonSets, and narrowing the nodes to
// those with endpoints for externalTrafficPolicy Local.
//
// # Caller's duties
//
//  1. Build it with New(cc); it only registers handlers on cc.Informers.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package servicelb
