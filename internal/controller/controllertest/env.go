package controllertest

import (
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/skiff-sh/skiff/internal/clock"
	"github.com/skiff-sh/skiff/internal/controller"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/record"
)

// Env is a fake clientset holding the test's objects, an informer factory over it that is never started, and a
// fake event recorder that every component's recorder writes to.
type Env struct {
	t        testing.TB
	Client   *fake.Clientset
	Factory  informers.SharedInformerFactory
	Recorder *record.FakeRecorder
}

// NewEnv returns an Env whose clientset holds objs and whose recorder buffers up to events events. It does not
// cache objs: call Cache once the controller has requested its informers.
func NewEnv(t testing.TB, events int, objs ...runtime.Object) *Env {
	client := fake.NewClientset(objs...)
	return &Env{t: t, Client: client, Factory: informers.NewSharedInformerFactory(client, 0), Recorder: record.NewFakeRecorder(events)}
}

// Context returns the controller.Context to build the controller under test from, with clk as its clock (nil:
// the controller's default) and slog.Default() as its logger.
func (e *Env) Context(clk clock.Clock) controller.Context {
	return controller.Context{
		Client: e.Client, Informers: e.Factory, Clock: clk, Log: slog.Default(),
		Recorder: func(string) record.EventRecorder { return e.Recorder },
	}
}

// Cache puts objs into the indexers of their informers in Factory, as watch events would; it fails the test for
// an object of a type the factory has no informer for.
func (e *Env) Cache(objs ...runtime.Object) {
	e.t.Helper()
	for _, o := range objs {
		gvks, _, err := scheme.Scheme.ObjectKinds(o)
		if err != nil {
			e.t.Fatalf("cache %T: %v", o, err)
		}
		gvr, _ := meta.UnsafeGuessKindToResource(gvks[0])
		inf, err := e.Factory.ForResource(gvr)
		if err != nil {
			e.t.Fatalf("cache %T: %v", o, err)
		}
		if err := inf.Informer().GetIndexer().Update(o); err != nil {
			e.t.Fatalf("cache %T: %v", o, err)
		}
	}
}

// NameGeneratedPods makes the clientset name every pod created with generateName only, as the API server does
// ("<generateName><5-digit counter>").
func (e *Env) NameGeneratedPods() {
	var n atomic.Int32
	e.Client.PrependReactor("create", "pods", func(a k8stesting.Action) (bool, runtime.Object, error) {
		p := a.(k8stesting.CreateAction).GetObject().(*corev1.Pod)
		if p.Name == "" {
			p.Name = fmt.Sprintf("%s%05d", p.GenerateName, n.Add(1))
		}
		return false, nil, nil
	})
}

// Writes returns "verb resource[/subresource]" for every action of actions that is not a get, list or watch.
func Writes(actions []k8stesting.Action) []string {
	var out []string
	for _, a := range actions {
		switch a.GetVerb() {
		case "get", "list", "watch":
			continue
		}
		s := a.GetVerb() + " " + a.GetResource().Resource
		if a.GetSubresource() != "" {
			s += "/" + a.GetSubresource()
		}
		out = append(out, s)
	}
	return out
}

// Events drains the events rec holds, in the order they were recorded.
func Events(rec *record.FakeRecorder) []string {
	var out []string
	for {
		select {
		case e := <-rec.Events:
			out = append(out, e)
		default:
			return out
		}
	}
}
