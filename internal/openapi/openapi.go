package openapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha512"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	openapi_v2 "github.com/google/gnostic-models/openapiv2"
	openapi_v3 "github.com/google/gnostic-models/openapiv3"
	"github.com/munnerz/goautoneg"
	"google.golang.org/protobuf/proto"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/kube-openapi/pkg/builder"
	"k8s.io/kube-openapi/pkg/builder3"
	"k8s.io/kube-openapi/pkg/common"
	"k8s.io/kube-openapi/pkg/spec3"
	"k8s.io/kube-openapi/pkg/validation/spec"

	"github.com/skiff-sh/skiff/internal/openapi/generated"
)

// Route describes one resource the API server serves, for the OpenAPI documents.
type Route struct {
	GVK          schema.GroupVersionKind // kind of the objects
	Resource     string                  // plural, e.g. "deployments"
	Namespaced   bool
	Verbs        []string // get list watch create update patch delete deletecollection
	Subresources []Subresource
}

// Subresource describes a subresource of a Route, e.g. {"status", apps/v1
// Deployment, get/update/patch} or {"scale", autoscaling/v1 Scale, ...}.
// Verbs may be get, update, patch and create. A zero GVK means the parent's.
// "log", "exec", "attach", "portforward" and "proxy" are shaped like
// kube-apiserver's pod, service and node subresources of those names, and
// their Verbs are ignored.
type Subresource struct {
	Name  string
	GVK   schema.GroupVersionKind
	Verbs []string
}

// Media types of the documents.
const (
	mimeJSON          = "application/json"
	subTypeJSON       = "json"
	subTypeV2Proto    = "com.github.proto-openapi.spec.v2.v1.0+protobuf"
	subTypeV2ProtoOld = "com.github.proto-openapi.spec.v2@v1.0+protobuf" // what kubectl sends
	subTypeV3Proto    = "com.github.proto-openapi.spec.v3.v1.0+protobuf"
	subTypeV3ProtoOld = "com.github.proto-openapi.spec.v3@v1.0+protobuf"
)

// gzipMinSize is the smallest body sent gzip-encoded (kube-apiserver's
// compression filter uses 128 KiB).
const gzipMinSize = 128 << 10

// Service serves the OpenAPI v2 and v3 documents built by New, and those of
// custom resources set by SetCustomResources. It is safe for concurrent use.
type Service struct {
	docs atomic.Pointer[docs] // what ServeHTTP serves

	// Built in New; read-only afterwards.
	namer      *definitionNamer
	containers []*container      // the built-in routes, sorted by root
	baseV3     map[string]*v3Doc // the built-in documents by index key
	baseV2     []byte            // the built-in v2 document

	mu   sync.Mutex       // serializes SetCustomResources and guards the fields below
	crV3 map[string]crDoc // custom resource documents by index key
	crFP string           // fingerprint of the custom resources published
}

// docs is one consistent set of documents.
type docs struct {
	index *blob             // /openapi/v3
	v3    map[string]*v3Doc // by index key, e.g. "apis/apps/v1"
	v2    *blob             // /openapi/v2 as JSON
	v2pb  *lazyBlob         // /openapi/v2 as protobuf
}

type v3Doc struct {
	json *blob
	pb   lazyBlob
}

// crDoc holds the built documents of one custom resource group version and
// the fingerprint of their inputs.
type crDoc struct {
	fp  string
	doc *v3Doc  // the v3 document at its key
	v2  *v2Part // its part of the v2 document
}

// New builds the documents once for routes; building errors mean a bug in the route list.
func New(routes []Route) (*Service, error) {
	s, err := newScheme()
	if err != nil {
		return nil, err
	}
	namer := newDefinitionNamer(s)
	containers, err := buildContainers(s, routes)
	if err != nil {
		return nil, fmt.Errorf("openapi: %w", err)
	}
	svc := &Service{
		namer:      namer,
		containers: containers,
		baseV3:     map[string]*v3Doc{},
		crV3:       map[string]crDoc{},
	}

	// The v2 document takes about as long as all v3 documents together;
	// build it alongside them.
	v2c := make(chan v2Result, 1)
	defsV2, defsV3 := generatedDefs(namer)
	go func() { v2c <- svc.buildV2(containers, defsV2) }()
	for _, c := range containers {
		d, err := buildV3Doc(c, v3Config(namer, defsV3))
		if err != nil {
			<-v2c
			return nil, err
		}
		svc.baseV3[c.docKey()] = d
	}
	v2 := <-v2c
	if v2.err != nil {
		return nil, v2.err
	}
	svc.baseV2 = v2.b
	d, err := newDocs(svc.baseV3, v2.b)
	if err != nil {
		return nil, err
	}
	svc.docs.Store(d)
	return svc, nil
}

// newDocs assembles a document set: the v3 documents, their index, and the v2 JSON.
func newDocs(v3 map[string]*v3Doc, v2 []byte) (*docs, error) {
	d := &docs{v3: v3, v2: newBlob(v2, "")}
	index := struct {
		Paths map[string]indexEntry `json:"paths"`
	}{Paths: make(map[string]indexEntry, len(v3))}
	for key, doc := range v3 {
		index.Paths[key] = indexEntry{ServerRelativeURL: serverRelativeURL(key, doc.json.hash)}
	}
	b, err := json.Marshal(index) // sorts the keys
	if err != nil {
		return nil, fmt.Errorf("openapi: v3 index: %w", err)
	}
	d.index = newBlob(b, "")
	// As upstream, the protobuf form shares the JSON's hash: the Vary
	// header tells them apart.
	d.v2pb = &lazyBlob{hash: d.v2.hash, build: func() ([]byte, error) {
		doc, err := openapi_v2.ParseDocument(d.v2.data)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(doc)
	}}
	return d, nil
}

// buildV3Doc builds the v3 document of one container.
func buildV3Doc(c *container, cfg *common.OpenAPIV3Config) (*v3Doc, error) {
	doc, err := builder3.BuildOpenAPISpecFromRoutes([]common.RouteContainer{c}, cfg)
	if err != nil {
		return nil, fmt.Errorf("openapi: v3 %s: %w", c.docKey(), err)
	}
	b, err := doc.MarshalJSON() // json.Marshal would re-scan the output
	if err != nil {
		return nil, fmt.Errorf("openapi: v3 %s: %w", c.docKey(), err)
	}
	d := &v3Doc{json: newBlob(b, "")}
	d.pb.hash = d.json.hash
	d.pb.build = func() ([]byte, error) {
		doc, err := openapi_v3.ParseDocument(d.json.data)
		if err != nil {
			return nil, err
		}
		return proto.Marshal(doc)
	}
	return d, nil
}

type v2Result struct {
	b   []byte
	err error
}

// buildV2 builds the v2 document of containers, whose definitions are defs, as JSON.
func (s *Service) buildV2(containers []*container, defs map[string]common.OpenAPIDefinition) v2Result {
	rcs := make([]common.RouteContainer, len(containers))
	for i, c := range containers {
		rcs[i] = c
	}
	sw, err := builder.BuildOpenAPISpecFromRoutes(rcs, v2Config(s.namer, defs))
	if err != nil {
		return v2Result{err: fmt.Errorf("openapi: v2: %w", err)}
	}
	b, err := sw.MarshalJSON()
	if err != nil {
		return v2Result{err: fmt.Errorf("openapi: v2: %w", err)}
	}
	return v2Result{b: b}
}

// generatedDefs returns the generated definitions with references for v2
// (#/definitions/) and v3 (#/components/schemas/). The builders add
// extensions to them: give each build its own, or build one after another.
func generatedDefs(namer *definitionNamer) (v2, v3 map[string]common.OpenAPIDefinition) {
	return generated.GetOpenAPIDefinitions(refCallback(namer, "#/definitions/")),
		generated.GetOpenAPIDefinitions(refCallback(namer, "#/components/schemas/"))
}

// mergeDefs returns a new map of base's and extra's definitions.
func mergeDefs(base, extra map[string]common.OpenAPIDefinition) map[string]common.OpenAPIDefinition {
	out := make(map[string]common.OpenAPIDefinition, len(base)+len(extra))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// indexEntry is one entry of the /openapi/v3 index
// (k8s.io/kube-openapi/pkg/handler3.OpenAPIV3DiscoveryGroupVersion).
type indexEntry struct {
	ServerRelativeURL string `json:"serverRelativeURL"`
}

func serverRelativeURL(key, hash string) string {
	u := url.URL{Path: path.Join("/openapi/v3", key), RawQuery: url.Values{"hash": {hash}}.Encode()}
	return u.String()
}

func info() *spec.Info {
	return &spec.Info{InfoProps: spec.InfoProps{Title: "Kubernetes", Version: "unversioned"}}
}

func operationIDFromRoute(r common.Route) (string, []string, error) {
	rt, ok := r.(*route)
	if !ok {
		return "", nil, fmt.Errorf("unexpected route type %T", r)
	}
	return rt.id, rt.tags, nil
}

// refCallback returns the definition reference function for a document
// whose schemas live under prefix.
func refCallback(namer *definitionNamer, prefix string) common.ReferenceCallback {
	return func(name string) spec.Ref {
		defName, _ := namer.GetDefinitionName(name)
		return spec.MustCreateRef(prefix + common.EscapeJsonPointer(defName))
	}
}

// v3Config mirrors genericapiserver.DefaultOpenAPIV3Config as kube-apiserver
// sets it up.
func v3Config(namer *definitionNamer, defs map[string]common.OpenAPIDefinition) *common.OpenAPIV3Config {
	return &common.OpenAPIV3Config{
		Info: info(),
		DefaultResponse: &spec3.Response{
			ResponseProps: spec3.ResponseProps{Description: "Default Response."},
		},
		CommonResponses: map[int]*spec3.Response{
			http.StatusUnauthorized: {ResponseProps: spec3.ResponseProps{Description: "Unauthorized"}},
		},
		Definitions:                    defs,
		GetOperationIDAndTagsFromRoute: operationIDFromRoute,
		GetDefinitionName:              namer.GetDefinitionName,
		SecuritySchemes: spec3.SecuritySchemes{
			"BearerToken": &spec3.SecurityScheme{SecuritySchemeProps: spec3.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication",
			}},
		},
	}
}

// v2Config mirrors genericapiserver.DefaultOpenAPIConfig as kube-apiserver
// sets it up.
func v2Config(namer *definitionNamer, defs map[string]common.OpenAPIDefinition) *common.Config {
	return &common.Config{
		ProtocolList: []string{"https"},
		Info:         info(),
		DefaultResponse: &spec.Response{
			ResponseProps: spec.ResponseProps{Description: "Default Response."},
		},
		CommonResponses: map[int]spec.Response{
			http.StatusUnauthorized: {ResponseProps: spec.ResponseProps{Description: "Unauthorized"}},
		},
		GetDefinitions:                 func(common.ReferenceCallback) map[string]common.OpenAPIDefinition { return defs },
		GetOperationIDAndTagsFromRoute: operationIDFromRoute,
		GetDefinitionName:              namer.GetDefinitionName,
		SecurityDefinitions: &spec.SecurityDefinitions{
			"BearerToken": &spec.SecurityScheme{SecuritySchemeProps: spec.SecuritySchemeProps{
				Type: "apiKey", Name: "authorization", In: "header", Description: "Bearer Token authentication",
			}},
		},
		DefaultSecurity: []map[string][]string{{"BearerToken": {}}},
	}
}

// ServeHTTP serves GET /openapi/v3, /openapi/v3/{api/v1|apis/G/V}?hash=..., and /openapi/v2 (protobuf `application/com.github.proto-openapi.spec.v2@v1.0+protobuf` and JSON by Accept).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeStatus(w, http.StatusMethodNotAllowed, metav1.StatusReasonMethodNotAllowed,
			fmt.Sprintf("%s is not supported on %s", r.Method, r.URL.Path))
		return
	}
	d := s.docs.Load()
	switch p := r.URL.Path; {
	case p == "/openapi/v2":
		d.serveV2(w, r)
	case p == "/openapi/v3" || p == "/openapi/v3/":
		w.Header().Set("Content-Type", mimeJSON)
		d.index.serve(w, r, false)
	case strings.HasPrefix(p, "/openapi/v3/"):
		d.serveV3(w, r, strings.TrimPrefix(p, "/openapi/v3/"))
	default:
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
	}
}

func (s *docs) serveV2(w http.ResponseWriter, r *http.Request) {
	w.Header().Add("Vary", "Accept")
	switch negotiate(r, subTypeJSON, subTypeV2ProtoOld, subTypeV2Proto) {
	case subTypeJSON:
		w.Header().Set("Content-Type", mimeJSON)
		s.v2.serve(w, r, true)
	case subTypeV2ProtoOld, subTypeV2Proto:
		b, err := s.v2pb.get()
		if err != nil {
			writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, "openapi v2: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/"+subTypeV2Proto)
		b.serve(w, r, true)
	default:
		writeStatus(w, http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable, "only application/json and protobuf are supported")
	}
}

// serveV3 serves one document of the index. As in kube-openapi's handler3, a
// request whose hash matches gets immutable caching headers, and one whose
// hash is stale is redirected to the current URL.
func (s *docs) serveV3(w http.ResponseWriter, r *http.Request, key string) {
	d, ok := s.v3[key]
	if !ok {
		writeStatus(w, http.StatusNotFound, metav1.StatusReasonNotFound, "the server could not find the requested resource")
		return
	}
	w.Header().Add("Vary", "Accept")
	var b *blob
	switch negotiate(r, subTypeJSON, subTypeV3Proto, subTypeV3ProtoOld) {
	case subTypeJSON:
		w.Header().Set("Content-Type", mimeJSON)
		b = d.json
	case subTypeV3Proto, subTypeV3ProtoOld:
		var err error
		if b, err = d.pb.get(); err != nil {
			writeStatus(w, http.StatusInternalServerError, metav1.StatusReasonInternalError, "openapi v3: "+err.Error())
			return
		}
		w.Header().Set("Content-Type", "application/"+subTypeV3Proto)
	default:
		writeStatus(w, http.StatusNotAcceptable, metav1.StatusReasonNotAcceptable, "only application/json and protobuf are supported")
		return
	}
	if hash := r.URL.Query().Get("hash"); hash != "" {
		if hash != d.json.hash {
			http.Redirect(w, r, serverRelativeURL(key, d.json.hash), http.StatusMovedPermanently)
			return
		}
		// The URL names this exact content. Upstream also sets Expires one
		// year ahead; max-age says the same without reading the clock.
		w.Header().Set("Cache-Control", "public, immutable, max-age=31536000")
	}
	b.serve(w, r, true)
}

// negotiate returns the first of the offered application/* subtypes the
// request's Accept header allows, in the client's order of preference, or "".
func negotiate(r *http.Request, offers ...string) string {
	accept := r.Header.Get("Accept")
	if accept == "" {
		accept = "*/*"
	}
	for _, c := range goautoneg.ParseAccept(accept) {
		if c.Q <= 0 || (c.Type != "application" && c.Type != "*") {
			continue
		}
		for _, o := range offers {
			if c.SubType == o || c.SubType == "*" {
				return o
			}
		}
	}
	return ""
}

// blob is one serialized document.
type blob struct {
	data []byte
	hash string // hex SHA-512 of the JSON form, the ?hash= value
	etag string // quoted ETag header value

	gzOnce sync.Once
	gz     []byte
}

// newBlob wraps data; hash is the hash to use, or "" to hash data.
func newBlob(data []byte, hash string) *blob {
	if hash == "" {
		hash = fmt.Sprintf("%X", sha512.Sum512(data))
	}
	return &blob{data: data, hash: hash, etag: strconv.Quote(hash)}
}

// serve writes b with its ETag; the caller has set Content-Type. Large bodies
// are gzip-encoded if compress is set and the client accepts gzip.
// http.ServeContent answers If-None-Match with 304 and handles HEAD.
func (b *blob) serve(w http.ResponseWriter, r *http.Request, compress bool) {
	h := w.Header()
	h.Set("Etag", b.etag)
	data := b.data
	if compress && len(data) >= gzipMinSize {
		h.Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			data = b.gzipped()
			h.Set("Content-Encoding", "gzip")
		}
	}
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(data))
}

func (b *blob) gzipped() []byte {
	b.gzOnce.Do(func() {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(b.data) // writes to a bytes.Buffer do not fail
		_ = zw.Close()
		b.gz = buf.Bytes()
	})
	return b.gz
}

// acceptsGzip reports whether Accept-Encoding allows gzip.
func acceptsGzip(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		if q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q="); ok {
			if f, err := strconv.ParseFloat(q, 64); err == nil && f == 0 {
				continue
			}
		}
		return true
	}
	return false
}

// lazyBlob is a protobuf rendering built on first use: few clients ask for
// one, and converting costs more than building the JSON.
type lazyBlob struct {
	hash  string // shared with the JSON form
	build func() ([]byte, error)

	once sync.Once
	b    *blob
	err  error
}

func (l *lazyBlob) get() (*blob, error) {
	l.once.Do(func() {
		data, err := l.build()
		if err != nil {
			l.err = err
			return
		}
		l.b = newBlob(data, l.hash)
	})
	return l.b, l.err
}

// writeStatus writes a metav1.Status error body, as the API server does.
func writeStatus(w http.ResponseWriter, code int, reason metav1.StatusReason, msg string) {
	st := metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure,
		Message:  msg,
		Reason:   reason,
		Code:     int32(code),
	}
	b, _ := json.Marshal(st) // a Status always marshals
	w.Header().Set("Content-Type", mimeJSON)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	_, _ = w.Write(b)
}
