package apiserver

import (
	"net/http"

	"github.com/skiff-sh/skiff/internal/defaults"
	"github.com/skiff-sh/skiff/internal/validation"
	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// subEphemeral names the pods/ephemeralcontainers subresource in updateObject.
const subEphemeral = "ephemeralcontainers"

// serveEphemeralContainers serves pods/ephemeralcontainers (get, update, patch), the way `kubectl debug` adds a
// container to a running pod.
func (s *APIServer) serveEphemeralContainers(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	switch ri.Verb {
	case "get":
		return s.get(w, r, ri, res)
	case "update":
		return s.updateSubresource(w, r, ri, res, subEphemeral)
	case "patch":
		return s.patch(w, r, ri, res, subEphemeral)
	}
	return apierrors.NewMethodNotSupported(res.GroupResource(), r.Method)
}

// prepareEphemeralContainersUpdate is upstream's EphemeralContainersStrategy.PrepareForUpdate: the result is old with
// only obj's spec.ephemeralContainers (defaulted), and the generation moves on when they changed. obj is modified.
func prepareEphemeralContainersUpdate(obj, old runtime.Object) {
	p, ok := obj.(*corev1.Pod)
	op, ok2 := old.(*corev1.Pod)
	if !ok || !ok2 {
		return
	}
	ecs := p.Spec.EphemeralContainers
	meta := p.ObjectMeta
	metav1.ResetObjectMetaForStatus(&meta, &op.ObjectMeta)
	*p = *op.DeepCopy()
	p.ObjectMeta = meta
	p.Spec.EphemeralContainers = ecs
	defaults.Apply(p)
	if !apiequality.Semantic.DeepEqual(p.Spec, op.Spec) {
		p.Generation = op.Generation + 1
	}
}

// validateEphemeralContainersUpdate is EphemeralContainersStrategy.ValidateUpdate.
func validateEphemeralContainersUpdate(obj, old runtime.Object) field.ErrorList {
	p, ok := obj.(*corev1.Pod)
	op, ok2 := old.(*corev1.Pod)
	if !ok || !ok2 {
		return nil
	}
	return validation.ValidatePodEphemeralContainersUpdate(p, op)
}
