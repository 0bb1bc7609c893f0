package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kruntime "k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

// The scenarios against client-go's fake clientset: no server, real goroutines (run
// with -race), short durations. What they measure is meaningless here; the shape of
// the result and the cleanup are what is checked.

func quietEnv() *Env {
	client := fake.NewClientset()
	// The fake does not generate names; number them as the API server would make them unique.
	var generated atomic.Int64
	client.PrependReactor("create", "*", func(a k8stesting.Action) (bool, kruntime.Object, error) {
		if m, err := meta.Accessor(a.(k8stesting.CreateAction).GetObject()); err == nil && m.GetName() == "" && m.GetGenerateName() != "" {
			m.SetName(fmt.Sprintf("%s%05d", m.GetGenerateName(), generated.Add(1)))
		}
		return false, nil, nil
	})
	return &Env{Client: client, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Window: 50 * time.Millisecond}
}

func TestRunAPIOnFake(t *testing.T) {
	env := quietEnv()
	res, err := RunAPI(context.Background(), env, APIConfig{
		Concurrency: []int{1, 3}, Duration: 100 * time.Millisecond, MaxObjects: 50, ObjectSize: 16,
		Verbs: []string{"create", "get", "update", "list", "delete"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("result not OK: %s", res.Error)
	}
	keys := map[string]Op{}
	for _, o := range res.Ops {
		keys[o.Key()] = o
	}
	for _, verb := range []string{"create", "get", "update", "list", "delete"} {
		for _, c := range []string{"1", "3"} {
			o, ok := keys[verb+"@"+c]
			if !ok {
				t.Errorf("no op %s@%s; ops: %+v", verb, c, res.Ops)
				continue
			}
			if o.Count == 0 || o.Errors != 0 || o.Throughput <= 0 {
				t.Errorf("%s: %+v", o.Key(), o)
			}
		}
	}
	if c := keys["create@3"].Count; c > 50 {
		t.Errorf("create@3 made %d objects, cap 50", c)
	}
	if len(res.Series) == 0 {
		t.Error("no series")
	}
	// The namespace was deleted.
	nss, _ := env.Client.CoreV1().Namespaces().List(context.Background(), metav1.ListOptions{})
	if len(nss.Items) != 0 {
		t.Errorf("namespaces left: %d", len(nss.Items))
	}
}

func TestRunChurnOnFake(t *testing.T) {
	env := quietEnv()
	res, err := RunChurn(context.Background(), env, ChurnConfig{Rate: 200, Duration: 400 * time.Millisecond, Live: 10, Concurrency: 4, ListInterval: 50 * time.Millisecond, Namespaces: 2})
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK {
		t.Fatalf("result not OK: %s", res.Error)
	}
	count := map[string]int{}
	for _, o := range res.Ops {
		count[o.Name] = o.Count
	}
	creates, deletes := count["create"], count["delete"]
	// 200/s for 0.4s offers 80 creates, but the fake clientset is slow (tens of ms a
	// write under -race); deletes trail by Live.
	if creates < 5 || deletes > creates {
		t.Errorf("creates=%d deletes=%d; ops %+v", creates, deletes, res.Ops)
	}
	// Deletes only start once Live objects exist, so every delete is a held one, and
	// held creates are a part of all creates.
	if count["held-delete"] != deletes || count["held-create"] > creates {
		t.Errorf("held ops %v, want held-delete = delete and held-create <= create", count)
	}
	if count["list"] == 0 {
		t.Errorf("no namespace list with ListInterval set; ops %v", count)
	}
	var listed float64
	for _, m := range res.Metrics {
		if m.Name == "most_objects_listed" {
			listed = m.Value
		}
	}
	// Objects alternate between the two namespaces; creates in flight may briefly add Concurrency more.
	if listed < 1 || listed > 10/2+4 {
		t.Errorf("most_objects_listed = %v, want between 1 and Live/2 + Concurrency (9)", listed)
	}
}

func TestConfigDefaults(t *testing.T) {
	var a APIConfig
	if err := a.validate(); err != nil || len(a.Concurrency) != 3 || a.Concurrency[2] != 64 || len(a.Verbs) != 6 {
		t.Errorf("api defaults: %+v %v", a, err)
	}
	if err := (&APIConfig{Verbs: []string{"patch"}}).validate(); err == nil {
		t.Error("unknown verb accepted")
	}
	if err := (&APIConfig{Concurrency: []int{0}}).validate(); err == nil {
		t.Error("concurrency 0 accepted")
	}
	if err := (&ScheduleConfig{Workload: "statefulset"}).validate(); err == nil {
		t.Error("unknown workload accepted")
	}
	if err := (&ChurnConfig{Rate: -1}).validate(); err != ErrBadRate {
		t.Errorf("negative rate: %v", err)
	}
	if err := (&ColdStartConfig{}).validate(); err == nil {
		t.Error("coldstart without a binary accepted")
	}
}
