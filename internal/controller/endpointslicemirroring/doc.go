// Package endpointslicemirroring is the EndpointSliceMirroring controller: it
// mirrors the core/v1 Endpoints of Services without a selector (typically
// written by hand to point a Service at something outside the cluster) into
// discovery.k8s.io/v1 EndpointSlices, which the proxy and DNS read. It follows
// Kubernetes' pkg/controller/endpointslicemirroring.
//
// # Core
//
// Reconcile(eps, svc, existing, max) is pure and returns a Plan of slices to
// create, update and delete:
//
//   - nothing is mirrored (every existing slice is deleted) unless the
//     Endpoints object exists, lacks the label
//     endpointslice.kubernetes.io/skip-mirror=true and the leader-election
//     annotation, and its Service exists without a selector (upstream does not
//     look at the type: an ExternalName Service's Endpoints are mirrored too);
//   - the subsets are repacked (upstream's RepackSubsets), then each subset's
//     addresses, ready then not ready, become endpoints with conditions.ready,
//     hostname, nodeName and targetRef; an IP that does not parse is skipped,
//     and at most max (1000) addresses per subset are mirrored, the rest
//     skipped;
//   - one slice per address type (IPv4/IPv6) and subset port set: an existing
//     slice of that type and ports is left alone when it already shows those
//     endpoints, labels and annotations, else rebuilt under its name (with its
//     resourceVersion); further slices of the same key and slices of keys no
//     longer wanted are deleted; a creation reuses a slice about to be deleted
//     (same address type) by updating it;
//   - slices carry the Endpoints' labels plus kubernetes.io/service-name=<name>
//     and endpointslice.kubernetes.io/managed-by=
//     endpointslicemirroring-controller.k8s.io, its annotations but
//     endpoints.kubernetes.io/last-change-trigger-time and
//     kubectl.kubernetes.io/last-applied-configuration, generateName "<name>-"
//     and a controller owner reference to the Endpoints object (not the
//     Service), as upstream; a slice owned by an earlier Endpoints object of
//     the same name is rebuilt.
//
// # Shell
//
// Controller watches Endpoints, Services and EndpointSlices and queues
// Endpoints keys (namespace/name) only: Endpoints that are or were to be
// mirrored, Services without a selector when added or deleted and Services
// gaining or losing one, and the Endpoints of a managed slice that someone
// else created, changed or deleted (both, when its service-name or managed-by
// label changed). sync(key):
//
//  1. reads the Endpoints, its Service and the managed slices from the cache;
//  2. when mirroring, returns ErrStaleCache (retried) if the cache does not
//     yet show this controller's own earlier writes, so that a lagging cache
//     never yields duplicate slices;
//  3. records Warning events on the Endpoints, as upstream: InvalidIPAddress
//     "Skipped N invalid IP addresses when mirroring to EndpointSlices" and
//     TooManyAddressesToMirror "A max of 1000 addresses can be mirrored to
//     EndpointSlices per Endpoints subset. N addresses were skipped";
//  4. carries out the Plan (creations skipped while the Endpoints object is
//     being deleted or its namespace terminating).
//
// # Not done (upstream has it)
//
// Metrics, the endpoint-updates batch period, and upstream's unconditional
// updates: a rebuilt slice carries the resourceVersion it replaces, so a
// conflicting write is retried instead of overwritten.
//
// # Caller's duties
//
//  1. Build it with New(cc); it only registers informers and handlers on
//     cc.Informers.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package endpointslicemirroring
