package apiserver

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/strategicpatch"
	"sigs.k8s.io/yaml"
)

// patch applies a JSON, merge, strategic-merge or apply patch to the object (or its status).
func (s *APIServer) patch(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource, sub string) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	pt := contentType(r)
	force := r.URL.Query().Get("force")
	if force != "" && pt != mediaApply {
		return badRequest("force: Invalid value: %q: may not be specified for non-apply patch", force)
	}
	fv, err := fieldValidation(r)
	if err != nil {
		return err
	}
	switch pt {
	case mediaApply:
		return s.apply(w, r, ri, res, sub, data, wo, force == "true")
	case mediaJSONP, mediaMergeP, mediaSMP:
		if pt == mediaSMP && res.cr != nil {
			// Custom resources have no patch strategies to merge by, as upstream.
			return &apierrors.StatusError{ErrStatus: metav1.Status{
				Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
				Message: "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml",
			}}
		}
	default:
		return errUnsupportedMediaType(pt)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return badRequest("the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml")
	}
	out, err := s.updateObject(r.Context(), res, ri.Namespace, ri.Name, sub, wo, func(cur runtime.Object) (runtime.Object, error) {
		s.codecs.setTypeMeta(cur)
		orig, err := json.Marshal(cur)
		if err != nil {
			return nil, err
		}
		patched, err := applyPatch(pt, orig, data, res.New())
		if err != nil {
			return nil, err
		}
		obj, err := s.decodePatched(w, patched, res, fv)
		if err != nil {
			return nil, err
		}
		// A patch that does not set resourceVersion must not be checked against it.
		m := accessor(obj)
		var probe struct {
			Metadata struct {
				ResourceVersion *string `json:"resourceVersion"`
			} `json:"metadata"`
		}
		if pt != mediaJSONP {
			_ = json.Unmarshal(data, &probe)
			if probe.Metadata.ResourceVersion == nil {
				m.SetResourceVersion("")
			}
		} else if m.GetResourceVersion() == accessor(cur).GetResourceVersion() {
			m.SetResourceVersion("")
		}
		return obj, nil
	})
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
}

func applyPatch(pt string, orig, patch []byte, schemaObj runtime.Object) (out []byte, err error) {
	// The patch libraries panic on some malformed patches (json-patch v4: a root "replace" without a value);
	// those are the client's fault, not a server error.
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, invalidPatch(fmt.Errorf("invalid patch: %v", v))
		}
	}()
	switch pt {
	case mediaJSONP:
		p, err := jsonpatch.DecodePatch(patch)
		if err != nil {
			return nil, apierrors.NewBadRequest(err.Error())
		}
		out, err := p.Apply(orig)
		if err != nil {
			return nil, invalidPatch(err)
		}
		return out, nil
	case mediaMergeP:
		var probe map[string]any
		if err := json.Unmarshal(patch, &probe); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
		}
		out, err := jsonpatch.MergePatch(orig, patch)
		if err != nil {
			return nil, invalidPatch(err)
		}
		return out, nil
	case mediaSMP:
		var probe map[string]any
		if err := json.Unmarshal(patch, &probe); err != nil {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("error decoding patch: %v", err))
		}
		out, err := strategicpatch.StrategicMergePatch(orig, patch, schemaObj)
		if err != nil {
			return nil, invalidPatch(err)
		}
		return out, nil
	}
	return nil, errUnsupportedMediaType(pt)
}

func invalidPatch(err error) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnprocessableEntity, Reason: metav1.StatusReasonInvalid,
		Message: err.Error(),
	}}
}

// decodePatched decodes a patched JSON document into a typed object, with field validation.
func (s *APIServer) decodePatched(w http.ResponseWriter, patched []byte, res *resource, fv string) (runtime.Object, error) {
	gvk := res.GVK()
	dec := s.codecs.json
	if fv != "Ignore" {
		dec = s.codecs.jsonStrict
	}
	obj, _, err := dec.Decode(patched, &gvk, res.New())
	if err != nil {
		if runtime.IsStrictDecodingError(err) && obj != nil {
			if err := handleStrict(w, fv, err); err != nil {
				return nil, err
			}
		} else {
			return nil, invalidPatch(err)
		}
	}
	if res.cr != nil {
		if err := res.cr.unknownFields(w, fv, obj); err != nil {
			return nil, err
		}
	}
	return obj, nil
}

// apply runs a server-side apply; the object is created when it does not exist.
func (s *APIServer) apply(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource, sub string, data []byte, wo writeOptions, force bool) error {
	if r.URL.Query().Get("fieldManager") == "" {
		return apierrors.NewBadRequest("PATCH requests with application/apply-patch+yaml content type require the fieldManager query parameter")
	}
	patchMap := map[string]any{}
	if err := yaml.Unmarshal(data, &patchMap); err != nil {
		return apierrors.NewBadRequest(fmt.Sprintf("error decoding YAML: %v", err))
	}
	patchObj := &unstructured.Unstructured{Object: patchMap}
	fv, _ := fieldValidation(r)
	// Duplicate fields are checked after the field manager has accepted the patch, as kube-apiserver does.
	warned := false
	strictCheck := func() error {
		if fv == "Ignore" || warned {
			return nil
		}
		if err := yaml.UnmarshalStrict(data, &map[string]any{}); err != nil {
			if fv == "Strict" {
				return apierrors.NewBadRequest(fmt.Sprintf("error strict decoding YAML: %v", err))
			}
			addWarning(w, err.Error())
			warned = true
		}
		return nil
	}
	gvk := res.GVK()
	if res.cr != nil {
		if err := res.cr.pruneApplyPatch(w, fv, gvk, patchObj); err != nil {
			return err
		}
	}
	if pg := patchObj.GroupVersionKind(); pg.Kind == "" || pg.Version == "" {
		return badRequest("apiVersion and kind must be set in an apply patch")
	} else if pg != gvk {
		return badRequest("the API version in the data (%s) does not match the expected API version (%s)", pg.GroupVersion(), gvk.GroupVersion())
	}
	if n := patchObj.GetName(); n != "" && n != ri.Name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", n, ri.Name)
	}
	fm, err := s.fieldManager(res, sub)
	if err != nil {
		return err
	}
	ctx := r.Context()
	_, getErr := s.store.Get(ctx, res.keys.Key(ri.Namespace, ri.Name), res.storeNew)
	if getErr != nil && !apierrors.IsNotFound(toAPIError(getErr, res.GroupResource(), ri.Name)) {
		return getErr
	}
	if getErr != nil {
		if sub != "" {
			return getErr
		}
		live := res.New()
		m := accessor(live)
		m.SetName(ri.Name)
		m.SetNamespace(ri.Namespace)
		live.GetObjectKind().SetGroupVersionKind(gvk)
		obj, err := fm.Apply(live, patchObj, wo.manager, force)
		if err != nil {
			return applyError(err)
		}
		if err := strictCheck(); err != nil {
			return err
		}
		out, err := s.createObject(ctx, res, ri.Namespace, obj, wo, false)
		if err != nil {
			return err
		}
		return s.respondObject(w, r, res, http.StatusCreated, out)
	}
	out, err := s.updateObject(ctx, res, ri.Namespace, ri.Name, sub, writeOptions{dryRun: wo.dryRun, manager: wo.manager, skipFields: true}, func(cur runtime.Object) (runtime.Object, error) {
		cur.GetObjectKind().SetGroupVersionKind(gvk)
		obj, err := fm.Apply(cur, patchObj.DeepCopy(), wo.manager, force)
		if err != nil {
			return nil, applyError(err)
		}
		if err := strictCheck(); err != nil {
			return nil, err
		}
		accessor(obj).SetResourceVersion("")
		return obj, nil
	})
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
}

// applyError words a field manager's apply error as kube-apiserver does: a patch that does not fit the schema
// (an unknown or mistyped field) is the client's fault, 400 BadRequest with the field manager's text.
func applyError(err error) error {
	if _, ok := err.(apierrors.APIStatus); ok {
		return err
	}
	if strings.HasPrefix(err.Error(), "failed to create typed patch object") {
		return apierrors.NewBadRequest(err.Error())
	}
	return invalidPatch(err)
}

// patchScale patches the Scale view of a scalable object.
func (s *APIServer) patchScale(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	pt := contentType(r)
	return s.applyScale(w, r, ri, res, wo, func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) {
		orig, err := json.Marshal(cur)
		if err != nil {
			return nil, err
		}
		var patched []byte
		if pt == mediaApply {
			j, err := yaml.YAMLToJSON(data)
			if err != nil {
				return nil, apierrors.NewBadRequest(err.Error())
			}
			patched, err = jsonpatch.MergePatch(orig, j)
			if err != nil {
				return nil, invalidPatch(err)
			}
		} else {
			patched, err = applyPatch(pt, orig, data, &autoscalingv1.Scale{})
			if err != nil {
				return nil, err
			}
		}
		out := &autoscalingv1.Scale{}
		if err := json.Unmarshal(patched, out); err != nil {
			return nil, invalidPatch(err)
		}
		if !bytes.Contains(data, []byte("resourceVersion")) {
			out.ResourceVersion = ""
		}
		return out, nil
	})
}
