// Package clusterroleaggregation is kube-controller-manager's ClusterRole aggregation controller: a ClusterRole
// with an aggregationRule holds the union of the rules of the ClusterRoles its selectors match.
//
// Contract. Any ClusterRole added, updated or deleted queues every ClusterRole that has an aggregationRule. A sync
// of ClusterRole N (from the informer cache; gone or without aggregationRule: nothing to do) computes Aggregate:
// for each selector in order, the matching ClusterRoles other than N sorted by name, and their rules in order,
// each rule kept once (semantic equality). When that differs from N's rules, N is updated (a copy of the cached
// object with those rules); errors, conflicts included, are retried with back-off. The controller writes as its
// component's user, which is in system:masters, so the API server's escalation check does not apply.
package clusterroleaggregation
