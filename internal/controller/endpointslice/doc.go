// Package endpointslice is the EndpointSlice controller: for every Service with
// a selector it keeps discovery.k8s.io/v1 EndpointSlices of the IPs of the pods
// the selector matches. It follows Kubernetes' pkg/controller/endpointslice and
// the reconciler of staging/src/k8s.io/endpointslice.
//
// # Core
//
// Reconcile(svc, pods, nodes, existing, max) is pure and returns a Plan of
// slices to create, update and delete:
//
//   - one address type per IP family of the Service (IPv4/IPv6);
//   - a pod is an endpoint when it has an IP and is not terminal (Succeeded or
//     Failed), terminating pods included; conditions: ready = Ready and not
//     terminating (always true with publishNotReadyAddresses), serving =
//     Ready, terminating = deletionTimestamp set; plus targetRef, nodeName,
//     zone (the node's topology.kubernetes.io/zone label) and hostname when
//     the pod names the Service as its subdomain;
//   - ports are resolved per pod (a targetPort name is looked up among the
//     pod's container ports); pods that resolve differently go to different
//     slices, each with its own ports;
//   - at most max (100) endpoints per slice; changes are minimal: endpoints
//     stay in their slice, slices being updated anyway are filled first, then
//     the unchanged slice that fits the rest best, and only then new slices;
//     a creation replaces a deletion by updating that slice instead;
//   - a Service without endpoints keeps one empty placeholder slice;
//   - slices carry the Service's labels, kubernetes.io/service-name,
//     endpointslice.kubernetes.io/managed-by=endpointslice-controller.k8s.io,
//     service.kubernetes.io/headless for headless Services, generateName
//     "<svc>-" and a controller owner reference to the Service; slices of the
//     same name owned by another Service (UID) are deleted.
//
// # Shell
//
// Controller watches Services, Pods, Nodes and EndpointSlices and queues
// Service keys (namespace/name) only: Services on any change, the Services
// selecting a pod when something an endpoint shows changed (old and new
// labels both), the Services of the pods on a node that appeared, went or
// changed zone, and the Service of a managed slice that someone else changed
// or deleted. sync(key):
//
//  1. reads the Service from the cache; NotFound, type ExternalName or no
//     selector means nothing to do (slices go with the Service through the
//     garbage collector; selector-less Services are left alone);
//  2. lists the selected pods and the Service's managed slices; if the cache
//     does not yet show this controller's own earlier writes (tracked by UID
//     and resourceVersion) it returns ErrStaleCache and is retried, so that a
//     lagging cache never yields duplicate slices;
//  3. carries out the Plan (creations skipped while the Service is being
//     deleted), recording every write; on failure the Warning event
//     FailedToUpdateEndpointSlices "Error updating Endpoint Slices for Service
//     ns/name: E";
//  4. retries (error) while pods are left out because their node is unknown.
//
// # Not done (upstream has it)
//
// Topology-aware hints, the endpoints.kubernetes.io/last-change-trigger-time
// annotation and batching of pod updates. (Selector-less Services' Endpoints
// are mirrored by internal/controller/endpointslicemirroring.)
//
// # Caller's duties
//
//  1. Build it with New(cc); it only registers informers, handlers and a pod
//     index on cc.Informers.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package endpointslice
