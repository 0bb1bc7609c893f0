package scheduler_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/scheduler"
	v1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// harness runs a Scheduler against a fake clientset whose pods/binding behaves as the API server's: it
// sets spec.nodeName and PodScheduled=True, and refuses (409) a pod that is already bound. It records every
// binding and every event.
type harness struct {
	t      *testing.T
	client *fake.Clientset
	events *eventLog

	mu       sync.Mutex          // guards the fields below
	bindings map[string][]string // pod -> nodes it was successfully bound to
	// bindHook, if set, runs before each binding; a non-nil error fails it.
	bindHook func(pod, node string) error

	cancel context.CancelFunc
	done   chan struct{}
	sched  *scheduler.Scheduler
}

func newHarness(t *testing.T, objs ...runtime.Object) *harness {
	t.Helper()
	h := &harness{t: t, client: fake.NewClientset(objs...), events: &eventLog{}, bindings: map[string][]string{}}
	h.client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		ca, ok := a.(k8stesting.CreateAction)
		if !ok || a.GetSubresource() != "binding" {
			return false, nil, nil
		}
		b := ca.GetObject().(*v1.Binding)
		h.mu.Lock()
		hook := h.bindHook
		h.mu.Unlock()
		if hook != nil {
			if err := hook(b.Name, b.Target.Name); err != nil {
				return true, nil, err
			}
		}
		return true, nil, h.bind(b)
	})
	// The fake's watches hand out the tracker's own objects; a real watch decodes a fresh object per event, which
	// the scheduler's informers (informerutil.StripManagedFields) may change. Copy them, as the wire would.
	h.client.PrependWatchReactor("*", func(a k8stesting.Action) (bool, watch.Interface, error) {
		var opts metav1.ListOptions
		if wa, ok := a.(k8stesting.WatchActionImpl); ok {
			opts = wa.ListOptions
		}
		w, err := h.client.Tracker().Watch(a.GetResource(), a.GetNamespace(), opts)
		if err != nil {
			return true, nil, err
		}
		return true, watch.Filter(w, func(e watch.Event) (watch.Event, bool) {
			e.Object = e.Object.DeepCopyObject()
			return e, true
		}), nil
	})
	return h
}

func (h *harness) bind(b *v1.Binding) error {
	gvr := schema.GroupVersionResource{Version: "v1", Resource: "pods"}
	obj, err := h.client.Tracker().Get(gvr, b.Namespace, b.Name)
	if err != nil {
		return err
	}
	pod := obj.(*v1.Pod).DeepCopy()
	if pod.Spec.NodeName != "" {
		return apierrors.NewConflict(gvr.GroupResource(), pod.Name, fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
	}
	pod.Spec.NodeName = b.Target.Name
	pod.Status.Conditions = append(pod.Status.Conditions, v1.PodCondition{Type: v1.PodScheduled, Status: v1.ConditionTrue})
	if err := h.client.Tracker().Update(gvr, pod, pod.Namespace); err != nil {
		return err
	}
	h.mu.Lock()
	h.bindings[pod.Name] = append(h.bindings[pod.Name], b.Target.Name)
	h.mu.Unlock()
	return nil
}

// start runs a scheduler until the test ends (or stop).
func (h *harness) start(cfg scheduler.Config) {
	h.t.Helper()
	cfg.Client = h.client
	cfg.Recorder = h.events
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.APIWorkers == 0 {
		cfg.APIWorkers = 4
	}
	s, err := scheduler.New(cfg)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.sched, h.cancel, h.done = s, cancel, make(chan struct{})
	go func() {
		defer close(h.done)
		if err := s.Start(ctx); err != nil {
			h.t.Errorf("Start: %v", err)
		}
	}()
	h.t.Cleanup(h.stop)
}

// stop cancels the scheduler and waits for Start to return.
func (h *harness) stop() {
	if h.cancel == nil {
		return
	}
	h.cancel()
	select {
	case <-h.done:
	case <-time.After(30 * time.Second):
		h.t.Fatal("scheduler did not stop within 30s")
	}
	h.cancel = nil
}

func (h *harness) create(objs ...runtime.Object) {
	h.t.Helper()
	for _, o := range objs {
		var err error
		switch o := o.(type) {
		case *v1.Pod:
			_, err = h.client.CoreV1().Pods(o.Namespace).Create(context.Background(), o, metav1.CreateOptions{})
		case *v1.Node:
			_, err = h.client.CoreV1().Nodes().Create(context.Background(), o, metav1.CreateOptions{})
		default:
			err = h.client.Tracker().Add(o)
		}
		if err != nil {
			h.t.Fatal(err)
		}
	}
}

func (h *harness) pod(name string) *v1.Pod {
	h.t.Helper()
	p, err := h.client.CoreV1().Pods("default").Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}

// eventually polls cond every 5 ms until it holds or 20 s pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitBound waits until the pod is bound and returns its node.
func (h *harness) waitBound(name string) string {
	h.t.Helper()
	var node string
	eventually(h.t, "pod "+name+" bound", func() bool {
		node = h.pod(name).Spec.NodeName
		return node != ""
	})
	return node
}

// waitEvent waits for an event about the pod with the reason, and returns its message.
func (h *harness) waitEvent(pod, reason string) string {
	h.t.Helper()
	var msg string
	eventually(h.t, reason+" event for "+pod, func() bool {
		msg = h.events.find(pod, reason)
		return msg != ""
	})
	return msg
}

func (h *harness) bindCount(pod string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bindings[pod])
}

// eventLog is a record.EventRecorder that keeps events in memory.
type eventLog struct {
	mu     sync.Mutex
	events []recorded
}

type recorded struct{ object, typ, reason, message string }

func name(obj runtime.Object) string {
	if m, ok := obj.(metav1.Object); ok {
		return m.GetName()
	}
	return ""
}

func (l *eventLog) Event(obj runtime.Object, typ, reason, message string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, recorded{name(obj), typ, reason, message})
}

func (l *eventLog) Eventf(obj runtime.Object, typ, reason, format string, args ...any) {
	l.Event(obj, typ, reason, fmt.Sprintf(format, args...))
}

func (l *eventLog) AnnotatedEventf(obj runtime.Object, _ map[string]string, typ, reason, format string, args ...any) {
	l.Eventf(obj, typ, reason, format, args...)
}

// find returns the message of the latest event for object with reason.
func (l *eventLog) find(object, reason string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.events) - 1; i >= 0; i-- {
		if e := l.events[i]; e.object == object && e.reason == reason {
			return e.message
		}
	}
	return ""
}

func (l *eventLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, e := range l.events {
		fmt.Fprintf(&b, "%s %s %s: %s\n", e.object, e.typ, e.reason, e.message)
	}
	return b.String()
}
