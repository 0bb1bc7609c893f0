package replicaset

import (
	"context"

	"github.com/skiff-sh/skiff/internal/controller"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	appslisters "k8s.io/client-go/listers/apps/v1"
	"k8s.io/client-go/tools/cache"
)

// Owners is how the shell reads and writes the objects whose pods it keeps, each seen as a ReplicaSet: the
// ReplicaSets themselves, or another kind converted at this boundary (upstream's conversion adapter; package
// replication does it for ReplicationControllers). Objects it returns may be shared with the cache and are never
// modified by the shell.
type Owners interface {
	// Kind is the owners' kind, as the controller references of their pods name it.
	Kind() schema.GroupVersionKind
	// Informer is the owners' shared informer; its objects are of the owners' own type.
	Informer() cache.SharedIndexInformer
	// Get returns the cached owner ns/name, or a NotFound error.
	Get(ns, name string) (*appsv1.ReplicaSet, error)
	// List returns the cached owners of namespace ns.
	List(ns string) ([]*appsv1.ReplicaSet, error)
	// GetLive reads the owner ns/name from the API server, bypassing the cache.
	GetLive(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error)
	// UpdateStatus writes rs.Status through the owner's status subresource and returns the stored owner.
	UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error)
	// EventObject is the object events about rs are recorded on: rs itself, or the owner it was converted from.
	EventObject(rs *appsv1.ReplicaSet) runtime.Object
}

// Config is what distinguishes a controller built on this package's shell: its names and its owners.
type Config struct {
	// Name is the controller's name in the manager's registry, its logs and its queue.
	Name string
	// EventSource is the component named as the source of its events.
	EventSource string
	// Owners reads and writes the objects it controls.
	Owners Owners
}

// replicaSets is the Owners of the ReplicaSet controller itself.
type replicaSets struct {
	client   kubernetes.Interface
	informer cache.SharedIndexInformer
	lister   appslisters.ReplicaSetLister
}

func newReplicaSets(cc controller.Context) *replicaSets {
	inf := cc.Informers.Apps().V1().ReplicaSets()
	return &replicaSets{client: cc.Client, informer: inf.Informer(), lister: inf.Lister()}
}

func (r *replicaSets) Kind() schema.GroupVersionKind       { return controllerKind }
func (r *replicaSets) Informer() cache.SharedIndexInformer { return r.informer }

func (r *replicaSets) Get(ns, name string) (*appsv1.ReplicaSet, error) {
	return r.lister.ReplicaSets(ns).Get(name)
}

func (r *replicaSets) List(ns string) ([]*appsv1.ReplicaSet, error) {
	return r.lister.ReplicaSets(ns).List(labels.Everything())
}

func (r *replicaSets) GetLive(ctx context.Context, ns, name string) (*appsv1.ReplicaSet, error) {
	return r.client.AppsV1().ReplicaSets(ns).Get(ctx, name, metav1.GetOptions{})
}

func (r *replicaSets) UpdateStatus(ctx context.Context, rs *appsv1.ReplicaSet) (*appsv1.ReplicaSet, error) {
	return r.client.AppsV1().ReplicaSets(rs.Namespace).UpdateStatus(ctx, rs, metav1.UpdateOptions{})
}

func (r *replicaSets) EventObject(rs *appsv1.ReplicaSet) runtime.Object { return rs }
