// Package resourcequota is kube-controller-manager's resource quota controller: it keeps every ResourceQuota's
// status.hard equal to spec.hard and status.used equal to what the namespace's objects consume.
//
// Contract:
//
//  1. sync(namespace/name) recomputes the quota from the informer caches with the pure quota.Calculate and
//     writes status (UpdateStatus) only when status.hard or status.used differs. It runs when a quota is created,
//     when its spec.hard changes (not on status-only changes, as upstream: a hand-edited status stays until the
//     next resync), every ResyncPeriod (upstream's 5 minutes), and when usage is released in its namespace: a
//     pod, service, configmap, secret, persistentvolumeclaim, replicationcontroller or resourcequota deleted, a
//     pod that turned terminal, a service or claim whose usage changed.
//  2. count/<resource>.<group> names of other resources are counted from metadata informers started the first
//     time a quota names them (resolved with the RESTMapper; an unknown resource counts 0). Their deletions
//     enqueue the namespace's quotas too.
//  3. Charging new objects is admission's job (internal/apiserver admitQuota); this controller never refuses.
package resourcequota
