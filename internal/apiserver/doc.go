// Package apiserver serves the Kubernetes REST API for the built-in resources from a storage.Store.
//
// Contract:
//
//  1. New builds the server from a Config; Run starts one watch cache per resource, repairs the
//     ClusterIP/NodePort allocation bitmaps (RangeAllocations in etcd at /registry/ranges/serviceips and
//     /registry/ranges/servicenodeports, changed only by compare-and-swap, so servers sharing an etcd never hand out
//     the same value) against the stored Services, again every RepairInterval, and creates the default
//     namespaces, the built-in PriorityClasses (system-node-critical, system-cluster-critical; they cannot be
//     deleted) and the kubernetes Service, then blocks until its context ends. Ready reports when all of that is done.
//  2. Handler serves the API; authentication wraps it and puts the user in the request context, and
//     WithAuthorization/WithImpersonationAuthorization (authz.go) authorize each request with the Authorizer (RBAC
//     after EnableRBAC, whose bootstrap policy Run reconciles). The handler never panics out: a panic becomes a 500
//     Status and is logged.
//  3. Every error is a metav1.Status with Kubernetes' code, reason and message (field paths for 422).
//  4. Writes run decode → defaults → admission → validation → managed fields → storage; updates re-run their
//     mutation on the freshest object until the etcd transaction commits (Store.GuaranteedUpdate).
//     Admission includes kube-apiserver's Priority plugin: a new pod's spec.priority and spec.preemptionPolicy
//     come from its PriorityClass (or the global default class), and at most one class may be the global default.
//     LimitRanger (internal/admission/limitranger) defaults and checks new pods and claims; ResourceQuota
//     (quota.go, internal/admission/quota) runs after validation and charges status.used before storage.
//     With EnableServiceAccountTokens (satoken.go) the ServiceAccount plugin runs too: a new pod's service
//     account must exist and gets the kube-api-access-* token volume; serviceaccounts/token issues tokens
//     (internal/auth/serviceaccount) and TokenReview authenticates them.
//  5. /metrics (prommetrics.go) serves Prometheus metrics with kube-apiserver's names, from a registry of the
//     server's own, to users the Authorizer allows (without one, system:masters and system:monitoring).
//  6. Shutdown ends open watches and waits for in-flight requests, until its context ends.
//
// The caller owns the etcd client, the TLS listener and the process signals.
package apiserver
