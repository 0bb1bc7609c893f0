// Package validation checks built-in API objects as Kubernetes does, returning errors with field paths.
//
// It reimplements the essential parts of kube-apiserver's validation
// (k8s.io/kubernetes/pkg/apis/*/validation and the generic registry's
// ObjectMeta checks, as of Kubernetes 1.32 with default feature gates) for
// the versioned types of k8s.io/api, without importing k8s.io/kubernetes.
// The API server turns a non-empty result into a 422 Invalid response, e.g.
// `Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must
// be greater than or equal to 0` (apierrors.NewInvalid with the list).
//
// # Contract
//
//   - ValidateCreate(obj) checks a new object; ValidateUpdate(obj, old) checks
//     a write through the main resource, immutable fields included;
//     ValidateStatusUpdate(obj, old) checks a write to the status
//     subresource (metadata update rules plus status fields). Each returns
//     nil when the object is valid, otherwise field.Errors with Kubernetes'
//     field paths and wording; errors with identical text are reported once.
//     Objects are not modified.
//   - Objects must be pointers to k8s.io/api types and arrive already
//     defaulted, as kube-apiserver's defaulting leaves them: fields such as
//     restartPolicy, dnsPolicy, terminationMessagePolicy, imagePullPolicy,
//     port protocols, a service's sessionAffinity, type, targetPort and
//     internalTrafficPolicy, a Deployment's strategy, a StatefulSet's
//     podManagementPolicy and updateStrategy, and a CronJob's
//     concurrencyPolicy are required here because defaulting always sets
//     them. Metadata must be complete too: name generated from generateName,
//     and on update resourceVersion set (kube-apiserver copies it from the
//     stored object for unconditional updates).
//   - Covered kinds: core/v1 Namespace, Pod, Node, Service, Endpoints,
//     ConfigMap, Secret, ServiceAccount, Event; apps/v1 Deployment,
//     ReplicaSet, DaemonSet, StatefulSet; batch/v1 Job, CronJob;
//     coordination.k8s.io/v1 Lease; discovery.k8s.io/v1 EndpointSlice;
//     events.k8s.io/v1 Event; policy/v1 PodDisruptionBudget;
//     autoscaling/v2 HorizontalPodAutoscaler (and autoscaling/v1, checked in
//     its v2 form); networking.k8s.io/v1 Ingress, IngressClass,
//     NetworkPolicy; rbac.authorization.k8s.io/v1 Role, ClusterRole,
//     RoleBinding, ClusterRoleBinding; storage.k8s.io/v1 StorageClass,
//     CSIDriver, CSINode, VolumeAttachment (main resource and status, spec
//     immutable; an inline volume spec gets no PersistentVolumeSpec checks);
//     node.k8s.io/v1 RuntimeClass; flowcontrol.apiserver.k8s.io/v1
//     FlowSchema, PriorityLevelConfiguration; admissionregistration.k8s.io/v1
//     Validating- and MutatingWebhookConfiguration (internal/admission/webhook);
//     apiextensions.k8s.io/v1 CustomResourceDefinition (internal/apiextensions;
//     custom resources themselves are validated by the API server against
//     their CRD's schema); scheduling.k8s.io/v1
//     PriorityClass (SystemPriorityClasses lists the built-in ones the API
//     server creates; the one-global-default rule is the Priority admission
//     plugin's, not validation's); and autoscaling/v1 Scale, the
//     body of /scale writes, which gets the same check from all three
//     functions. Any other type gets only the generic ObjectMeta checks:
//     names must be path-segment safe, and a namespace is required when one
//     is given (the scope of an unknown type cannot be known here).
//   - Scope: Namespace, Node, PriorityClass, IngressClass, ClusterRole,
//     ClusterRoleBinding, the four storage.k8s.io kinds, RuntimeClass, the two
//     flowcontrol kinds, the two webhook configurations and
//     CustomResourceDefinition are cluster-scoped (metadata.namespace is
//     forbidden); everything else listed is namespaced (required).
//   - Names: DNS-1123 label for Namespace; RFC 1035 label for Service; DNS
//     subdomain for the others, except core/v1 Event,
//     PodDisruptionBudget and the four RBAC kinds, whose names only need to
//     be path-segment safe (as upstream).
//   - As in kube-apiserver's REST layer, a type's own checks run first on
//     create and the generic ObjectMeta checks only when those pass; on
//     update the generic ObjectMeta create and update checks come first.
//
// # Things the API server must do itself
//
//   - Jobs without manualSelector: generate the selector and template labels
//     as kube-apiserver's job strategy does (selector matchLabels
//     batch.kubernetes.io/controller-uid=<uid>; template labels
//     batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name,
//     controller-uid and job-name) and set metadata.uid before validating.
//   - Services: allocate clusterIP(s), node ports and healthCheckNodePort,
//     and on update carry allocated values over from the old object when the
//     client omits them. Only clusterIPs is derived here from clusterIP when
//     it is empty. Node port ranges are the allocator's business.
//   - Status writes: reset spec to the stored spec (a Pod status write that
//     changes spec.nodeName is rejected here).
//
// # Known differences from kube-apiserver 1.32
//
//   - A changed spec.clusterIP on Service update is reported both as
//     `spec.clusterIP: Invalid value: ...: field is immutable` and as 1.32
//     does, `spec.clusterIPs[0]: Invalid value: [...]: may not change once
//     set`.
//   - The explanation after a Pod's "pod updates may not change fields other
//     than ..." error lists the changed fields by JSON path instead of a
//     cmp.Diff of the whole spec.
//   - StatefulSet templates get full pod spec validation (with the
//     volumeClaimTemplates counted as volumes); 1.32 only checks their
//     labels and annotations.
//   - Pod terminationGracePeriodSeconds must be >= 0 (1.32 accepts negative
//     values and rewrites them to 1).
//   - Composite bad values are printed as JSON (`{"app":"x"}`), which is how
//     the vendored k8s.io/apimachinery field package renders them.
//   - Not checked: affinity, topology spread constraints, seccomp, AppArmor,
//     sysctls, most container security context rules, volume sources other
//     than hostPath, emptyDir, gitRepo, secret, nfs, persistentVolumeClaim,
//     downwardAPI, configMap, projected, csi, ephemeral and image (others
//     only count toward "exactly one volume type"), resource claims,
//     ephemeral container updates, pod-level resources, and the status
//     rules that depend on feature gates or on condition transitions.
package validation
