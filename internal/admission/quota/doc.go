// Package quota is the pure core of Kubernetes' resource quota: what an object consumes (Usage, as
// k8s.io/kubernetes pkg/quota/v1/evaluator/core), which quotas constrain it (Matches: status.hard names and
// spec.scopes/scopeSelector), the ResourceQuota admission decision (Admit, with kube-apiserver's Forbidden
// messages) and the usage a quota controller records (Calculate).
//
// Contract:
//
//  1. Every function is synchronous and reads no clock: callers pass now (a pod past its deletion grace period
//     no longer counts).
//  2. Usage names follow upstream: pods count as pods and count/pods and, while not terminal, charge cpu/memory/
//     ephemeral-storage requests (also as requests.*), limits.*, and requests.<extended>; services charge services,
//     services.nodeports and services.loadbalancers; persistentvolumeclaims charge requests.storage and the
//     <class>.storageclass.storage.k8s.io/ forms; every object charges count/<resource>[.<group>], and configmaps,
//     secrets, replicationcontrollers and resourcequotas also their legacy names.
//  3. Admit never changes its inputs: it returns the new status.used of each quota to charge.
//  4. Only pods match scoped quotas (Terminating, NotTerminating, BestEffort, NotBestEffort, PriorityClass,
//     CrossNamespacePodAffinity), as upstream.
package quota
