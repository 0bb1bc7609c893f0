package webhook

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"time"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/uuid"

	"github.com/skiff-sh/skiff/internal/clock"
)

// Attributes describe one admission request, as admission.Attributes upstream.
type Attributes struct {
	Operation       admissionv1.Operation // CREATE, UPDATE, DELETE, CONNECT
	Kind            schema.GroupVersionKind
	Resource        schema.GroupVersionResource
	SubResource     string
	Name, Namespace string
	Object          runtime.Object // typed or *unstructured.Unstructured; nil on DELETE
	OldObject       runtime.Object
	Options         runtime.Object // CreateOptions, UpdateOptions or DeleteOptions
	DryRun          bool
	UserInfo        authenticationv1.UserInfo
}

// Source gives the dispatcher its current view of the cluster; all reads are from caches, never blocking long.
type Source interface {
	ValidatingWebhooks() []*admissionregistrationv1.ValidatingWebhookConfiguration
	MutatingWebhooks() []*admissionregistrationv1.MutatingWebhookConfiguration
	// NamespaceLabels returns a namespace's labels, for namespaceSelector; false if there is no such namespace.
	NamespaceLabels(name string) (map[string]string, bool)
	// ServiceAddress resolves a webhook Service to a host:port to dial (the API server picks a ready endpoint).
	ServiceAddress(ctx context.Context, namespace, name string, port int32) (string, error)
}

// Dispatcher calls admission webhooks; it is safe for concurrent use.
type Dispatcher struct {
	src    Source
	scheme *runtime.Scheme
	clock  clock.Clock
	newUID func() types.UID

	conds *conditionCache // compiled matchConditions, by expression

	mu      sync.Mutex                 // guards clients
	clients map[clientKey]*http.Client // one per CA bundle, server name and dial mode
}

// clientKey identifies a cached HTTP client.
type clientKey struct {
	ca         [sha256.Size]byte
	serverName string
	service    bool
}

// NewDispatcher returns a dispatcher reading webhooks from src; scheme types and defaults typed objects.
func NewDispatcher(src Source, scheme *runtime.Scheme) *Dispatcher {
	return &Dispatcher{src: src, scheme: scheme, clock: clock.Real{}, newUID: func() types.UID { return uuid.NewUUID() },
		conds: newConditionCache(), clients: map[clientKey]*http.Client{}}
}

// callError is a failure to talk to a webhook (upstream's ErrCallingWebhook), subject to the failurePolicy.
type callError struct {
	webhook string
	reason  error
}

func (e *callError) Error() string {
	return fmt.Sprintf("failed calling webhook %q: %v", e.webhook, e.reason)
}

func (e *callError) Unwrap() error { return e.reason }

// result is a webhook's verified answer.
type result struct {
	allowed   bool
	status    *metav1.Status
	patch     []byte
	patchType admissionv1.PatchType
	warnings  []string
}

// Validate calls the matching validating webhooks in parallel and returns their warnings and the first denial or
// failure (in webhook order), worded as kube-apiserver words it.
func (d *Dispatcher) Validate(ctx context.Context, a *Attributes) ([]string, error) {
	a = d.withKind(a)
	if exempt(a) {
		return nil, nil
	}
	hooks := validatingHooks(d.src.ValidatingWebhooks())
	type call struct {
		h   *hook
		inv *invocation
	}
	var calls []call
	for i := range hooks {
		inv, err := shouldCall(ctx, &hooks[i], a, d.src.NamespaceLabels, d.conds)
		if err != nil {
			return nil, err
		}
		if inv != nil {
			calls = append(calls, call{&hooks[i], inv})
		}
	}
	if len(calls) == 0 {
		return nil, nil
	}
	if ctx.Err() != nil {
		return nil, apierrors.NewTimeoutError("request did not complete within requested timeout", 0)
	}
	warnings := make([][]string, len(calls))
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, c := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			warnings[i], errs[i] = d.validateOne(ctx, c.h, c.inv, a)
		}()
	}
	wg.Wait()
	var all []string
	for _, w := range warnings {
		all = append(all, w...)
	}
	for _, err := range errs {
		if err != nil {
			return all, err
		}
	}
	return all, nil
}

func (d *Dispatcher) validateOne(ctx context.Context, h *hook, inv *invocation, a *Attributes) ([]string, error) {
	res, err := d.call(ctx, h, inv, a, a.Object, false)
	if err != nil {
		return nil, d.failure(h, err)
	}
	if !res.allowed {
		return res.warnings, toStatusErr(h.name, res.status)
	}
	return res.warnings, nil
}

// failure applies the failurePolicy to an error from call: Ignore drops call errors, Fail turns them into 500s.
func (d *Dispatcher) failure(h *hook, err error) error {
	var ce *callError
	if !errors.As(err, &ce) {
		return err
	}
	if h.failurePolicy != nil && *h.failurePolicy == admissionregistrationv1.Ignore {
		return nil
	}
	return apierrors.NewInternalError(ce)
}

// Mutate calls the matching mutating webhooks in order (configurations by name, then webhook order), applies their
// JSONPatch responses to *obj (and a.Object), and reinvokes IfNeeded webhooks once when a later webhook changed the
// object, as upstream's reinvocation round does; it returns the webhooks' warnings and the first denial or failure.
func (d *Dispatcher) Mutate(ctx context.Context, a *Attributes, obj *runtime.Object) ([]string, error) {
	a.Kind = d.withKind(a).Kind
	if exempt(a) {
		return nil, nil
	}
	hooks := mutatingHooks(d.src.MutatingWebhooks())
	if len(hooks) == 0 {
		return nil, nil
	}
	cur := *a
	if obj != nil {
		cur.Object = *obj
	}
	var warnings []string
	previously := sets.New[string]() // IfNeeded webhooks invoked since the object last changed
	reinvoke := sets.New[string]()
	requireReinvoke := func() {
		reinvoke = reinvoke.Union(previously)
		previously = sets.New[string]()
	}
	shouldReinvoke := false
	for round := 0; round < 2; round++ {
		if round == 1 && !shouldReinvoke {
			break
		}
		for i := range hooks {
			h := &hooks[i]
			inv, serr := shouldCall(ctx, h, &cur, d.src.NamespaceLabels, d.conds)
			if serr != nil {
				return warnings, serr
			}
			if inv == nil || (round == 1 && !reinvoke.Has(h.uid())) {
				continue
			}
			changed, w, err := d.mutateOne(ctx, h, inv, &cur)
			warnings = append(warnings, w...)
			if changed {
				requireReinvoke()
				shouldReinvoke = true
			}
			if h.reinvocation != nil && *h.reinvocation == admissionregistrationv1.IfNeededReinvocationPolicy {
				previously.Insert(h.uid())
			}
			if err == nil {
				continue
			}
			if err = d.failure(h, err); err != nil {
				return warnings, err
			}
			if ctx.Err() != nil {
				return warnings, apierrors.NewTimeoutError("request did not complete within requested timeout", 0)
			}
		}
	}
	if obj != nil {
		*obj = cur.Object
	}
	a.Object = cur.Object
	return warnings, nil
}

// mutateOne calls one mutating webhook and applies its patch to cur.Object.
func (d *Dispatcher) mutateOne(ctx context.Context, h *hook, inv *invocation, cur *Attributes) (bool, []string, error) {
	res, err := d.call(ctx, h, inv, cur, cur.Object, true)
	if err != nil {
		return false, nil, err
	}
	if !res.allowed {
		return false, res.warnings, toStatusErr(h.name, res.status)
	}
	if len(res.patch) == 0 {
		return false, res.warnings, nil
	}
	patch, err := jsonpatch.DecodePatch(res.patch)
	if err != nil {
		return false, res.warnings, &callError{h.name, fmt.Errorf("received undecodable patch in webhook response: %w", err)}
	}
	if len(patch) == 0 {
		return false, res.warnings, nil
	}
	if cur.Object == nil {
		return false, res.warnings, apierrors.NewInternalError(fmt.Errorf("admission webhook %q attempted to modify the object, which is not supported for this operation", h.name))
	}
	if res.patchType != admissionv1.PatchTypeJSONPatch {
		return false, res.warnings, &callError{h.name, fmt.Errorf("unsupported patch type %q", res.patchType)}
	}
	js, err := encodeObject(cur.Object, cur.Kind)
	if err != nil {
		return false, res.warnings, apierrors.NewInternalError(err)
	}
	patched, err := patch.Apply(js)
	if err != nil {
		return false, res.warnings, apierrors.NewInternalError(err)
	}
	next, err := d.decodeLike(cur.Object, patched)
	if err != nil {
		return false, res.warnings, apierrors.NewInternalError(err)
	}
	changed := !apiequality.Semantic.DeepEqual(cur.Object, next)
	cur.Object = next
	return changed, res.warnings, nil
}

// decodeLike decodes patched JSON into a new object of the same Go type as like, keeping like's TypeMeta, and defaults it.
func (d *Dispatcher) decodeLike(like runtime.Object, data []byte) (runtime.Object, error) {
	if _, ok := like.(*unstructured.Unstructured); ok {
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(data); err != nil {
			return nil, fmt.Errorf("decode patched object: %w", err)
		}
		return u, nil
	}
	out, ok := reflect.New(reflect.TypeOf(like).Elem()).Interface().(runtime.Object)
	if !ok {
		return nil, fmt.Errorf("decode patched object: %T is not a runtime.Object", like)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return nil, fmt.Errorf("decode patched object: %w", err)
	}
	out.GetObjectKind().SetGroupVersionKind(like.GetObjectKind().GroupVersionKind())
	if d.scheme != nil {
		d.scheme.Default(out)
	}
	return out, nil
}

// withKind returns a, or a copy whose empty Kind is filled in from the scheme's kind for its object.
func (d *Dispatcher) withKind(a *Attributes) *Attributes {
	if !a.Kind.Empty() || d.scheme == nil {
		return a
	}
	obj := a.Object
	if obj == nil {
		obj = a.OldObject
	}
	if obj == nil {
		return a
	}
	gvks, _, err := d.scheme.ObjectKinds(obj)
	if err != nil || len(gvks) == 0 {
		return a
	}
	b := *a
	b.Kind = gvks[0]
	return &b
}

// encodeObject marshals obj to JSON with apiVersion and kind set (to gvk when the object carries none).
func encodeObject(obj runtime.Object, gvk schema.GroupVersionKind) ([]byte, error) {
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.MarshalJSON()
	}
	if obj.GetObjectKind().GroupVersionKind().Empty() && !gvk.Empty() {
		obj = obj.DeepCopyObject()
		obj.GetObjectKind().SetGroupVersionKind(gvk)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	return b, nil
}

// encodeOptions marshals the operation options as meta.k8s.io/v1, as upstream sends them.
func encodeOptions(opts runtime.Object) ([]byte, error) {
	gvk := schema.GroupVersionKind{}
	if opts.GetObjectKind().GroupVersionKind().Empty() {
		gvk = metav1.SchemeGroupVersion.WithKind(reflect.TypeOf(opts).Elem().Name())
	}
	return encodeObject(opts, gvk)
}

// reviewVersion picks the AdmissionReview version to send: the first of the webhook's list that skiff speaks.
func reviewVersion(versions []string) (string, bool) {
	for _, v := range versions {
		if v == "v1" || v == "v1beta1" {
			return v, true
		}
	}
	return "", false
}

// buildReview makes the AdmissionReview request body for one call.
func buildReview(uid types.UID, version string, inv *invocation, a *Attributes, obj runtime.Object) ([]byte, error) {
	req := &admissionv1.AdmissionRequest{
		UID:                uid,
		Kind:               metav1.GroupVersionKind{Group: inv.kind.Group, Version: inv.kind.Version, Kind: inv.kind.Kind},
		Resource:           metav1.GroupVersionResource{Group: inv.resource.Group, Version: inv.resource.Version, Resource: inv.resource.Resource},
		SubResource:        inv.subResource,
		RequestKind:        &metav1.GroupVersionKind{Group: a.Kind.Group, Version: a.Kind.Version, Kind: a.Kind.Kind},
		RequestResource:    &metav1.GroupVersionResource{Group: a.Resource.Group, Version: a.Resource.Version, Resource: a.Resource.Resource},
		RequestSubResource: a.SubResource,
		Name:               a.Name,
		Namespace:          a.Namespace,
		Operation:          a.Operation,
		UserInfo:           a.UserInfo,
		DryRun:             &a.DryRun,
	}
	var err error
	if obj != nil {
		if req.Object.Raw, err = encodeObject(obj, a.Kind); err != nil {
			return nil, err
		}
	}
	if a.OldObject != nil {
		if req.OldObject.Raw, err = encodeObject(a.OldObject, a.Kind); err != nil {
			return nil, err
		}
	}
	if a.Options != nil {
		if req.Options.Raw, err = encodeOptions(a.Options); err != nil {
			return nil, err
		}
	}
	// v1beta1's AdmissionReview has the same JSON shape as v1's; only apiVersion differs.
	review := admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/" + version, Kind: "AdmissionReview"},
		Request:  req,
	}
	b, err := json.Marshal(&review)
	if err != nil {
		return nil, fmt.Errorf("encode admission review: %w", err)
	}
	return b, nil
}

// verifyResponse checks a webhook's AdmissionReview response as upstream's VerifyAdmissionResponse.
func verifyResponse(uid types.UID, version string, mutating bool, r *admissionv1.AdmissionReview) (*result, error) {
	if r.Response == nil {
		return nil, fmt.Errorf("webhook response was absent")
	}
	res := &result{allowed: r.Response.Allowed, status: r.Response.Result, warnings: r.Response.Warnings}
	if version == "v1beta1" {
		if mutating && len(r.Response.Patch) > 0 {
			res.patch, res.patchType = r.Response.Patch, admissionv1.PatchTypeJSONPatch
		}
		return res, nil
	}
	if r.Response.UID != uid {
		return nil, fmt.Errorf("expected response.uid=%q, got %q", uid, r.Response.UID)
	}
	want := admissionv1.SchemeGroupVersion.WithKind("AdmissionReview")
	if got := r.GroupVersionKind(); got != want {
		return nil, fmt.Errorf("expected webhook response of %v, got %v", want.String(), got.String())
	}
	if !mutating {
		if len(r.Response.Patch) > 0 {
			return nil, fmt.Errorf("validating webhook may not return response.patch")
		}
		if r.Response.PatchType != nil {
			return nil, fmt.Errorf("validating webhook may not return response.patchType")
		}
		return res, nil
	}
	if len(r.Response.Patch) > 0 && r.Response.PatchType == nil {
		return nil, fmt.Errorf("webhook returned response.patch but not response.patchType")
	}
	if len(r.Response.Patch) == 0 && r.Response.PatchType != nil {
		return nil, fmt.Errorf("webhook returned response.patchType but not response.patch")
	}
	res.patch = r.Response.Patch
	if r.Response.PatchType != nil {
		res.patchType = *r.Response.PatchType
		if res.patchType == "" {
			return nil, fmt.Errorf("webhook returned invalid response.patchType of %q", res.patchType)
		}
	}
	return res, nil
}

// toStatusErr words a denial as upstream's webhookerrors.ToStatusErr.
func toStatusErr(name string, st *metav1.Status) *apierrors.StatusError {
	deniedBy := fmt.Sprintf("admission webhook %q denied the request", name)
	s := metav1.Status{Status: metav1.StatusFailure}
	if st != nil {
		s = *st.DeepCopy()
	}
	if s.Code < http.StatusBadRequest {
		s.Code = http.StatusBadRequest
	}
	if s.Status == "" || s.Status == metav1.StatusSuccess {
		s.Status = metav1.StatusFailure
	}
	switch {
	case s.Message != "":
		s.Message = deniedBy + ": " + s.Message
	case s.Reason != "":
		s.Message = deniedBy + ": " + string(s.Reason)
	default:
		s.Message = deniedBy + " without explanation"
	}
	return &apierrors.StatusError{ErrStatus: s}
}

// call sends one AdmissionReview to h and returns its verified response; transport and protocol failures are callErrors.
func (d *Dispatcher) call(ctx context.Context, h *hook, inv *invocation, a *Attributes, obj runtime.Object, mutating bool) (*result, error) {
	if a.DryRun {
		if h.sideEffects == nil {
			return nil, &callError{h.name, fmt.Errorf("Webhook SideEffects is nil")}
		}
		if se := *h.sideEffects; se != admissionregistrationv1.SideEffectClassNone && se != admissionregistrationv1.SideEffectClassNoneOnDryRun {
			return nil, apierrors.NewBadRequest(fmt.Sprintf("admission webhook %q does not support dry run", h.name))
		}
	}
	version, ok := reviewVersion(h.reviewVersions)
	if !ok {
		return nil, &callError{h.name, fmt.Errorf("could not create admission objects: %w",
			errors.New("webhook does not accept known AdmissionReview versions (v1, v1beta1)"))}
	}
	uid := d.newUID()
	body, err := buildReview(uid, version, inv, a, obj)
	if err != nil {
		return nil, &callError{h.name, fmt.Errorf("could not create admission objects: %w", err)}
	}
	client, target, err := d.client(h.clientConfig)
	if err != nil {
		return nil, &callError{h.name, fmt.Errorf("could not get REST client: %w", err)}
	}
	timeout := 10 * time.Second
	if h.timeoutSeconds != nil {
		timeout = time.Duration(*h.timeoutSeconds) * time.Second
	}
	q := target.Query()
	q.Set("timeout", timeout.String())
	target.RawQuery = q.Encode()

	callCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	defer close(done)
	timedOut := make(chan struct{})
	timer := d.clock.After(timeout) // registered before the request is sent
	go func() {
		select {
		case <-timer:
			close(timedOut)
			cancel()
		case <-done:
		}
	}()
	resp, err := d.post(callCtx, client, target.String(), body)
	if err != nil {
		select {
		case <-timedOut:
			err = &url.Error{Op: "Post", URL: target.String(), Err: context.DeadlineExceeded}
		default:
		}
		return nil, &callError{h.name, fmt.Errorf("failed to call webhook: %w", err)}
	}
	review := &admissionv1.AdmissionReview{}
	if err := json.Unmarshal(resp, review); err != nil {
		return nil, &callError{h.name, fmt.Errorf("failed to call webhook: %w", err)}
	}
	res, err := verifyResponse(uid, version, mutating, review)
	if err != nil {
		return nil, &callError{h.name, fmt.Errorf("received invalid webhook response: %w", err)}
	}
	return res, nil
}

// post sends body and returns the response body; a non-2xx answer becomes the StatusError client-go would make of it.
func (d *Dispatcher) post(ctx context.Context, client *http.Client, target string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, */*")
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 3<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	var st metav1.Status
	if json.Unmarshal(data, &st) == nil && st.Kind == "Status" && st.Status == metav1.StatusFailure {
		return nil, &apierrors.StatusError{ErrStatus: st}
	}
	msg := strings.TrimSpace(string(data))
	if len(msg) > 1024 {
		msg = msg[:1024]
	}
	return nil, apierrors.NewGenericServerResponse(resp.StatusCode, http.MethodPost, schema.GroupResource{}, "", msg, 0, true)
}

// Post sends a JSON body to the webhook cc names (a url, or a Service reached through Source.ServiceAddress and
// verified as <svc>.<ns>.svc against cc.CABundle) and returns the response body; the CRD conversion webhooks use it.
// A non-2xx answer is an error as client-go words it.
func (d *Dispatcher) Post(ctx context.Context, cc admissionregistrationv1.WebhookClientConfig, body []byte) ([]byte, error) {
	client, target, err := d.client(cc)
	if err != nil {
		return nil, err
	}
	return d.post(ctx, client, target.String(), body)
}

// client returns the cached HTTP client for cc's CA bundle and server name, and the URL to post to.
func (d *Dispatcher) client(cc admissionregistrationv1.WebhookClientConfig) (*http.Client, *url.URL, error) {
	var target *url.URL
	key := clientKey{ca: sha256.Sum256(cc.CABundle)}
	switch {
	case cc.URL != nil:
		u, err := url.Parse(*cc.URL)
		if err != nil {
			return nil, nil, fmt.Errorf("parse url: %w", err)
		}
		target = u
	case cc.Service != nil:
		port := int32(443)
		if cc.Service.Port != nil {
			port = *cc.Service.Port
		}
		path := ""
		if cc.Service.Path != nil {
			path = *cc.Service.Path
		}
		key.serverName = cc.Service.Name + "." + cc.Service.Namespace + ".svc"
		key.service = true
		target = &url.URL{Scheme: "https", Host: net.JoinHostPort(key.serverName, strconv.Itoa(int(port))), Path: path}
	default:
		return nil, nil, errors.New("webhook has neither url nor service")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if c, ok := d.clients[key]; ok {
		return c, target, nil
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: key.serverName}
	if len(cc.CABundle) > 0 {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cc.CABundle) {
			return nil, nil, errors.New("unable to load root certificates: unable to parse bytes as PEM block")
		}
		tlsConfig.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	tr := &http.Transport{TLSClientConfig: tlsConfig, ForceAttemptHTTP2: true, MaxIdleConnsPerHost: 25,
		IdleConnTimeout: 90 * time.Second, TLSHandshakeTimeout: 10 * time.Second, DialContext: dialer.DialContext}
	if key.service {
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.dialService(ctx, dialer, network, addr)
		}
	}
	c := &http.Client{Transport: tr}
	d.clients[key] = c
	return c, target, nil
}

// dialService resolves "<svc>.<ns>.svc:<port>" through the Source and dials the address it returns.
func (d *Dispatcher) dialService(ctx context.Context, dialer *net.Dialer, network, addr string) (net.Conn, error) {
	host, portStr, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("dial service: %w", err)
	}
	name, rest, _ := strings.Cut(strings.TrimSuffix(host, ".svc"), ".")
	port, err := strconv.ParseInt(portStr, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("dial service: %w", err)
	}
	target, err := d.src.ServiceAddress(ctx, rest, name, int32(port))
	if err != nil {
		return nil, err
	}
	return dialer.DialContext(ctx, network, target)
}
