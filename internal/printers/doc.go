// Package printers turns API objects into the rows and columns of a
// meta.k8s.io/v1 Table, as kubectl get shows them.
//
// It reimplements, for the versioned types of k8s.io/api, the column
// definitions and cell logic of kube-apiserver's
// k8s.io/kubernetes/pkg/printers/internalversion (which skiff may not import).
//
// Contract:
//
//   - ColumnDefinitions(obj) returns the Table columns for obj's type. obj may be
//     a single object or the matching List type (e.g. *corev1.Pod or
//     *corev1.PodList); both yield the same columns. The returned slice is a
//     fresh copy the caller may modify.
//   - Cells(obj, now) returns one row for a single object (never a List), with
//     exactly one cell per column of ColumnDefinitions(obj), in the same order.
//     Columns with Priority 1 are the ones kubectl only shows with -o wide; as in
//     kube-apiserver (which always generates tables with Wide set), their cells
//     are always present. Ages and durations are computed against now with
//     k8s.io/apimachinery/pkg/util/duration.HumanDuration.
//   - Cell values have the Go types upstream uses: string, int64 or bool
//     (e.g. an integer column holds an int64), so they serialise to JSON the
//     same way.
//   - The name column has Type "string" and Format "name". It is the first
//     column for every type except Event (core/v1 and events.k8s.io/v1), where,
//     exactly as upstream, the columns start with "Last Seen" and "Name" is the
//     last, wide-only column.
//   - Types without a dedicated printer (including autoscaling/v1 Scale,
//     custom resources and *unstructured.Unstructured) get the apiserver's
//     default table: Name and Age, Age being "<unknown>" for a zero
//     creationTimestamp. Cells fails for objects without object metadata.
//     Role and ClusterRole, which upstream prints with its default convertor,
//     have Name and "Created At" (Type "date", RFC 3339 in UTC).
//
// Placeholders follow upstream: "<none>" for absent values, "<pending>" for a
// LoadBalancer Service without ingress, "<unknown>" for unknown times and
// values, "<unset>" for unset optional fields.
package printers
