package apiserver

import (
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"maps"
	"reflect"
	goruntime "runtime"
	"strconv"
	"time"

	"github.com/skiff-sh/skiff/internal/registry"
	"github.com/skiff-sh/skiff/internal/storage"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
)

type typesUID = types.UID

func secondsDuration(s int64) time.Duration { return time.Duration(s) * time.Second }

func specChanged(obj, old runtime.Object) bool {
	if reflect.TypeOf(obj) != reflect.TypeOf(old) {
		return true
	}
	return registry.SpecChanged(obj, old)
}

// generationChanged says whether an update through the main resource bumps metadata.generation: a spec change, or
// for a Deployment also an annotation change (its annotations are copied to its ReplicaSets, so kube-apiserver's
// deployment strategy counts them as intent).
func generationChanged(obj, old runtime.Object) bool {
	if d, ok := obj.(*appsv1.Deployment); ok {
		if od, ok := old.(*appsv1.Deployment); ok && !maps.Equal(d.Annotations, od.Annotations) {
			return true
		}
	}
	return specChanged(obj, old)
}

func fieldsOneTermSelector(k, v string) (fields.Selector, error) {
	return fields.OneTermEqualSelector(k, v), nil
}

func andFields(a, b fields.Selector) fields.Selector {
	if a.Empty() {
		return b
	}
	return fields.AndSelectors(a, b)
}

func itoa(i int) string { return strconv.Itoa(i) }

// Build information, set by the linker.
var (
	gitCommit = "unknown"
	buildDate = "1970-01-01T00:00:00Z"
)

func goVersion() string { return goruntime.Version() }
func platform() string  { return goruntime.GOOS + "/" + goruntime.GOARCH }

func notFoundPath() error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: 404, Reason: metav1.StatusReasonNotFound,
		Message: "the server could not find the requested resource", Details: &metav1.StatusDetails{},
	}}
}

func storageListAll() storage.ListOptions { return storage.ListOptions{} }
