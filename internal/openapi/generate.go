package openapi

// The schema definitions in ./generated are produced by openapi-gen (a Go tool
// dependency in go.mod) from the +k8s:openapi-gen tagged k8s.io/api and
// k8s.io/apimachinery packages. To serve another API group, add its package
// here, run `go generate ./internal/openapi`, and register its AddToScheme in
// scheme.go.
//
// scheduling/v1alpha3 is listed only because batch/v1 JobSpec refers to its
// types; without it the batch/v1 documents would not build.

//go:generate go tool openapi-gen --output-dir ./generated --output-pkg github.com/skiff-sh/skiff/internal/openapi/generated --output-file zz_generated.openapi.go --report-filename ./generated/api-violations.txt k8s.io/api/core/v1 k8s.io/api/apps/v1 k8s.io/api/batch/v1 k8s.io/api/coordination/v1 k8s.io/api/discovery/v1 k8s.io/api/events/v1 k8s.io/api/policy/v1 k8s.io/api/autoscaling/v1 k8s.io/api/autoscaling/v2 k8s.io/api/authentication/v1 k8s.io/api/authorization/v1 k8s.io/api/scheduling/v1 k8s.io/api/scheduling/v1alpha3 k8s.io/api/networking/v1 k8s.io/api/rbac/v1 k8s.io/api/storage/v1 k8s.io/api/node/v1 k8s.io/api/admissionregistration/v1 k8s.io/api/flowcontrol/v1 k8s.io/api/certificates/v1 k8s.io/kube-aggregator/pkg/apis/apiregistration/v1 k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1 k8s.io/apimachinery/pkg/apis/meta/v1 k8s.io/apimachinery/pkg/runtime k8s.io/apimachinery/pkg/util/intstr k8s.io/apimachinery/pkg/api/resource k8s.io/apimachinery/pkg/version
