package apiserver

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	jsonserializer "k8s.io/apimachinery/pkg/runtime/serializer/json"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// Media types skiff reads and writes.
const (
	mediaJSON     = "application/json"
	mediaYAML     = "application/yaml"
	mediaProtobuf = "application/vnd.kubernetes.protobuf"
	mediaApply    = "application/apply-patch+yaml"
	mediaApplyCBR = "application/apply-patch+cbor"
	mediaJSONP    = "application/json-patch+json"
	mediaMergeP   = "application/merge-patch+json"
	mediaSMP      = "application/strategic-merge-patch+json"
)

// maxBodyBytes is the largest request body accepted (as kube-apiserver's 3 MiB).
const maxBodyBytes = 3 << 20

// codecs holds the serializers of one scheme.
type codecs struct {
	scheme     *runtime.Scheme
	json       *jsonserializer.Serializer
	jsonStrict *jsonserializer.Serializer
	yaml       *jsonserializer.Serializer
	yamlStrict *jsonserializer.Serializer
	pb         *protobuf.Serializer
}

func newCodecs(s *runtime.Scheme) *codecs {
	mf := jsonserializer.DefaultMetaFactory
	return &codecs{
		scheme:     s,
		json:       jsonserializer.NewSerializerWithOptions(mf, s, s, jsonserializer.SerializerOptions{}),
		jsonStrict: jsonserializer.NewSerializerWithOptions(mf, s, s, jsonserializer.SerializerOptions{Strict: true}),
		yaml:       jsonserializer.NewSerializerWithOptions(mf, s, s, jsonserializer.SerializerOptions{Yaml: true}),
		yamlStrict: jsonserializer.NewSerializerWithOptions(mf, s, s, jsonserializer.SerializerOptions{Yaml: true, Strict: true}),
		pb:         protobuf.NewSerializer(s, s),
	}
}

// readBody reads at most maxBodyBytes; a larger body is a 413.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBodyBytes+1))
	if err != nil {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("reading request body: %v", err))
	}
	if len(data) > maxBodyBytes {
		return nil, apierrors.NewRequestEntityTooLargeError(fmt.Sprintf("limit is %d", maxBodyBytes))
	}
	return data, nil
}

func contentType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return mediaJSON
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return ct
	}
	return mt
}

// fieldValidation returns Strict, Warn or Ignore (default Warn, as kube-apiserver).
func fieldValidation(r *http.Request) (string, error) {
	v := r.URL.Query().Get("fieldValidation")
	switch v {
	case "":
		return "Warn", nil
	case "Strict", "Warn", "Ignore":
		return v, nil
	}
	return "", apierrors.NewBadRequest(fmt.Sprintf("fieldValidation parameter unsupported: %q, must be one of Strict, Warn or Ignore", v))
}

// decodeBody decodes a create or update body into into, applying field validation.
// Warnings for Warn are added to w's headers.
func (c *codecs) decodeBody(w http.ResponseWriter, r *http.Request, data []byte, into runtime.Object, want schema.GroupVersionKind) (runtime.Object, error) {
	fv, err := fieldValidation(r)
	if err != nil {
		return nil, err
	}
	ct := contentType(r)
	var obj runtime.Object
	var gvk *schema.GroupVersionKind
	switch ct {
	case mediaJSON, "":
		s := c.json
		if fv != "Ignore" {
			s = c.jsonStrict
		}
		obj, gvk, err = s.Decode(data, &want, into)
	case mediaYAML, "application/x-yaml", "text/yaml":
		s := c.yaml
		if fv != "Ignore" {
			s = c.yamlStrict
		}
		obj, gvk, err = s.Decode(data, &want, into)
	case mediaProtobuf:
		obj, gvk, err = c.pb.Decode(data, &want, into)
	default:
		return nil, errUnsupportedMediaType(ct)
	}
	if err != nil {
		if runtime.IsStrictDecodingError(err) && obj != nil {
			if err := handleStrict(w, fv, err); err != nil {
				return nil, cannotBeHandled(want, err)
			}
		} else {
			return nil, cannotBeHandled(want, err)
		}
	}
	if gvk != nil && (gvk.Kind != want.Kind || gvk.GroupVersion() != want.GroupVersion()) {
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the API version in the data (%s) does not match the expected API version (%s)", gvk.GroupVersion(), want.GroupVersion()))
	}
	if obj != into {
		// Decoders may return a new object when into had the wrong type.
		return nil, apierrors.NewBadRequest(fmt.Sprintf("the body must be a %s", want.Kind))
	}
	return obj, nil
}

// cannotBeHandled words a decoding error as kube-apiserver does.
func cannotBeHandled(want schema.GroupVersionKind, err error) error {
	msg := err.Error()
	if se, ok := err.(*apierrors.StatusError); ok {
		msg = se.ErrStatus.Message
	}
	return apierrors.NewBadRequest(fmt.Sprintf("%s in version %q cannot be handled as a %s: %s", want.Kind, want.Version, want.Kind, msg))
}

// handleStrict turns strict decoding errors into a 400 (Strict) or Warning headers (Warn).
func handleStrict(w http.ResponseWriter, fv string, err error) error {
	sde, ok := runtime.AsStrictDecodingError(err)
	if !ok {
		return nil
	}
	switch fv {
	case "Strict":
		return apierrors.NewBadRequest(sde.Error())
	case "Warn":
		for _, e := range sde.Errors() {
			addWarning(w, e.Error())
		}
	}
	return nil
}

func addWarning(w http.ResponseWriter, msg string) {
	w.Header().Add("Warning", fmt.Sprintf("299 - %q", msg))
}

// outputKind is what the client asked the response to be.
type outputKind int

const (
	outObject outputKind = iota
	outTable
	outPartialMetadata
)

// negotiated is the outcome of reading Accept.
type negotiated struct {
	kind     outputKind
	protobuf bool
	yaml     bool
	// list says the client asked for as=PartialObjectMetadataList rather than as=PartialObjectMetadata.
	list bool
}

// negotiate picks the response form from Accept for an endpoint that can answer with a Table; ok is false when
// nothing acceptable is offered (406).
func negotiate(r *http.Request) (negotiated, bool) { return negotiateFor(r, true) }

// negotiateFor picks the response form from Accept; an endpoint without a table (table false) skips the as=Table
// offers, as kube-apiserver's negotiation skips them for storage that is no TableConvertor.
func negotiateFor(r *http.Request, table bool) (negotiated, bool) {
	accept := r.Header.Get("Accept")
	if accept == "" {
		return negotiated{}, true
	}
	for _, part := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		as, g, v := params["as"], params["g"], params["v"]
		var n negotiated
		switch mt {
		case mediaJSON, "*/*", "application/*":
		case mediaProtobuf:
			n.protobuf = true
		case mediaYAML:
			n.yaml = true
		default:
			continue
		}
		switch {
		case as == "":
		case as == "Table" && g == "meta.k8s.io" && (v == "v1" || v == "v1beta1"):
			if !table || n.protobuf {
				continue // kube-apiserver serves tables as JSON or YAML only
			}
			n.kind = outTable
		case (as == "PartialObjectMetadata" || as == "PartialObjectMetadataList") && g == "meta.k8s.io" && (v == "v1" || v == "v1beta1"):
			n.kind = outPartialMetadata
			n.list = as == "PartialObjectMetadataList"
		default:
			continue
		}
		return n, true
	}
	return negotiated{}, false
}

// withoutTableOffers returns accept without its as=Table media ranges.
func withoutTableOffers(accept string) string {
	parts := strings.Split(accept, ",")
	kept := parts[:0]
	for _, part := range parts {
		if _, params, err := mime.ParseMediaType(strings.TrimSpace(part)); err == nil && params["as"] == "Table" {
			continue
		}
		kept = append(kept, part)
	}
	return strings.Join(kept, ",")
}

// encode writes obj in the negotiated form.
func (c *codecs) encode(obj runtime.Object, n negotiated) ([]byte, string, error) {
	var buf bytes.Buffer
	switch {
	case n.protobuf:
		if _, ok := obj.(interface{ Marshal() ([]byte, error) }); ok {
			if err := c.pb.Encode(obj, &buf); err == nil {
				return buf.Bytes(), mediaProtobuf, nil
			}
			buf.Reset()
		}
	case n.yaml:
		if err := c.yaml.Encode(obj, &buf); err != nil {
			return nil, "", err
		}
		return buf.Bytes(), mediaYAML, nil
	}
	if err := c.json.Encode(obj, &buf); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), mediaJSON, nil
}

// withTypeMeta returns obj when its apiVersion and kind are set, otherwise a shallow copy of it with them set: the
// copy shares all other data with obj, which may be a cached object that must not be modified, so it is only for
// reading (encoding).
func (c *codecs) withTypeMeta(obj runtime.Object) runtime.Object {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return obj
	}
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer || v.Elem().Kind() != reflect.Struct {
		obj = obj.DeepCopyObject()
		c.setTypeMeta(obj)
		return obj
	}
	cp := reflect.New(v.Elem().Type())
	cp.Elem().Set(v.Elem())
	out := cp.Interface().(runtime.Object)
	c.setTypeMeta(out)
	return out
}

// setTypeMeta fills apiVersion and kind from the scheme when they are empty.
func (c *codecs) setTypeMeta(obj runtime.Object) {
	if !obj.GetObjectKind().GroupVersionKind().Empty() {
		return
	}
	switch obj.(type) {
	case *metav1.Table:
		obj.GetObjectKind().SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("Table"))
		return
	case *metav1.PartialObjectMetadata:
		obj.GetObjectKind().SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
		return
	case *metav1.PartialObjectMetadataList:
		obj.GetObjectKind().SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadataList"))
		return
	case *metav1.Status:
		obj.GetObjectKind().SetGroupVersionKind(schema.GroupVersionKind{Version: "v1", Kind: "Status"})
		return
	}
	if gvks, _, err := c.scheme.ObjectKinds(obj); err == nil && len(gvks) > 0 {
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
}

func errUnsupportedMediaType(ct string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusUnsupportedMediaType, Reason: metav1.StatusReasonUnsupportedMediaType,
		Message: fmt.Sprintf("the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got %q)", ct),
	}}
}

func errNotAcceptable(_ string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotAcceptable, Reason: metav1.StatusReasonNotAcceptable,
		Message: "only the following media types are accepted: application/json, application/yaml, application/vnd.kubernetes.protobuf",
	}}
}

// errNotAcceptableTransform is kube-apiserver's 406 when the negotiated transformation does not fit the response.
func errNotAcceptableTransform(msg string) error {
	return &apierrors.StatusError{ErrStatus: metav1.Status{
		Status: metav1.StatusFailure, Code: http.StatusNotAcceptable, Reason: metav1.StatusReasonNotAcceptable, Message: msg,
	}}
}

// checkPartialKind answers 406 when the client asked for PartialObjectMetadataList for one object, or for
// PartialObjectMetadata for a list, as kube-apiserver does; typeName names the response type.
func checkPartialKind(n negotiated, isList bool, typeName string) error {
	switch {
	case n.kind != outPartialMetadata:
	case n.list && !isList:
		return errNotAcceptableTransform(fmt.Sprintf("you requested PartialObjectMetadataList, but the requested object is not a list (%s)", typeName))
	case !n.list && isList:
		return errNotAcceptableTransform(fmt.Sprintf("you requested PartialObjectMetadata, but the requested object is a list (%s)", typeName))
	}
	return nil
}

// internalTypeName names a kind as kube-apiserver's internal type (*core.Pod, *apps.Deployment), the type its
// errors print.
func internalTypeName(gvk schema.GroupVersionKind) string {
	pkg := gvk.Group
	if i := strings.IndexByte(pkg, '.'); i >= 0 {
		pkg = pkg[:i]
	}
	switch gvk.Group {
	case "", "events.k8s.io":
		pkg = "core"
	}
	return "*" + pkg + "." + gvk.Kind
}
