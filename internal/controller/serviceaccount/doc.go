// Package serviceaccount is kube-controller-manager's service account controller: every active namespace has a
// ServiceAccount named "default".
//
// Contract. A sync of namespace N creates ServiceAccount N/default when the cache shows none; it does nothing for a
// namespace that is missing or terminating (deletionTimestamp set or phase Terminating). Deleting N/default
// re-queues N, so the account is recreated. AlreadyExists (a stale cache) and the API server's refusal to create
// in a terminating namespace count as success; other errors are retried with back-off.
package serviceaccount
