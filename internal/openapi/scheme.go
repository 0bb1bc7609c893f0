package openapi

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	networkingv1 "k8s.io/api/networking/v1"
	nodev1 "k8s.io/api/node/v1"
	policyv1 "k8s.io/api/policy/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	storagev1 "k8s.io/api/storage/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
	"k8s.io/kube-openapi/pkg/util"
	"k8s.io/kube-openapi/pkg/validation/spec"
)

// extensionGVK is the vendor extension kubectl uses to map schemas and
// operations to kinds.
const extensionGVK = "x-kubernetes-group-version-kind"

// newScheme registers the API groups whose definitions are generated (see
// generate.go). It maps a route's GVK to a Go type, and a Go type to the GVKs
// that appear in its definition's x-kubernetes-group-version-kind.
func newScheme() (*runtime.Scheme, error) {
	s := runtime.NewScheme()
	b := runtime.NewSchemeBuilder(
		corev1.AddToScheme,
		appsv1.AddToScheme,
		batchv1.AddToScheme,
		coordinationv1.AddToScheme,
		discoveryv1.AddToScheme,
		eventsv1.AddToScheme,
		policyv1.AddToScheme,
		schedulingv1.AddToScheme,
		autoscalingv1.AddToScheme,
		autoscalingv2.AddToScheme,
		authenticationv1.AddToScheme,
		authorizationv1.AddToScheme,
		networkingv1.AddToScheme,
		rbacv1.AddToScheme,
		storagev1.AddToScheme,
		nodev1.AddToScheme,
		apiextv1.AddToScheme,
		admissionregistrationv1.AddToScheme,
		flowcontrolv1.AddToScheme,
		certificatesv1.AddToScheme,
		apiregistrationv1.AddToScheme,
	)
	if err := b.AddToScheme(s); err != nil {
		return nil, fmt.Errorf("openapi: scheme: %w", err)
	}
	return s, nil
}

// definitionNamer names definitions and tags the ones that are API kinds with
// their GVKs. It mirrors k8s.io/apiserver/pkg/endpoints/openapi.DefinitionNamer.
type definitionNamer struct {
	gvks map[string][]metav1.GroupVersionKind // by model name
}

func newDefinitionNamer(s *runtime.Scheme) *definitionNamer {
	d := &definitionNamer{gvks: map[string][]metav1.GroupVersionKind{}}
	for gvk, t := range s.AllKnownTypes() {
		if gvk.Version == runtime.APIVersionInternal {
			continue
		}
		name := modelName(t)
		g := metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}
		dup := false
		for _, have := range d.gvks[name] {
			if have == g {
				dup = true
				break
			}
		}
		if !dup {
			d.gvks[name] = append(d.gvks[name], g)
		}
	}
	for _, l := range d.gvks {
		sort.Slice(l, func(i, j int) bool {
			if l[i].Group != l[j].Group {
				return l[i].Group < l[j].Group
			}
			if l[i].Version != l[j].Version {
				return l[i].Version < l[j].Version
			}
			return l[i].Kind < l[j].Kind
		})
	}
	return d
}

// GetDefinitionName implements common.Config.GetDefinitionName.
func (d *definitionNamer) GetDefinitionName(name string) (string, spec.Extensions) {
	friendly := name
	if strings.Contains(name, "/") { // a Go path rather than an OpenAPIModelName
		friendly = util.ToRESTFriendlyName(name)
	}
	if gvks, ok := d.gvks[name]; ok {
		return friendly, spec.Extensions{extensionGVK: gvks}
	}
	return friendly, nil
}

// modelName is the definition key openapi-gen uses for t: its
// OpenAPIModelName, or the Go package path and type name.
func modelName(t reflect.Type) string {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return util.GetCanonicalTypeName(reflect.New(t).Interface())
}

// newObject returns a zero object of kind gvk, for the builders' type lookups.
func newObject(s *runtime.Scheme, gvk schema.GroupVersionKind) (runtime.Object, error) {
	obj, err := s.New(gvk)
	if err != nil {
		return nil, fmt.Errorf("kind %s: %w (is its group in generate.go and scheme.go?)", gvk, err)
	}
	return obj, nil
}
