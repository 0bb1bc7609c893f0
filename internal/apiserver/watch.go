package apiserver

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/skiff-sh/skiff/internal/storage"
	clientv3 "go.etcd.io/etcd/client/v3"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
	"k8s.io/apimachinery/pkg/watch"
)

// watchCtx gives etcd calls the metadata of the cachers' watch stream, so progress requests reach it.
func watchCtx(ctx context.Context) context.Context { return clientv3.WithRequireLeader(ctx) }

// bookmarkInterval is how often a watch that allows bookmarks gets one.
const bookmarkInterval = 30 * time.Second

// defaultWatchTimeout bounds a watch that names no timeoutSeconds.
const defaultWatchTimeout = 30 * time.Minute

func (s *APIServer) watch(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	q := r.URL.Query()
	f, err := s.parseFilter(r, res)
	if err != nil {
		return err
	}
	if ri.Name != "" {
		// GET .../name?watch=true is a watch of one object.
		sel, _ := fieldsOneTermSelector("metadata.name", ri.Name)
		f.field = andFields(f.field, sel)
	}
	n, ok := negotiate(r)
	if !ok {
		return errNotAcceptable(r.Header.Get("Accept"))
	}
	rvStr := q.Get("resourceVersion")
	rv, err := parseRV(rvStr)
	if err != nil {
		return err
	}
	rvMatch := q.Get("resourceVersionMatch")
	bookmarks := q.Get("allowWatchBookmarks") == "true"
	sendInitial := q.Get("sendInitialEvents")
	opts := storage.WatchOptions{Prefix: res.keys.Prefix(ri.Namespace), Revision: rv}
	if !f.empty() {
		opts.Filter = f.match
	}
	switch {
	case sendInitial == "true":
		if rvMatch != "NotOlderThan" {
			return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
				field.Forbidden(field.NewPath("resourceVersionMatch"), "sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")})
		}
		if !bookmarks {
			return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
				field.Forbidden(field.NewPath("allowWatchBookmarks"), "sendInitialEvents requires setting allowWatchBookmarks to true")})
		}
		opts.InitialEvents = true
	case sendInitial == "false":
	case rvStr == "" || rvStr == "0":
		opts.InitialEvents = true
	}
	if rvMatch != "" && sendInitial == "" {
		return apierrors.NewInvalid(schema.GroupKind{Group: "meta.k8s.io", Kind: "ListOptions"}, "", field.ErrorList{
			field.Forbidden(field.NewPath("resourceVersionMatch"), "resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided")})
	}
	timeout := defaultWatchTimeout
	if t := q.Get("timeoutSeconds"); t != "" {
		secs, err := strconv.ParseInt(t, 10, 64)
		if err != nil || secs < 0 {
			return badRequest("invalid timeoutSeconds %q", t)
		}
		if secs > 0 {
			timeout = time.Duration(secs) * time.Second
		}
	}
	ctx, cancel := context.WithTimeout(r.Context(), timeout)
	defer cancel()

	if opts.InitialEvents && (rvStr == "" || rv > 0) {
		// A consistent start: the cache must have caught up with etcd (or with the asked revision).
		want := rv
		if rvStr == "" {
			if want, err = s.store.CurrentRevision(ctx); err != nil {
				return err
			}
		}
		if err := s.waitFresh(ctx, res, want); err != nil {
			return err
		}
	}
	var expired error
	if !opts.InitialEvents {
		expired = res.cacher.CheckCompacted(ctx, rv)
	}
	var cw *storage.CacheWatcher
	if expired == nil {
		cw, expired = res.cacher.Watch(ctx, opts)
	}
	if expired != nil && !errors.Is(expired, storage.ErrExpired) {
		return expired
	}

	if n.kind == outTable || (res.cr != nil && n.kind == outObject) {
		n.protobuf = false // tables and custom resources have no protobuf form
	}
	if n.protobuf {
		w.Header().Set("Content-Type", mediaProtobuf+";stream=watch")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.Header().Set("Transfer-Encoding", "chunked")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	flush := func() {
		if flusher != nil {
			flusher.Flush()
		}
	}
	ws := &watchStream{s: s, w: w, r: r, res: res, n: n}
	if expired != nil {
		st := apierrors.NewResourceExpired(expired.Error()).ErrStatus
		st.Kind, st.APIVersion = "Status", "v1"
		_ = ws.send(watch.Error, &st, nil)
		flush()
		return nil
	}
	defer cw.Stop()
	flush()

	bookmarkTicker := s.clock.NewTicker(bookmarkInterval)
	defer bookmarkTicker.Stop()
	lastRV := cw.InitialRevision()
	drain := func() error {
		evs, initialDone := cw.Next()
		for _, e := range evs {
			if err := ws.send(e.Type, e.Object, e.Enc); err != nil {
				return err
			}
			if e.Revision > lastRV {
				lastRV = e.Revision
			}
		}
		if initialDone && bookmarks {
			if err := ws.bookmark(cw.InitialRevision(), true); err != nil {
				return err
			}
		}
		flush()
		return nil
	}
	if err := drain(); err != nil {
		return nil
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-s.stopping:
			return nil
		case <-cw.Done():
			_ = drain()
			return nil
		case <-cw.Signal():
			if err := drain(); err != nil {
				return nil
			}
		case <-bookmarkTicker.C():
			if bookmarks {
				if rev := res.cacher.Revision(); rev > lastRV {
					lastRV = rev
				}
				if err := ws.bookmark(lastRV, false); err != nil {
					return nil
				}
				flush()
			}
		}
	}
}

// waitFresh waits (up to 3 s) until res's cache has reached revision rev.
func (s *APIServer) waitFresh(ctx context.Context, res *resource, rev int64) error {
	deadline := s.clock.Now().Add(3 * time.Second)
	delay := time.Millisecond
	for res.cacher.Revision() < rev {
		if err := res.cacher.WaitReady(ctx); err != nil {
			return err
		}
		if res.cacher.Revision() >= rev {
			break
		}
		_ = s.store.Client().RequestProgress(watchCtx(ctx))
		if s.clock.Now().After(deadline) {
			return apierrors.NewTimeoutError("Too large resource version", 1)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
	return nil
}

// watchStream encodes watch events onto one response.
type watchStream struct {
	s   *APIServer
	w   http.ResponseWriter
	r   *http.Request
	res *resource
	n   negotiated
	// sentColumns is set once a Table event has carried the column definitions.
	sentColumns bool
	buf         bytes.Buffer
}

// encodingKey names one serialization of an event's object in its storage.Encodings.
type encodingKey struct {
	res      *resource
	kind     outputKind
	protobuf bool
}

// send writes one event. enc, shared by the watchers the event was fanned out to, holds the object's encodings so
// that each format is made once per event rather than once per watcher; nil encodes for this watcher alone.
func (ws *watchStream) send(t watch.EventType, obj runtime.Object, enc *storage.Encodings) error {
	if t == watch.Error {
		return ws.write(t, obj)
	}
	obj, err := ws.res.external(obj)
	if err != nil {
		// As kube-apiserver's watch, a conversion failure is an ERROR event carrying the Status.
		st := apierrors.NewInternalError(err).ErrStatus
		st.Kind, st.APIVersion = "Status", "v1"
		return ws.write(watch.Error, &st)
	}
	if ws.n.kind == outTable {
		tbl, err := ws.s.toTable(ws.r, ws.res, []runtime.Object{obj}, accessor(obj).GetResourceVersion(), "", nil)
		if err != nil {
			return err
		}
		if ws.sentColumns {
			tbl.ColumnDefinitions = nil
		}
		ws.sentColumns = true
		return ws.write(t, tbl)
	}
	raw, err := enc.Get(encodingKey{res: ws.res, kind: ws.n.kind, protobuf: ws.n.protobuf}, func() ([]byte, error) {
		var out runtime.Object
		if ws.n.kind == outPartialMetadata {
			out = partialMetadata(obj, ws.res)
		} else {
			// The object is shared with the cache and other watchers: encode a shallow copy carrying its kind.
			out = ws.s.codecs.withTypeMeta(obj)
		}
		return ws.encode(out)
	})
	if err != nil {
		return err
	}
	return ws.writeRaw(t, raw)
}

// encode serializes obj in the stream's format into a new slice.
func (ws *watchStream) encode(obj runtime.Object) ([]byte, error) {
	var buf bytes.Buffer
	if ws.n.protobuf {
		if err := ws.s.codecs.pb.Encode(obj, &buf); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	if err := ws.s.codecs.json.Encode(obj, &buf); err != nil {
		return nil, err
	}
	return bytes.TrimSpace(buf.Bytes()), nil
}

// write sends one event whose object is not shared with other watchers.
func (ws *watchStream) write(t watch.EventType, obj runtime.Object) error {
	ws.s.codecs.setTypeMeta(obj)
	raw, err := ws.encode(obj)
	if err != nil {
		return err
	}
	return ws.writeRaw(t, raw)
}

// writeRaw sends one event whose object is already encoded: JSON objects back to back, or with protobuf (Accept
// application/vnd.kubernetes.protobuf) Kubernetes' stream=watch framing: a 4-byte big-endian length, then a
// metav1.WatchEvent in raw protobuf whose object is the protobuf-enveloped object.
func (ws *watchStream) writeRaw(t watch.EventType, raw []byte) error {
	ws.s.prom.watchEvent(ws.res)
	ws.buf.Reset()
	if ws.n.protobuf {
		ev := metav1.WatchEvent{Type: string(t), Object: runtime.RawExtension{Raw: raw}}
		n := ev.Size()
		ws.buf.Grow(4 + n)
		frame := ws.buf.AvailableBuffer()[:4+n]
		binary.BigEndian.PutUint32(frame, uint32(n))
		if _, err := ev.MarshalToSizedBuffer(frame[4:]); err != nil {
			return err
		}
		_, err := ws.w.Write(frame)
		return err
	}
	// {"type":"MODIFIED","object":{...}} as encoding/json writes a metav1.WatchEvent, without re-validating raw.
	ws.buf.WriteString(`{"type":`)
	typ, err := json.Marshal(string(t))
	if err != nil {
		return err
	}
	ws.buf.Write(typ)
	ws.buf.WriteString(`,"object":`)
	ws.buf.Write(raw)
	ws.buf.WriteString("}\n")
	_, err = ws.w.Write(ws.buf.Bytes())
	return err
}

func (ws *watchStream) bookmark(rev int64, initialEnd bool) error {
	var obj runtime.Object
	if ws.n.kind == outPartialMetadata {
		obj = &metav1.PartialObjectMetadata{}
	} else {
		obj = ws.res.New()
	}
	m := accessor(obj)
	m.SetResourceVersion(strconv.FormatInt(rev, 10))
	if initialEnd {
		m.SetAnnotations(map[string]string{metav1.InitialEventsAnnotationKey: "true"})
	}
	if ws.n.kind == outPartialMetadata {
		obj.GetObjectKind().SetGroupVersionKind(metav1.SchemeGroupVersion.WithKind("PartialObjectMetadata"))
	} else {
		obj.GetObjectKind().SetGroupVersionKind(ws.res.GVK())
	}
	return ws.write(watch.Bookmark, obj)
}
