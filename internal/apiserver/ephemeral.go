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
		return s.updateEphemeralContainers(w, r, ri, res)
	case "patch":
		return s.patch(w, r, ri, res, subEphemeral)
	}
	return apierrors.NewMethodNotSupported(res.GroupResource(), r.Method)
}

// updateEphemeralContainers is a PUT of a whole Pod of which only spec.ephemeralContainers is used.
func (s *APIServer) updateEphemeralContainers(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(w, r, data, res.New(), res.GVK())
	if err != nil {
		return err
	}
	if m := accessor(obj); m.GetName() != ri.Name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), ri.Name)
	}
	out, err := s.updateObject(r.Context(), res, ri.Namespace, ri.Name, subEphemeral, wo, func(runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	})
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
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
