// Package endpoints is the Endpoints controller: for every Service with a
// selector it keeps a core/v1 Endpoints object of the same name, for clients
// that predate EndpointSlices. It follows Kubernetes' pkg/controller/endpoint.
//
// # Core
//
// Reconcile(svc, pods, current) is pure and returns the Endpoints to store and
// whether it differs from current: ready pods' IPs (of the Service's IP
// family) under addresses, the others under notReadyAddresses (all under
// addresses with publishNotReadyAddresses; terminating pods only then), each
// with nodeName, targetRef and hostname (when the pod names the Service as its
// subdomain), named target ports resolved per pod, repacked so that addresses
// serving the same ports share a subset, sorted. Labels mirror the Service's
// (plus service.kubernetes.io/headless); beyond 1000 addresses the object is
// truncated and annotated endpoints.kubernetes.io/over-capacity=truncated.
//
// # Shell
//
// Controller watches Services, Pods and Endpoints and queues Service keys
// (namespace/name) only: Services on any change, the Services selecting a pod
// when something an address shows changed, and the key of a deleted Endpoints
// object. sync(key):
//
//  1. never touches default/kubernetes, which the API server maintains;
//  2. deletes the Endpoints of a Service that no longer exists;
//  3. leaves Services of type ExternalName or without a selector alone (their
//     Endpoints are written by hand or by another controller);
//  4. if the cache does not yet show its own last write (a creation, or the
//     resourceVersion it replaced), returns ErrStaleCache and is retried;
//  5. otherwise creates or updates the object when Reconcile says so (Warning
//     events FailedToCreateEndpoint / FailedToUpdateEndpoint on failure).
//
// Run first queues every Endpoints object whose Service is gone (except
// leader-election locks), so that Services deleted while no controller ran
// lose their Endpoints, as upstream's checkLeftoverEndpoints.
//
// # Not done (upstream has it)
//
// The endpoints.kubernetes.io/last-change-trigger-time annotation and batching
// of pod updates.
//
// # Caller's duties
//
//  1. Build it with New(cc); it only registers informers and handlers on
//     cc.Informers.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package endpoints
