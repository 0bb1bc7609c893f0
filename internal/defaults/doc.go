// Package defaults sets the default values Kubernetes sets on built-in API objects.
//
// It reimplements, for the versioned types of k8s.io/api, the defaulting
// functions of kube-apiserver v1.32 (k8s.io/kubernetes/pkg/apis/*/v1/
// defaults.go together with the generated zz_generated.defaults.go, which
// applies the defaulters of nested types wherever those types are
// embedded), with feature gates at their v1.32 defaults.
//
// # Contract
//
// Apply(obj) is called by the API server on every create and update request
// body, after decoding and before validation. It:
//
//   - changes obj in place and returns nothing; it never fails;
//   - knows typed objects of core/v1, apps/v1, batch/v1, autoscaling/v1,
//     autoscaling/v2, discovery/v1, networking/v1, rbac/v1, scheduling/v1,
//     storage/v1, flowcontrol/v1, admissionregistration/v1 (webhook
//     configurations) and apiextensions/v1 (CRDs) (see Apply for the exact
//     list) and their list types;
//     any other object, including unstructured ones, is left unchanged;
//   - only fills in fields that are unset (nil pointer, empty string, zero
//     number where upstream treats zero as unset, empty list): a value the
//     client sent, such as replicas: 0, is kept. The exceptions are the ones
//     upstream has too: quantities in resource lists are rounded up to milli
//     precision, a Service with sessionAffinity None loses its
//     sessionAffinityConfig, a named Namespace always gets the label
//     kubernetes.io/metadata.name=<name>, a Job and a ReplicationController
//     without labels take their pod template's labels;
//   - is idempotent: applying it twice gives the same object as once.
//
// Defaults that depend only on the PodSpec (restartPolicy, dnsPolicy,
// container imagePullPolicy, probes, volumes, ...) are applied to pod
// templates everywhere they are embedded; the Pod-only ones (requests
// copied from limits, enableServiceLinks, hostPort under hostNetwork) are
// applied to Pods only, as upstream does.
//
// # Beyond defaulting
//
// A few values that upstream sets outside the defaulting functions are set
// here too, because nothing else in skiff sets them:
//
//   - Service ipFamilyPolicy and ipFamilies, as the service REST storage
//     sets them on a single-stack IPv4 cluster (the IP allocator still sets
//     clusterIP/clusterIPs);
//   - Namespace spec.finalizers gets "kubernetes" and a Pod's empty
//     status.phase becomes Pending, as the registry strategies'
//     PrepareForCreate do. Apply cannot tell a create from an update, so it
//     does these only for objects that look new: no resourceVersion, no uid
//     and no deletionTimestamp. Otherwise a finalized namespace would get
//     its finalizer back.
//
// Admission-time values (serviceAccountName, priority and preemptionPolicy
// from the Priority plugin, the service account token volume) and
// strategy-time values (pod QoS class, Job selector generation) are not set
// here.
package defaults
