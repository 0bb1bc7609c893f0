package apiserver

import (
	"context"

	"github.com/skiff-sh/skiff/internal/certificates"
	certificatesv1 "k8s.io/api/certificates/v1"

	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	admissionv1 "k8s.io/api/admission/v1"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/google/uuid"
	"github.com/skiff-sh/skiff/internal/defaults"
	"github.com/skiff-sh/skiff/internal/storage"
	"github.com/skiff-sh/skiff/internal/validation"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/fields"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/duration"
	utilrand "k8s.io/apimachinery/pkg/util/rand"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func accessor(obj runtime.Object) metav1.Object {
	m, err := meta.Accessor(obj)
	if err != nil {
		panic(fmt.Sprintf("object %T has no metadata: %v", obj, err))
	}
	return m
}

// writeOptions are the query parameters every write shares.
type writeOptions struct {
	dryRun  bool
	manager string
	// skipFields leaves managedFields alone (server-side apply has already set them).
	skipFields bool
}

func parseWriteOptions(r *http.Request) (writeOptions, error) {
	q := r.URL.Query()
	var o writeOptions
	for _, d := range q["dryRun"] {
		if d != "All" {
			return o, badRequest("dryRun: Unsupported value: %q: supported values: \"All\"", d)
		}
		o.dryRun = true
	}
	o.manager = q.Get("fieldManager")
	if len(o.manager) > 128 {
		return o, apierrors.NewInvalid(schema.GroupKind{}, "", field.ErrorList{field.TooLong(field.NewPath("fieldManager"), "", 128)})
	}
	if o.manager == "" {
		ua := r.Header.Get("User-Agent")
		if i := strings.Index(ua, "/"); i >= 0 {
			ua = ua[:i]
		}
		o.manager = ua
		if len(o.manager) > 128 {
			o.manager = o.manager[:128]
		}
	}
	return o, nil
}

func (s *APIServer) serveResource(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	r = r.WithContext(withWarnings(r.Context(), w.Header()))
	if ri.Resource == "bindings" && ri.Group == "" && ri.Verb == "create" {
		if r, ok := s.tablelessRequest(w, r, schema.GroupResource{Resource: "bindings"}); ok {
			s.serveBindingCollection(w, r, ri)
		}
		return
	}
	res := s.lookup(ri)
	if res == nil && s.serveReview(w, r, ri) {
		return
	}
	if res == nil && s.subresourceHook != nil && s.subresourceHook(w, r, ri) {
		return // a group served elsewhere (metrics.k8s.io, see nodeproxy.go)
	}
	if res == nil || (!res.Namespaced && ri.Namespace != "") {
		s.writeError(w, r, notFoundPath(), schema.GroupResource{}, "")
		return
	}
	gr := res.GroupResource()
	if ri.Subresource != "" {
		if tablelessSubresources[ri.Subresource] {
			var ok bool
			if r, ok = s.tablelessRequest(w, r, gr); !ok {
				return
			}
		}
		s.serveSubresource(w, r, ri, res)
		return
	}
	var err error
	switch ri.Verb {
	case "get":
		err = s.get(w, r, ri, res)
	case "list":
		err = s.list(w, r, ri, res)
	case "watch":
		err = s.watch(w, r, ri, res)
	case "create":
		if ri.Name != "" {
			err = apierrors.NewMethodNotSupported(gr, "create")
			break
		}
		err = s.create(w, r, ri, res)
	case "update":
		err = s.update(w, r, ri, res)
	case "patch":
		err = s.patch(w, r, ri, res, "")
	case "delete":
		err = s.delete(w, r, ri, res)
	case "deletecollection":
		if !hasVerb(res.VerbList(), "deletecollection") {
			err = apierrors.NewMethodNotSupported(gr, "delete")
			break
		}
		err = s.deleteCollection(w, r, ri, res)
	default:
		err = apierrors.NewMethodNotSupported(gr, r.Method)
	}
	if err != nil {
		s.writeError(w, r, err, gr, ri.Name)
	}
}

func hasVerb(verbs []string, v string) bool {
	for _, x := range verbs {
		if x == v {
			return true
		}
	}
	return false
}

func (s *APIServer) get(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	obj, err := s.store.Get(r.Context(), res.keys.Key(ri.Namespace, ri.Name), res.storeNew)
	if err != nil {
		return err
	}
	if obj, err = res.external(obj); err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, obj)
}

// respondObject writes one object in the negotiated form (object, Table or PartialObjectMetadata).
func (s *APIServer) respondObject(w http.ResponseWriter, r *http.Request, res *resource, code int, obj runtime.Object) error {
	n, ok := negotiate(r)
	if !ok {
		return errNotAcceptable(r.Header.Get("Accept"))
	}
	if err := checkPartialKind(n, false, internalTypeName(res.GVK())); err != nil {
		return err
	}
	switch n.kind {
	case outTable:
		t, err := s.toTable(r, res, []runtime.Object{obj}, accessor(obj).GetResourceVersion(), "", nil)
		if err != nil {
			return err
		}
		s.writeObject(w, r, code, t)
		return nil
	case outPartialMetadata:
		s.writeObject(w, r, code, partialMetadata(obj, res))
		return nil
	}
	s.codecs.setTypeMeta(obj)
	s.writeObject(w, r, code, obj)
	return nil
}

// tablelessSubresources are the subresources whose kube-apiserver storage has no table (BindingREST, EvictionREST,
// FinalizeREST): a request for a Table of them is a 406.
var tablelessSubresources = map[string]bool{"binding": true, "eviction": true, "finalize": true}

// tablelessRequest answers 406 (and false) when r's Accept offers only Tables, else returns r with the as=Table
// offers dropped from Accept so that every later negotiation agrees.
func (s *APIServer) tablelessRequest(w http.ResponseWriter, r *http.Request, gr schema.GroupResource) (*http.Request, bool) {
	if _, err := negotiateNoTable(r); err != nil {
		s.writeError(w, r, err, gr, "")
		return r, false
	}
	accept := r.Header.Get("Accept")
	if kept := withoutTableOffers(accept); kept != accept {
		r = r.Clone(r.Context())
		r.Header.Set("Accept", kept)
	}
	return r, true
}

// negotiateNoTable reads Accept for an endpoint whose storage has no table (the reviews, pods/binding,
// pods/eviction, namespaces/finalize): an Accept that offers only as=Table is a 406 before the request runs.
func negotiateNoTable(r *http.Request) (negotiated, error) {
	n, ok := negotiateFor(r, false)
	if !ok {
		return n, errNotAcceptable(r.Header.Get("Accept"))
	}
	return n, nil
}

// respondNoTable writes the result of such an endpoint in the form n negotiated: a Status as it is, anything else
// as itself or its PartialObjectMetadata; typeName names obj's type in kube-apiserver's 406 message.
func (s *APIServer) respondNoTable(w http.ResponseWriter, r *http.Request, n negotiated, code int, obj runtime.Object, typeName string) error {
	if _, ok := obj.(*metav1.Status); !ok && n.kind == outPartialMetadata {
		if err := checkPartialKind(n, false, typeName); err != nil {
			return err
		}
		s.writeObject(w, r, code, partialMetadata(obj, nil))
		return nil
	}
	s.codecs.setTypeMeta(obj)
	s.writeObject(w, r, code, obj)
	return nil
}

// scaleColumns are kube-apiserver's table columns for autoscaling/v1 Scale.
var scaleColumns = []metav1.TableColumnDefinition{
	{Name: "Name", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]},
	{Name: "Desired", Type: "integer", Description: autoscalingv1.ScaleSpec{}.SwaggerDoc()["replicas"]},
	{Name: "Available", Type: "integer", Description: autoscalingv1.ScaleStatus{}.SwaggerDoc()["replicas"]},
	{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
}

// respondScale writes a scale subresource's Scale in the negotiated form (object, Table or PartialObjectMetadata).
func (s *APIServer) respondScale(w http.ResponseWriter, r *http.Request, sc *autoscalingv1.Scale) error {
	n, ok := negotiate(r)
	if !ok {
		return errNotAcceptable(r.Header.Get("Accept"))
	}
	if err := checkPartialKind(n, false, "*autoscaling.Scale"); err != nil {
		return err
	}
	switch n.kind {
	case outPartialMetadata:
		s.writeObject(w, r, http.StatusOK, partialMetadata(sc, nil))
		return nil
	case outTable:
		include := r.URL.Query().Get("includeObject")
		row := metav1.TableRow{Cells: []interface{}{sc.Name, int64(sc.Spec.Replicas), int64(sc.Status.Replicas), "<unknown>"}}
		if !sc.CreationTimestamp.IsZero() {
			row.Cells[3] = duration.HumanDuration(s.clock.Now().Sub(sc.CreationTimestamp.Time))
		}
		switch include {
		case "", "Metadata":
			row.Object = runtime.RawExtension{Object: partialMetadata(sc, nil)}
		case "Object":
			row.Object = runtime.RawExtension{Object: sc}
		case "None":
		default:
			return badRequest("includeObject: Unsupported value: %q: supported values: \"Metadata\", \"None\", \"Object\"", include)
		}
		t := &metav1.Table{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"}, Rows: []metav1.TableRow{row}}
		t.ResourceVersion = sc.ResourceVersion
		t.ColumnDefinitions = append([]metav1.TableColumnDefinition(nil), scaleColumns...)
		s.writeObject(w, r, http.StatusOK, t)
		return nil
	}
	s.writeObject(w, r, http.StatusOK, sc)
	return nil
}

func partialMetadata(obj runtime.Object, res *resource) *metav1.PartialObjectMetadata {
	p := &metav1.PartialObjectMetadata{
		TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadata"},
	}
	if oma, ok := obj.(metav1.ObjectMetaAccessor); ok {
		if om, ok := oma.GetObjectMeta().(*metav1.ObjectMeta); ok {
			p.ObjectMeta = *om
		}
	} else if u, ok := obj.(*unstructured.Unstructured); ok {
		// A custom resource keeps its metadata as JSON: convert it.
		if m, ok := u.Object["metadata"].(map[string]any); ok {
			_ = runtime.DefaultUnstructuredConverter.FromUnstructured(m, &p.ObjectMeta)
		}
	}
	return p
}

// filter is a compiled label and field selector for one resource.
type filter struct {
	label labels.Selector
	field fields.Selector
	res   *resource
}

func (f *filter) empty() bool { return f.label.Empty() && f.field.Empty() }

// match reports whether a stored object passes the selectors (field names are those of the served form).
func (f *filter) match(obj runtime.Object) bool {
	if f.res.cr != nil && f.field.Empty() {
		// A custom resource's labels and name do not change with its version: no conversion needed.
	} else if conv, err := f.res.external(obj); err != nil {
		return false
	} else {
		obj = conv
	}
	m := accessor(obj)
	if !f.label.Empty() && !f.label.Matches(labels.Set(m.GetLabels())) {
		return false
	}
	if !f.field.Empty() && !f.field.Matches(f.res.FieldSet(obj, m)) {
		return false
	}
	return true
}

func (s *APIServer) parseFilter(r *http.Request, res *resource) (*filter, error) {
	q := r.URL.Query()
	ls, err := labels.Parse(q.Get("labelSelector"))
	if err != nil {
		return nil, badRequest("unable to parse requirement: %v", err)
	}
	fs, err := fields.ParseSelector(q.Get("fieldSelector"))
	if err != nil {
		return nil, badRequest("%v", err)
	}
	sample := res.New()
	for _, req := range fs.Requirements() {
		if !res.SupportsField(sample, req.Field) {
			return nil, badRequest("field label not supported: %s", req.Field)
		}
	}
	return &filter{label: ls, field: fs, res: res}, nil
}

// continueToken is kube-apiserver's list continuation format.
type continueToken struct {
	APIVersion      string `json:"v"`
	ResourceVersion int64  `json:"rv"`
	StartKey        string `json:"start"`
}

func encodeContinue(rev int64, key, prefix string) string {
	b, _ := json.Marshal(continueToken{APIVersion: "meta.k8s.io/v1", ResourceVersion: rev, StartKey: strings.TrimPrefix(key, prefix)})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeContinue reads a continue token as kube-apiserver's storage.DecodeContinue does: the start key (under
// prefix, never above it) and the revision to read at, where -1 means the latest (the token of a 410 Expired).
func decodeContinue(tok, prefix string) (int64, string, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", fmt.Errorf("continue key is not valid: %w", err)
	}
	var ct continueToken
	if err := json.Unmarshal(b, &ct); err != nil {
		return 0, "", fmt.Errorf("continue key is not valid: %w", err)
	}
	if ct.APIVersion != "meta.k8s.io/v1" {
		return 0, "", fmt.Errorf("continue key is not valid: server does not recognize this encoded version %v", ct.APIVersion)
	}
	if ct.ResourceVersion == 0 {
		return 0, "", errors.New("continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
	}
	if ct.StartKey == "" {
		return 0, "", errors.New("continue key is not valid: encoded start key empty (version meta.k8s.io/v1)")
	}
	key := ct.StartKey
	if !strings.HasPrefix(key, "/") {
		key = "/" + key
	}
	if path.Clean(key) != key {
		return 0, "", fmt.Errorf("continue key is not valid: %v", ct.StartKey)
	}
	return ct.ResourceVersion, prefix + key[1:], nil
}

// inconsistentContinue is kube-apiserver's message for a continue token whose revision was compacted away.
const inconsistentContinue = "The provided continue parameter is too old " +
	"to display a consistent list result. You can start a new list without " +
	"the continue parameter, or use the continue token in this response to " +
	"retrieve the remainder of the results. Continuing with the provided " +
	"token results in an inconsistent list - objects that were created, " +
	"modified, or deleted between the time the first chunk was returned " +
	"and now may show up in the list."

// continueExpired is the 410 for a compacted continue token: it carries a token that goes on from the same key at the
// latest revision (resourceVersion -1), as kube-apiserver's handleCompactedErrorForPaging.
func continueExpired(startKey, prefix string) error {
	err := apierrors.NewResourceExpired(inconsistentContinue)
	err.ErrStatus.ListMeta.Continue = encodeContinue(-1, startKey, prefix)
	return err
}

func parseRV(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, apierrors.NewBadRequest(fmt.Sprintf("invalid resource version: %q", s))
	}
	return v, nil
}

func (s *APIServer) list(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	q := r.URL.Query()
	f, err := s.parseFilter(r, res)
	if err != nil {
		return err
	}
	n, ok := negotiate(r)
	if !ok {
		return errNotAcceptable(r.Header.Get("Accept"))
	}
	if err := checkPartialKind(n, true, internalTypeName(res.GVK())+"List"); err != nil {
		return err
	}
	rvStr, rvMatch, cont := q.Get("resourceVersion"), q.Get("resourceVersionMatch"), q.Get("continue")
	rv, err := parseRV(rvStr)
	if err != nil {
		return err
	}
	var limit int64
	if l := q.Get("limit"); l != "" {
		if limit, err = strconv.ParseInt(l, 10, 64); err != nil || limit < 0 {
			return badRequest("invalid limit: %q", l)
		}
	}
	switch rvMatch {
	case "", "NotOlderThan", "Exact":
	default:
		return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
			field.NotSupported(field.NewPath("resourceVersionMatch"), rvMatch, []string{"Exact", "NotOlderThan", ""})})
	}
	if rvMatch != "" && rvStr == "" {
		return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
			field.Forbidden(field.NewPath("resourceVersionMatch"), "resourceVersionMatch is forbidden unless resourceVersion is provided")})
	}
	if rvMatch != "" && cont != "" {
		return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
			field.Forbidden(field.NewPath("resourceVersionMatch"), "resourceVersionMatch is forbidden when continue is provided")})
	}
	prefix := res.keys.Prefix(ri.Namespace)
	var items []runtime.Object
	var listRV int64
	var next string
	var remaining *int64
	fromCache := cont == "" && ((rvStr == "0" && rvMatch != "Exact") || (rvMatch == "NotOlderThan" && rv > 0 && rv <= res.cacher.Revision()))
	if fromCache {
		var match func(runtime.Object) bool
		if !f.empty() {
			match = f.match
		}
		items, listRV = res.cacher.List(prefix, match)
	} else {
		opts := storage.ListOptions{Limit: limit}
		if !f.empty() {
			opts.Filter = f.match
		}
		if cont != "" {
			crv, start, err := decodeContinue(cont, prefix)
			if err != nil {
				return badRequest("invalid continue token: %v", err)
			}
			if rvStr != "" && rvStr != "0" {
				return badRequest("specifying resource version is not allowed when using continue")
			}
			opts.StartKey = start
			if crv > 0 { // -1: continue at the latest revision
				opts.Revision = crv
			}
		} else if rvMatch == "Exact" {
			opts.Revision = rv
		}
		lr, err := s.store.List(r.Context(), prefix, opts, res.storeNew)
		if err != nil {
			var ee *storage.ExpiredError
			if errors.As(err, &ee) && cont != "" {
				return continueExpired(opts.StartKey, prefix)
			}
			return err
		}
		items, listRV = lr.Items, lr.Revision
		if lr.NextKey != "" {
			next = encodeContinue(listRV, lr.NextKey, prefix)
			if f.empty() {
				rem := lr.Remaining
				remaining = &rem
			}
		}
	}
	if res.view {
		conv := make([]runtime.Object, len(items))
		for i, o := range items {
			if conv[i], err = res.external(o); err != nil {
				return err
			}
		}
		items = conv
	}
	rvOut := strconv.FormatInt(listRV, 10)
	switch n.kind {
	case outTable:
		t, err := s.toTable(r, res, items, rvOut, next, remaining)
		if err != nil {
			return err
		}
		s.writeObject(w, r, http.StatusOK, t)
		return nil
	case outPartialMetadata:
		pl := &metav1.PartialObjectMetadataList{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "PartialObjectMetadataList"}}
		pl.ResourceVersion, pl.Continue, pl.RemainingItemCount = rvOut, next, remaining
		for _, o := range items {
			pl.Items = append(pl.Items, *partialMetadata(o, res))
		}
		s.writeObject(w, r, http.StatusOK, pl)
		return nil
	}
	list := res.NewList()
	if err := meta.SetList(list, items); err != nil {
		return err
	}
	lm, err := meta.ListAccessor(list)
	if err != nil {
		return err
	}
	lm.SetResourceVersion(rvOut)
	lm.SetContinue(next)
	lm.SetRemainingItemCount(remaining)
	s.codecs.setTypeMeta(list)
	s.writeObject(w, r, http.StatusOK, list)
	return nil
}

func (s *APIServer) create(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeResource(w, r, data, res)
	if err != nil {
		return err
	}
	out, err := s.createObject(r.Context(), res, ri.Namespace, obj, wo, true)
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusCreated, out)
}

// createObject runs the create path: server metadata, defaults, admission, validation, managed fields, storage.
func (s *APIServer) createObject(ctx context.Context, res *resource, ns string, obj runtime.Object, wo writeOptions, trackFields bool) (runtime.Object, error) {
	m := accessor(obj)
	if res.Namespaced {
		if m.GetNamespace() == "" {
			m.SetNamespace(ns)
		} else if ns != "" && m.GetNamespace() != ns {
			return nil, badRequest("the namespace of the provided object does not match the namespace sent on the request")
		}
		if m.GetNamespace() == "" {
			return nil, badRequest("the namespace of the provided object is missing")
		}
	} else {
		m.SetNamespace("")
	}
	if m.GetName() == "" && m.GetGenerateName() != "" {
		m.SetName(m.GetGenerateName() + utilrand.String(5))
	}
	if res.cr != nil && res.cr.terminating {
		err := apierrors.NewMethodNotSupported(res.GroupResource(), "create")
		err.ErrStatus.Message = "create not allowed while custom resource definition is terminating"
		return nil, err
	}
	res.ResetStatus(obj)
	if res.cr != nil {
		res.cr.resetStatus(obj, nil)
	}
	prepareForCreate(ctx, obj)
	convertStringData(obj)
	// Defaults first: some defaults apply only to objects that look new (no uid yet).
	m.SetUID("")
	m.SetResourceVersion("")
	defaults.Apply(obj)
	if res.cr != nil {
		res.cr.prepare(obj)
	}
	now := metav1.NewTime(s.clock.Now().Truncate(1e9))
	m.SetUID(uuidNew())
	m.SetCreationTimestamp(now)
	m.SetDeletionTimestamp(nil)
	m.SetDeletionGracePeriodSeconds(nil)
	m.SetResourceVersion("")
	m.SetSelfLink("")
	if res.Generation {
		m.SetGeneration(1)
	} else {
		m.SetGeneration(0)
	}
	if err := s.admitCreate(ctx, res, obj); err != nil {
		return nil, err
	}
	if err := s.mutateByWebhooks(ctx, res, admissionv1.Create, "", &obj, nil, wo.dryRun); err != nil {
		s.releaseAllocations(ctx, res, obj, nil)
		return nil, err
	}
	m = accessor(obj)
	if errs := validateCreate(res, obj); len(errs) > 0 {
		s.releaseAllocations(ctx, res, obj, nil)
		return nil, apierrors.NewInvalid(res.GVK().GroupKind(), m.GetName(), errs)
	}
	if err := s.validateByWebhooks(ctx, res, admissionv1.Create, "", obj, nil, wo.dryRun); err != nil {
		s.releaseAllocations(ctx, res, obj, nil)
		return nil, err
	}
	if err := s.admitQuota(ctx, res, obj, wo.dryRun); err != nil {
		return nil, err
	}
	if trackFields {
		fm, err := s.fieldManager(res, "")
		if err != nil {
			return nil, err
		}
		if out, err := fm.Update(res.New(), obj, wo.manager); err == nil {
			obj = out
			m = accessor(obj)
		}
	}
	if wo.dryRun {
		s.releaseAllocations(ctx, res, obj, nil)
		return obj, nil
	}
	toStore, err := res.stored(obj)
	if err != nil {
		s.releaseAllocations(ctx, res, obj, nil)
		return nil, err
	}
	out, err := s.store.Create(ctx, res.keys.Key(m.GetNamespace(), m.GetName()), toStore)
	if err != nil {
		s.releaseAllocations(ctx, res, obj, nil)
		if errors.Is(err, storage.ErrAlreadyExists) {
			// The request URL names no object; the error must name the one that exists.
			return nil, apierrors.NewAlreadyExists(res.GroupResource(), m.GetName())
		}
		return nil, err
	}
	return res.external(out)
}

func uuidNew() typesUID { return typesUID(uuid.NewString()) }

func (s *APIServer) update(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeResource(w, r, data, res)
	if err != nil {
		return err
	}
	m := accessor(obj)
	if m.GetName() != ri.Name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), ri.Name)
	}
	if res.Namespaced && m.GetNamespace() != "" && m.GetNamespace() != ri.Namespace {
		return badRequest("the namespace of the provided object does not match the namespace sent on the request")
	}
	out, err := s.updateObject(r.Context(), res, ri.Namespace, ri.Name, "", wo, func(cur runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	})
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
}

// errDryRun carries the would-be result of a dry-run update out of GuaranteedUpdate.
type errDryRun struct{ obj runtime.Object }

func (e *errDryRun) Error() string { return "dry run" }

// updateObject runs the update path on the stored object: mutate builds the new object from a copy of the current one.
func (s *APIServer) updateObject(ctx context.Context, res *resource, ns, name, sub string, wo writeOptions, mutate func(cur runtime.Object) (runtime.Object, error)) (runtime.Object, error) {
	key := res.keys.Key(ns, name)
	var deleteAfter bool
	var before runtime.Object // the object the committed update started from
	// The watch cache's copy saves the etcd read when it is current (the common case); a stale one costs one failed
	// transaction that returns the current object.
	out, err := s.store.GuaranteedUpdateCached(ctx, key, res.storeNew, res.cacher.Get(key), func(stored runtime.Object) (runtime.Object, error) {
		cur, err := res.external(stored)
		if err != nil {
			return nil, err
		}
		deleteAfter = false
		newObj, err := mutate(cur.DeepCopyObject())
		if err != nil {
			return nil, err
		}
		convertStringData(newObj)
		nm, om := accessor(newObj), accessor(cur)
		if rv := nm.GetResourceVersion(); rv != "" && rv != om.GetResourceVersion() {
			return nil, apierrors.NewConflict(res.GroupResource(), name, errors.New(optimisticLockMsg))
		}
		if uid := nm.GetUID(); uid != "" && uid != om.GetUID() {
			return nil, apierrors.NewConflict(res.GroupResource(), name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", uid, om.GetUID()))
		}
		nm.SetUID(om.GetUID())
		nm.SetName(om.GetName())
		nm.SetNamespace(om.GetNamespace())
		nm.SetCreationTimestamp(om.GetCreationTimestamp())
		if sub != "delete" { // deleteObject's mutation is what sets them
			nm.SetDeletionTimestamp(om.GetDeletionTimestamp())
			nm.SetDeletionGracePeriodSeconds(om.GetDeletionGracePeriodSeconds())
		}
		nm.SetGeneration(om.GetGeneration())
		if sub == "delete" && om.GetDeletionTimestamp() == nil && nm.GetDeletionTimestamp() != nil && om.GetGeneration() > 0 {
			// Marking an object for deletion bumps its generation, as kube-apiserver's BeforeDelete/markAsDeleting.
			nm.SetGeneration(om.GetGeneration() + 1)
		}
		nm.SetResourceVersion(om.GetResourceVersion())
		nm.SetSelfLink("")
		switch sub {
		case "":
			res.KeepStatus(newObj, cur)
			if res.cr != nil {
				res.cr.resetStatus(newObj, cur)
			}
			prepareUpdate(newObj, cur)
		case "status":
			prepareStatusUpdate(newObj, cur, s.clock.Now())
			if res.cr != nil {
				res.cr.prepareStatusUpdate(newObj, cur)
			}
		case subEphemeral:
			prepareEphemeralContainersUpdate(newObj, cur)
		case "approval":
			certificates.PrepareForApprovalUpdateAt(newObj.(*certificatesv1.CertificateSigningRequest), cur.(*certificatesv1.CertificateSigningRequest), s.clock.Now())
		}
		defaults.Apply(newObj)
		if res.cr != nil {
			res.cr.prepare(newObj)
		}
		if res.Generation && (sub == "" || sub == "scale") && om.GetDeletionTimestamp() == nil && generationChangedFor(res, newObj, cur) {
			nm.SetGeneration(om.GetGeneration() + 1)
		}
		if err := s.admitUpdate(ctx, res, newObj, cur); err != nil {
			return nil, err
		}
		webhooked := sub == "" || sub == "status" || sub == "approval"
		if webhooked {
			if err := s.mutateByWebhooks(ctx, res, admissionv1.Update, sub, &newObj, cur, wo.dryRun); err != nil {
				s.releaseAllocations(ctx, res, newObj, cur)
				return nil, err
			}
			nm = accessor(newObj)
		}
		var errs field.ErrorList
		if res.cr != nil {
			if sub != "delete" {
				errs = res.cr.validateUpdate(newObj, cur)
			}
		} else if sub == "approval" {
			errs = certificates.ValidateApprovalUpdate(newObj.(*certificatesv1.CertificateSigningRequest), cur.(*certificatesv1.CertificateSigningRequest))
		} else if sub == "status" {
			errs = validation.ValidateStatusUpdate(newObj, cur)
		} else if sub == subEphemeral {
			errs = validateEphemeralContainersUpdate(newObj, cur)
		} else if sub != "delete" && sub != "binding" { // graceful deletion sets deletionTimestamp and binding sets spec.nodeName, both of which update validation forbids (as upstream, neither is validated as an update)
			errs = validation.ValidateUpdate(newObj, cur)
		}
		if len(errs) > 0 {
			s.releaseAllocations(ctx, res, newObj, cur)
			return nil, apierrors.NewInvalid(res.GVK().GroupKind(), name, errs)
		}
		if webhooked {
			if err := s.validateByWebhooks(ctx, res, admissionv1.Update, sub, newObj, cur, wo.dryRun); err != nil {
				s.releaseAllocations(ctx, res, newObj, cur)
				return nil, err
			}
		}
		if err := s.admitQuotaUpdate(ctx, res, sub, newObj, cur, wo.dryRun); err != nil {
			return nil, err
		}
		if fm, err := s.fieldManager(res, sub); err == nil && !wo.skipFields {
			if tracked, err := fm.Update(cur, newObj, wo.manager); err == nil {
				newObj = tracked
				nm = accessor(newObj)
			}
		}
		if nm.GetDeletionTimestamp() != nil && len(nm.GetFinalizers()) == 0 && len(om.GetFinalizers()) > 0 && !namespaceHasFinalizers(newObj) {
			if g := nm.GetDeletionGracePeriodSeconds(); g == nil || *g == 0 {
				deleteAfter = true
			}
		}
		if wo.dryRun {
			s.releaseAllocations(ctx, res, newObj, cur)
			return nil, &errDryRun{obj: newObj}
		}
		before = cur
		return res.stored(newObj)
	})
	var dr *errDryRun
	if errors.As(err, &dr) {
		return dr.obj, nil
	}
	if err != nil {
		return nil, err
	}
	if out, err = res.external(out); err != nil {
		return nil, err
	}
	s.afterUpdate(ctx, res, out, before)
	if deleteAfter {
		rv, _ := strconv.ParseInt(accessor(out).GetResourceVersion(), 10, 64)
		if del, err := s.store.Delete(ctx, key, rv, res.storeNew); err == nil {
			if conv, err := res.external(del); err == nil {
				del = conv // the object is gone either way: a failed conversion leaves it in its stored form
			}
			s.afterDelete(ctx, res, del)
			return del, nil
		}
	}
	return out, nil
}

// deleteOptions reads DeleteOptions from the body (JSON or protobuf) and the query.
func (s *APIServer) deleteOptions(r *http.Request) (*metav1.DeleteOptions, error) {
	opts := &metav1.DeleteOptions{}
	data, err := readBody(r)
	if err != nil {
		return nil, err
	}
	if len(data) > 0 {
		// Bodies without kind/apiVersion (kubectl delete sends {"propagationPolicy":...}) default to v1 DeleteOptions,
		// which the client-go scheme registers (it has no meta.k8s.io/v1 DeleteOptions).
		gvk := schema.GroupVersion{Version: "v1"}.WithKind("DeleteOptions")
		var obj runtime.Object
		switch ct := contentType(r); ct {
		case mediaProtobuf:
			obj, _, err = s.codecs.pb.Decode(data, &gvk, opts)
		default:
			obj, _, err = s.codecs.json.Decode(data, &gvk, opts)
			if runtime.IsNotRegisteredError(err) {
				// An explicit "apiVersion":"meta.k8s.io/v1" body: DeleteOptions is a plain struct.
				obj, err = opts, json.Unmarshal(data, opts)
			}
		}
		if err != nil {
			return nil, badRequest("DeleteOptions: %v", err)
		}
		if o, ok := obj.(*metav1.DeleteOptions); ok {
			opts = o
		}
	}
	q := r.URL.Query()
	if g := q.Get("gracePeriodSeconds"); g != "" {
		v, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			return nil, badRequest("invalid gracePeriodSeconds %q", g)
		}
		opts.GracePeriodSeconds = &v
	}
	if p := q.Get("propagationPolicy"); p != "" {
		pp := metav1.DeletionPropagation(p)
		opts.PropagationPolicy = &pp
	}
	if q.Get("orphanDependents") != "" {
		b := q.Get("orphanDependents") == "true"
		opts.OrphanDependents = &b
	}
	opts.DryRun = append(opts.DryRun, q["dryRun"]...)
	var errs field.ErrorList
	if opts.PropagationPolicy != nil {
		switch *opts.PropagationPolicy {
		case metav1.DeletePropagationBackground, metav1.DeletePropagationForeground, metav1.DeletePropagationOrphan:
		default:
			errs = append(errs, field.NotSupported(field.NewPath("propagationPolicy"), *opts.PropagationPolicy, []string{"Foreground", "Background", "Orphan", "nil"}))
		}
		if opts.OrphanDependents != nil {
			errs = append(errs, field.Invalid(field.NewPath("propagationPolicy"), *opts.PropagationPolicy, "orphanDependents and deletionPropagation cannot be both set"))
		}
	}
	if opts.GracePeriodSeconds != nil && *opts.GracePeriodSeconds < 0 {
		errs = append(errs, field.Invalid(field.NewPath("gracePeriodSeconds"), *opts.GracePeriodSeconds, "must be greater than or equal to 0"))
	}
	for _, d := range opts.DryRun {
		if d != "All" {
			errs = append(errs, field.NotSupported(field.NewPath("dryRun"), d, []string{"All"}))
		}
	}
	if len(errs) > 0 {
		return nil, apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "DeleteOptions"}, "", errs)
	}
	return opts, nil
}

func (s *APIServer) delete(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	opts, err := s.deleteOptions(r)
	if err != nil {
		return err
	}
	if err := checkDelete(res, ri.Name); err != nil {
		return err
	}
	out, err := s.deleteObject(r.Context(), res, ri.Namespace, ri.Name, opts)
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
}

// deleteObject deletes one object, or marks it for deletion when finalizers or a grace period must run first.
func (s *APIServer) deleteObject(ctx context.Context, res *resource, ns, name string, opts *metav1.DeleteOptions) (runtime.Object, error) {
	if len(webhookSource{s}.ValidatingWebhooks()) > 0 {
		if cur, err := s.store.Get(ctx, res.keys.Key(ns, name), res.storeNew); err == nil {
			if cur, err = res.external(cur); err != nil {
				return nil, err
			}
			if err := s.validateByWebhooks(ctx, res, admissionv1.Delete, "", nil, cur, len(opts.DryRun) > 0); err != nil {
				return nil, err
			}
		}
	}
	if res.GVR == crdGVR {
		if err := s.markCRDDeleting(ctx, res, name, opts); err != nil {
			return nil, err
		}
	}
	key := res.keys.Key(ns, name)
	dryRun := len(opts.DryRun) > 0
	for attempt := 0; ; attempt++ {
		cur, err := s.store.Get(ctx, key, res.storeNew)
		if err != nil {
			return nil, err
		}
		if cur, err = res.external(cur); err != nil {
			return nil, err
		}
		m := accessor(cur)
		if p := opts.Preconditions; p != nil {
			if p.UID != nil && *p.UID != m.GetUID() {
				return nil, apierrors.NewConflict(res.GroupResource(), name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", *p.UID, m.GetUID()))
			}
			if p.ResourceVersion != nil && *p.ResourceVersion != m.GetResourceVersion() {
				return nil, apierrors.NewConflict(res.GroupResource(), name, fmt.Errorf("Precondition failed: ResourceVersion in precondition: %v, ResourceVersion in object meta: %v", *p.ResourceVersion, m.GetResourceVersion()))
			}
		}
		grace := s.gracePeriod(res, cur, opts)
		addFinalizer := ""
		policy := propagation(res, opts)
		switch policy {
		case metav1.DeletePropagationOrphan:
			addFinalizer = metav1.FinalizerOrphanDependents
		case metav1.DeletePropagationForeground:
			addFinalizer = metav1.FinalizerDeleteDependents
		}
		isNamespace := res.Kind == "Namespace" && res.GVR.Group == ""
		pending := len(m.GetFinalizers()) > 0 || addFinalizer != "" && !(m.GetDeletionTimestamp() != nil) || grace > 0 || isNamespace && namespaceHasFinalizers(cur)
		if m.GetDeletionTimestamp() != nil && grace == 0 && len(m.GetFinalizers()) == 0 && !(isNamespace && namespaceHasFinalizers(cur)) {
			pending = false
		}
		if !pending {
			if dryRun {
				return cur, nil
			}
			rv, _ := strconv.ParseInt(m.GetResourceVersion(), 10, 64)
			del, err := s.store.Delete(ctx, key, rv, res.storeNew)
			if errors.Is(err, storage.ErrConflict) && attempt < 10 {
				continue
			}
			if err != nil {
				return nil, err
			}
			if conv, err := res.external(del); err == nil {
				del = conv // the object is gone either way: a failed conversion leaves it in its stored form
			}
			s.afterDelete(ctx, res, del)
			return del, nil
		}
		wo := writeOptions{dryRun: dryRun, manager: ""}
		return s.updateObject(ctx, res, ns, name, "delete", wo, func(obj runtime.Object) (runtime.Object, error) {
			om := accessor(obj)
			now := s.clock.Now()
			if om.GetDeletionTimestamp() == nil {
				ts := metav1.NewTime(now.Add(secondsDuration(grace)).Truncate(1e9))
				om.SetDeletionTimestamp(&ts)
				g := grace
				om.SetDeletionGracePeriodSeconds(&g)
			} else if cg := om.GetDeletionGracePeriodSeconds(); cg != nil && grace < *cg {
				// A shorter grace period may replace a longer one, as kube-apiserver allows.
				ts := metav1.NewTime(now.Add(secondsDuration(grace)).Truncate(1e9))
				if ts.Before(om.GetDeletionTimestamp()) {
					om.SetDeletionTimestamp(&ts)
				}
				g := grace
				om.SetDeletionGracePeriodSeconds(&g)
			}
			if addFinalizer != "" {
				fins := om.GetFinalizers()
				var kept []string
				for _, f := range fins {
					if f != metav1.FinalizerOrphanDependents && f != metav1.FinalizerDeleteDependents {
						kept = append(kept, f)
					}
				}
				om.SetFinalizers(append(kept, addFinalizer))
			}
			if ns, ok := obj.(*corev1.Namespace); ok {
				ns.Status.Phase = corev1.NamespaceTerminating
			}
			return obj, nil
		})
	}
}

func namespaceHasFinalizers(obj runtime.Object) bool {
	ns, ok := obj.(*corev1.Namespace)
	return ok && len(ns.Spec.Finalizers) > 0
}

// propagation returns the effective propagation policy of a delete: without one, core/v1 ReplicationControllers
// orphan their dependents (kube-apiserver's rcStrategy.DefaultGarbageCollectionPolicy) and everything else deletes
// them in the background.
func propagation(res *resource, opts *metav1.DeleteOptions) metav1.DeletionPropagation {
	if opts.PropagationPolicy != nil {
		return *opts.PropagationPolicy
	}
	if opts.OrphanDependents != nil {
		if *opts.OrphanDependents {
			return metav1.DeletePropagationOrphan
		}
		return metav1.DeletePropagationBackground
	}
	if res != nil && res.GVR.Group == "" && res.GVR.Resource == "replicationcontrollers" {
		return metav1.DeletePropagationOrphan
	}
	return metav1.DeletePropagationBackground
}

// gracePeriod returns how long deletion waits; only pods on a node wait.
func (s *APIServer) gracePeriod(res *resource, obj runtime.Object, opts *metav1.DeleteOptions) int64 {
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return 0
	}
	if pod.Spec.NodeName == "" || pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed {
		return 0
	}
	if opts.GracePeriodSeconds != nil {
		return *opts.GracePeriodSeconds
	}
	if g := pod.DeletionGracePeriodSeconds; g != nil {
		return *g
	}
	if pod.Spec.TerminationGracePeriodSeconds != nil {
		return *pod.Spec.TerminationGracePeriodSeconds
	}
	return 30
}

func (s *APIServer) deleteCollection(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	f, err := s.parseFilter(r, res)
	if err != nil {
		return err
	}
	opts, err := s.deleteOptions(r)
	if err != nil {
		return err
	}
	lo := storage.ListOptions{}
	if !f.empty() {
		lo.Filter = f.match
	}
	lr, err := s.store.List(r.Context(), res.keys.Prefix(ri.Namespace), lo, res.storeNew)
	if err != nil {
		return err
	}
	var deleted []runtime.Object
	for _, o := range lr.Items {
		m := accessor(o)
		out, err := s.deleteObject(r.Context(), res, m.GetNamespace(), m.GetName(), opts)
		if err != nil && !apierrors.IsNotFound(toAPIError(err, res.GroupResource(), m.GetName())) {
			return err
		}
		if out != nil {
			deleted = append(deleted, out)
		}
	}
	list := res.NewList()
	if err := meta.SetList(list, deleted); err != nil {
		return err
	}
	s.codecs.setTypeMeta(list)
	s.writeObject(w, r, http.StatusOK, list)
	return nil
}

// convertStringData folds a Secret's write-only stringData into data, as kube-apiserver's conversion does.
func convertStringData(obj runtime.Object) {
	sec, ok := obj.(*corev1.Secret)
	if !ok || len(sec.StringData) == 0 {
		return
	}
	if sec.Data == nil {
		sec.Data = make(map[string][]byte, len(sec.StringData))
	}
	for k, v := range sec.StringData {
		sec.Data[k] = []byte(v)
	}
	sec.StringData = nil
}
