package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/skiff-sh/skiff/internal/storage"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// toAPIError maps any error to a Kubernetes StatusError for resource qualifiedResource named name.
func toAPIError(err error, gr schema.GroupResource, name string) *apierrors.StatusError {
	var se *apierrors.StatusError
	if errors.As(err, &se) {
		return se
	}
	var ee *storage.ExpiredError
	switch {
	case errors.As(err, &ee):
		return apierrors.NewResourceExpired(ee.Error())
	case errors.Is(err, storage.ErrNotFound):
		return apierrors.NewNotFound(gr, name)
	case errors.Is(err, storage.ErrAlreadyExists):
		return apierrors.NewAlreadyExists(gr, name)
	case errors.Is(err, storage.ErrConflict):
		return apierrors.NewConflict(gr, name, errors.New(optimisticLockMsg))
	case errors.Is(err, storage.ErrTooLarge):
		return apierrors.NewTimeoutError("Too large resource version", 1)
	case errors.Is(err, context.DeadlineExceeded):
		return apierrors.NewTimeoutError(err.Error(), 1)
	case errors.Is(err, context.Canceled):
		return apierrors.NewTimeoutError("request canceled", 1)
	}
	if status, ok := err.(apierrors.APIStatus); ok {
		return &apierrors.StatusError{ErrStatus: status.Status()}
	}
	return apierrors.NewInternalError(err)
}

const optimisticLockMsg = "the object has been modified; please apply your changes to the latest version and try again"

// writeError writes err as a Status.
func (s *APIServer) writeError(w http.ResponseWriter, r *http.Request, err error, gr schema.GroupResource, name string) {
	se := toAPIError(err, gr, name)
	st := se.ErrStatus
	if st.Code == 0 {
		st.Code = http.StatusInternalServerError
	}
	if st.Code >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	st.Kind, st.APIVersion = "Status", "v1"
	st.Status = metav1.StatusFailure
	if st.Code == http.StatusTooManyRequests && st.Details != nil && st.Details.RetryAfterSeconds > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(st.Details.RetryAfterSeconds)))
	}
	s.writeObject(w, r, int(st.Code), &st)
}

// writeObject writes obj as JSON (or protobuf/YAML when negotiated) with status code.
func (s *APIServer) writeObject(w http.ResponseWriter, r *http.Request, code int, obj runtime.Object) {
	n, _ := negotiate(r)
	n.kind = outObject
	if _, ok := obj.(*metav1.Status); ok {
		n.protobuf = false
	}
	s.codecs.setTypeMeta(obj)
	data, ct, err := s.codecs.encode(obj, n)
	if err != nil {
		s.log.Error("encode response", "err", err)
		http.Error(w, "encode failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(code)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

func statusSuccess(code int, details *metav1.StatusDetails) *metav1.Status {
	return &metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusSuccess,
		Code:     int32(code),
		Details:  details,
	}
}

func badRequest(format string, args ...any) error {
	return apierrors.NewBadRequest(fmt.Sprintf(format, args...))
}
