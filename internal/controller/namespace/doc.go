// Package namespace is the namespace lifecycle controller: it empties namespaces that are being deleted and then
// releases them, as kube-controller-manager's namespace controller does.
//
// Contract. For a Namespace with metadata.deletionTimestamp set and "kubernetes" in spec.finalizers, a sync:
//
//  1. discovers every namespaced resource the server serves that supports delete (partial discovery failures
//     are recorded and retried, the resources that were discovered are still emptied);
//  2. deletes every object of those resources in the namespace with propagationPolicy Background
//     (deletecollection where the resource supports it, otherwise list + delete), then lists what remains.
//     Pods go first (OrderedNamespaceDeletion, on by default since Kubernetes 1.33): while any pod remains
//     (being terminated, or held by a finalizer), no other resource is deleted, so a pod never outlives the
//     ConfigMaps, Secrets, ServiceAccounts and so on it uses. Unlike upstream, whose early return leaves
//     NamespaceContentRemaining and NamespaceFinalizersRemaining at their "ok" values in that case, the remaining
//     pods and their finalizers are reported in those conditions;
//  3. writes the status conditions NamespaceDeletionDiscoveryFailure, NamespaceDeletionGroupVersionParsingFailure,
//     NamespaceDeletionContentFailure, NamespaceContentRemaining and NamespaceFinalizersRemaining with
//     kube-controller-manager's reasons (only when they change);
//  4. while anything remains, asks to be synced again after estimate/2+1 seconds (estimate: the longest
//     remaining pod grace period, else 0); on errors it retries with back-off;
//  5. once nothing remains, PUTs /api/v1/namespaces/NAME/finalize with spec.finalizers minus "kubernetes",
//     after which the API server deletes the namespace (if no metadata.finalizers remain).
//
// Namespaces that are not being deleted, or whose spec.finalizers no longer hold "kubernetes", are left alone.
package namespace
