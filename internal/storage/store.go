package storage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer/protobuf"
)

// Errors returned by Store and Cacher. The API server maps them to Status codes.
var (
	ErrNotFound      = errors.New("storage: not found")
	ErrAlreadyExists = errors.New("storage: already exists")
	ErrConflict      = errors.New("storage: resource version conflict")
	ErrExpired       = errors.New("storage: resource version too old")
	ErrTooLarge      = errors.New("storage: resource version too large")
)

// ExpiredError reports a watch or list from a compacted or forgotten revision.
type ExpiredError struct{ Requested, Oldest int64 }

func (e *ExpiredError) Error() string {
	return fmt.Sprintf("too old resource version: %d (%d)", e.Requested, e.Oldest)
}

// Unwrap makes errors.Is(err, ErrExpired) true.
func (e *ExpiredError) Unwrap() error { return ErrExpired }

// Store reads and writes objects in etcd.
type Store struct {
	client *clientv3.Client
	scheme *runtime.Scheme
	pb     *protobuf.Serializer
}

// New returns a Store using client; scheme must know every stored type.
func New(client *clientv3.Client, scheme *runtime.Scheme) *Store {
	return &Store{client: client, scheme: scheme, pb: protobuf.NewSerializer(scheme, scheme)}
}

// Client returns the etcd client the store uses.
func (s *Store) Client() *clientv3.Client { return s.client }

// Encode returns the stored form of obj (protobuf, resourceVersion cleared).
func (s *Store) Encode(obj runtime.Object) ([]byte, error) {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	rv := acc.GetResourceVersion()
	acc.SetResourceVersion("")
	defer acc.SetResourceVersion(rv)
	if obj.GetObjectKind().GroupVersionKind().Empty() {
		gvks, _, err := s.scheme.ObjectKinds(obj)
		if err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		obj.GetObjectKind().SetGroupVersionKind(gvks[0])
	}
	var b bytes.Buffer
	if u, ok := obj.(runtime.Unstructured); ok {
		// Custom resources have no protobuf form: they are stored as JSON, as kube-apiserver stores them.
		if err := unstructured.UnstructuredJSONScheme.Encode(u.(runtime.Object), &b); err != nil {
			return nil, fmt.Errorf("encode: %w", err)
		}
		return b.Bytes(), nil
	}
	if err := s.pb.Encode(obj, &b); err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	return b.Bytes(), nil
}

// Decode decodes stored bytes into a new object and sets its resourceVersion to rev.
func (s *Store) Decode(data []byte, rev int64, into runtime.Object) (runtime.Object, error) {
	var obj runtime.Object
	var err error
	if _, ok := into.(runtime.Unstructured); ok {
		obj, _, err = unstructured.UnstructuredJSONScheme.Decode(data, nil, into)
	} else {
		obj, _, err = s.pb.Decode(data, nil, into)
	}
	if err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	acc, err := meta.Accessor(obj)
	if err != nil {
		return nil, err
	}
	acc.SetResourceVersion(strconv.FormatInt(rev, 10))
	return obj, nil
}

// Get reads key into a new object made by newFunc; ErrNotFound if absent.
func (s *Store) Get(ctx context.Context, key string, newFunc func() runtime.Object) (runtime.Object, error) {
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, ErrNotFound
	}
	kv := resp.Kvs[0]
	return s.Decode(kv.Value, kv.ModRevision, newFunc())
}

// Create writes obj at key if the key is absent and returns the stored object with its resourceVersion.
func (s *Store) Create(ctx context.Context, key string, obj runtime.Object) (runtime.Object, error) {
	data, err := s.Encode(obj)
	if err != nil {
		return nil, err
	}
	resp, err := s.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(key), "=", 0)).
		Then(clientv3.OpPut(key, string(data))).
		Commit()
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", key, err)
	}
	if !resp.Succeeded {
		return nil, ErrAlreadyExists
	}
	out := obj.DeepCopyObject()
	setRV(out, resp.Header.Revision)
	return out, nil
}

// UpdateFunc returns the new object given the current one; returning an error aborts the update with that error.
type UpdateFunc func(current runtime.Object) (runtime.Object, error)

// GuaranteedUpdate reads key, applies tryUpdate and writes the result if the key did not change meanwhile, retrying otherwise.
// If tryUpdate returns the object unchanged (same bytes) nothing is written. ErrNotFound if the key is absent.
func (s *Store) GuaranteedUpdate(ctx context.Context, key string, newFunc func() runtime.Object, tryUpdate UpdateFunc) (runtime.Object, error) {
	return s.GuaranteedUpdateCached(ctx, key, newFunc, nil, tryUpdate)
}

// GuaranteedUpdateCached is GuaranteedUpdate starting from cached, a possibly stale copy of the object at key (from a
// Cacher; nil means none), which saves the etcd read when the cache is current. The object is not modified.
// tryUpdate's errors and no-op results count only against the current object: on a cached one, the current object is
// read and tryUpdate runs again. A write against a stale revision fails its transaction, which returns the current
// object in the same round trip.
func (s *Store) GuaranteedUpdateCached(ctx context.Context, key string, newFunc func() runtime.Object, cached runtime.Object, tryUpdate UpdateFunc) (runtime.Object, error) {
	var st *updateState
	if cached != nil {
		if rev, err := strconv.ParseInt(accessorRV(cached), 10, 64); err == nil && rev > 0 {
			cur := cached.DeepCopyObject()
			data, err := s.Encode(cur)
			if err != nil {
				return nil, err
			}
			st = &updateState{obj: cur, data: data, rev: rev}
		}
	}
	if st == nil {
		var err error
		if st, err = s.currentState(ctx, key, newFunc); err != nil {
			return nil, err
		}
	}
	for {
		next, err := tryUpdate(st.obj)
		if err != nil {
			if !st.current {
				if st, err = s.currentState(ctx, key, newFunc); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		data, err := s.Encode(next)
		if err != nil {
			return nil, err
		}
		if bytes.Equal(data, st.data) {
			if !st.current {
				fresh, err := s.currentState(ctx, key, newFunc)
				if err != nil {
					return nil, err
				}
				if fresh.rev != st.rev {
					st = fresh
					continue
				}
			}
			setRV(next, st.rev)
			return next, nil
		}
		txn, err := s.client.Txn(ctx).
			If(clientv3.Compare(clientv3.ModRevision(key), "=", st.rev)).
			Then(clientv3.OpPut(key, string(data))).
			Else(clientv3.OpGet(key)).
			Commit()
		if err != nil {
			return nil, fmt.Errorf("update %s: %w", key, err)
		}
		if txn.Succeeded {
			setRV(next, txn.Header.Revision)
			return next, nil
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		kvs := txn.Responses[0].GetResponseRange().Kvs
		if len(kvs) == 0 {
			return nil, ErrNotFound
		}
		if st, err = s.stateOf(kvs[0].Value, kvs[0].ModRevision, newFunc); err != nil {
			return nil, err
		}
	}
}

// updateState is the object an update attempt starts from: decoded, its stored bytes and revision, and whether it
// was read from etcd (current) or taken from a cache.
type updateState struct {
	obj     runtime.Object
	data    []byte
	rev     int64
	current bool
}

// currentState reads key from etcd; ErrNotFound if absent.
func (s *Store) currentState(ctx context.Context, key string, newFunc func() runtime.Object) (*updateState, error) {
	resp, err := s.client.Get(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, ErrNotFound
	}
	return s.stateOf(resp.Kvs[0].Value, resp.Kvs[0].ModRevision, newFunc)
}

func (s *Store) stateOf(data []byte, rev int64, newFunc func() runtime.Object) (*updateState, error) {
	obj, err := s.Decode(data, rev, newFunc())
	if err != nil {
		return nil, err
	}
	return &updateState{obj: obj, data: data, rev: rev, current: true}, nil
}

func accessorRV(obj runtime.Object) string {
	acc, err := meta.Accessor(obj)
	if err != nil {
		return ""
	}
	return acc.GetResourceVersion()
}

// Delete removes key if its revision is still rev (0 = any) and returns the deleted object with the deletion revision.
func (s *Store) Delete(ctx context.Context, key string, rev int64, newFunc func() runtime.Object) (runtime.Object, error) {
	var cmp clientv3.Cmp
	if rev > 0 {
		cmp = clientv3.Compare(clientv3.ModRevision(key), "=", rev)
	} else {
		cmp = clientv3.Compare(clientv3.ModRevision(key), ">", 0)
	}
	resp, err := s.client.Txn(ctx).If(cmp).
		Then(clientv3.OpDelete(key, clientv3.WithPrevKV())).
		Else(clientv3.OpGet(key)).
		Commit()
	if err != nil {
		return nil, fmt.Errorf("delete %s: %w", key, err)
	}
	if !resp.Succeeded {
		if len(resp.Responses[0].GetResponseRange().Kvs) == 0 {
			return nil, ErrNotFound
		}
		return nil, ErrConflict
	}
	del := resp.Responses[0].GetResponseDeleteRange()
	if len(del.PrevKvs) == 0 {
		return nil, ErrNotFound
	}
	return s.Decode(del.PrevKvs[0].Value, resp.Header.Revision, newFunc())
}

// ListOptions select a page of a List.
type ListOptions struct {
	// Revision reads at that etcd revision (0 = latest).
	Revision int64
	// Limit is the most items to return (0 = all).
	Limit int64
	// StartKey continues after a previous page (inclusive).
	StartKey string
	// Filter keeps only matching objects; nil keeps all. With a filter, pages may hold fewer than Limit items.
	Filter func(runtime.Object) bool
}

// ListResult is one page of a List.
type ListResult struct {
	Items []runtime.Object
	// Revision is the etcd revision the page was read at.
	Revision int64
	// NextKey is where the next page starts, "" when there is none.
	NextKey string
	// Remaining estimates the items after this page.
	Remaining int64
}

// List reads objects under prefix (which must end in "/").
func (s *Store) List(ctx context.Context, prefix string, opts ListOptions, newFunc func() runtime.Object) (*ListResult, error) {
	start := prefix
	if opts.StartKey != "" {
		if !strings.HasPrefix(opts.StartKey, prefix) {
			return nil, fmt.Errorf("list: continue key outside %s", prefix)
		}
		start = opts.StartKey
	}
	end := clientv3.GetPrefixRangeEnd(prefix)
	res := &ListResult{Revision: opts.Revision}
	batch := opts.Limit
	if batch <= 0 || batch > 1000 {
		batch = 1000
	}
	for {
		callOpts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(batch)}
		if res.Revision > 0 {
			callOpts = append(callOpts, clientv3.WithRev(res.Revision))
		}
		resp, err := s.client.Get(ctx, start, callOpts...)
		if err != nil {
			if errors.Is(err, rpctypes.ErrCompacted) {
				return nil, &ExpiredError{Requested: res.Revision}
			}
			return nil, fmt.Errorf("list %s: %w", prefix, err)
		}
		if res.Revision == 0 {
			res.Revision = resp.Header.Revision
		}
		for i, kv := range resp.Kvs {
			obj, err := s.Decode(kv.Value, kv.ModRevision, newFunc())
			if err != nil {
				return nil, err
			}
			if opts.Filter != nil && !opts.Filter(obj) {
				continue
			}
			res.Items = append(res.Items, obj)
			if opts.Limit > 0 && int64(len(res.Items)) >= opts.Limit {
				if i+1 < len(resp.Kvs) || resp.More {
					res.NextKey = string(kv.Key) + "\x00"
					res.Remaining = resp.Count - int64(i) - 1
				}
				return res, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return res, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}

// Count returns the number of keys under prefix.
func (s *Store) Count(ctx context.Context, prefix string) (int64, error) {
	resp, err := s.client.Get(ctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		return 0, err
	}
	return resp.Count, nil
}

// CurrentRevision returns etcd's current revision.
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.client.Get(ctx, "/registry/", clientv3.WithCountOnly(), clientv3.WithLimit(1))
	if err != nil {
		return 0, err
	}
	return resp.Header.Revision, nil
}

// CheckRevision returns an ExpiredError if rev has been compacted away in etcd.
func (s *Store) CheckRevision(ctx context.Context, rev int64) error {
	_, err := s.client.Get(ctx, "/registry/", clientv3.WithRev(rev), clientv3.WithCountOnly(), clientv3.WithLimit(1))
	if errors.Is(err, rpctypes.ErrCompacted) {
		return &ExpiredError{Requested: rev}
	}
	if errors.Is(err, rpctypes.ErrFutureRev) {
		return ErrTooLarge
	}
	return err
}

func setRV(obj runtime.Object, rev int64) {
	if acc, err := meta.Accessor(obj); err == nil {
		acc.SetResourceVersion(strconv.FormatInt(rev, 10))
	}
}

// KeyFunc builds storage keys for one resource.
type KeyFunc struct {
	GR         schema.GroupResource
	Namespaced bool
}

// Prefix returns the key prefix of all objects of the resource in namespace ns ("" = all namespaces).
func (k KeyFunc) Prefix(ns string) string {
	g := k.GR.Group
	if g == "" {
		g = "core"
	}
	p := "/registry/" + g + "/" + k.GR.Resource + "/"
	if k.Namespaced && ns != "" {
		p += ns + "/"
	}
	return p
}

// Key returns the key of one object.
func (k KeyFunc) Key(ns, name string) string {
	if k.Namespaced {
		return k.Prefix(ns) + name
	}
	return k.Prefix("") + name
}
