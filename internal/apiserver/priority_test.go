package apiserver

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	schedulingv1 "k8s.io/api/scheduling/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// fakeClasses is a priorityClassLookup over a fixed list.
type fakeClasses struct {
	items []*schedulingv1.PriorityClass
	err   error
}

var _ priorityClassLookup = (*fakeClasses)(nil)

func (f *fakeClasses) get(name string) (*schedulingv1.PriorityClass, error) {
	if f.err != nil {
		return nil, f.err
	}
	for _, pc := range f.items {
		if pc.Name == name {
			return pc, nil
		}
	}
	return nil, apierrors.NewNotFound(priorityClassesGR, name)
}

func (f *fakeClasses) list() ([]*schedulingv1.PriorityClass, error) { return f.items, f.err }

func class(name string, value int32, globalDefault bool, policy corev1.PreemptionPolicy) *schedulingv1.PriorityClass {
	return &schedulingv1.PriorityClass{ObjectMeta: metav1.ObjectMeta{Name: name}, Value: value, GlobalDefault: globalDefault, PreemptionPolicy: &policy}
}

func TestAdmitPodPriority(t *testing.T) {
	lower, never := corev1.PreemptLowerPriority, corev1.PreemptNever
	high := class("high", 1000, false, lower)
	batch := class("batch", 10, false, never)
	defLow := class("default-low", -5, true, lower)
	defHigh := class("default-high", 7, true, never)
	i32 := func(v int32) *int32 { return &v }
	cases := []struct {
		name      string
		classes   []*schedulingv1.PriorityClass
		className string
		priority  *int32
		policy    *corev1.PreemptionPolicy
		lookupErr error

		wantClass    string
		wantPriority int32
		wantPolicy   corev1.PreemptionPolicy
		wantErr      string // the whole message; "" means admitted
		wantReason   metav1.StatusReason
	}{
		{name: "no class and no default: 0, PreemptLowerPriority", classes: []*schedulingv1.PriorityClass{high},
			wantPriority: 0, wantPolicy: lower},
		{name: "named class gives value and policy", classes: []*schedulingv1.PriorityClass{high, batch}, className: "batch",
			wantClass: "batch", wantPriority: 10, wantPolicy: never},
		{name: "no class: the global default, named in the pod", classes: []*schedulingv1.PriorityClass{high, defHigh}, wantClass: "default-high",
			wantPriority: 7, wantPolicy: never},
		{name: "several defaults: the lowest value wins", classes: []*schedulingv1.PriorityClass{defHigh, defLow},
			wantClass: "default-low", wantPriority: -5, wantPolicy: lower},
		{name: "a named class beats the default", classes: []*schedulingv1.PriorityClass{defHigh, high}, className: "high",
			wantClass: "high", wantPriority: 1000, wantPolicy: lower},
		{name: "the same priority as computed is accepted", classes: []*schedulingv1.PriorityClass{high}, className: "high", priority: i32(1000),
			wantClass: "high", wantPriority: 1000, wantPolicy: lower},
		{name: "priority 0 without a class is accepted", priority: i32(0), policy: &lower,
			wantPriority: 0, wantPolicy: lower},
		{name: "unknown class", classes: []*schedulingv1.PriorityClass{high}, className: "foo",
			wantErr: `pods "p" is forbidden: no PriorityClass with name foo was found`, wantReason: metav1.StatusReasonForbidden},
		{name: "a priority other than the class's", classes: []*schedulingv1.PriorityClass{high}, className: "high", priority: i32(5),
			wantErr:    `pods "p" is forbidden: the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name`,
			wantReason: metav1.StatusReasonForbidden},
		{name: "a priority without any class", priority: i32(1000),
			wantErr:    `pods "p" is forbidden: the integer value of priority (1000) must not be provided in pod spec; priority admission controller computed 0 from the given PriorityClass name`,
			wantReason: metav1.StatusReasonForbidden},
		{name: "a preemption policy other than the class's", classes: []*schedulingv1.PriorityClass{batch}, className: "batch", policy: &lower,
			wantErr:    `pods "p" is forbidden: the string value of PreemptionPolicy (PreemptLowerPriority) must not be provided in pod spec; priority admission controller computed Never from the given PriorityClass name`,
			wantReason: metav1.StatusReasonForbidden},
		{name: "Never without a class", policy: &never,
			wantErr:    `pods "p" is forbidden: the string value of PreemptionPolicy (Never) must not be provided in pod spec; priority admission controller computed PreemptLowerPriority from the given PriorityClass name`,
			wantReason: metav1.StatusReasonForbidden},
		{name: "storage failure is not a 403", className: "high", lookupErr: errors.New("etcd down"),
			wantErr: "failed to get PriorityClass with name high: etcd down", wantReason: metav1.StatusReasonInternalError},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "default"},
				Spec: corev1.PodSpec{PriorityClassName: c.className, Priority: c.priority, PreemptionPolicy: c.policy}}
			err := admitPodPriority(pod, &fakeClasses{items: c.classes, err: c.lookupErr})
			if c.wantErr != "" {
				if err == nil {
					t.Fatalf("admitted, want %q", c.wantErr)
				}
				if err.Error() != c.wantErr {
					t.Errorf("error\n got: %s\nwant: %s", err, c.wantErr)
				}
				if got := toAPIError(err, podsGR, "p").ErrStatus.Reason; got != c.wantReason {
					t.Errorf("reason %q, want %q", got, c.wantReason)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if pod.Spec.PriorityClassName != c.wantClass {
				t.Errorf("priorityClassName %q, want %q", pod.Spec.PriorityClassName, c.wantClass)
			}
			if pod.Spec.Priority == nil || *pod.Spec.Priority != c.wantPriority {
				t.Errorf("priority %v, want %d", pod.Spec.Priority, c.wantPriority)
			}
			if pod.Spec.PreemptionPolicy == nil || *pod.Spec.PreemptionPolicy != c.wantPolicy {
				t.Errorf("preemptionPolicy %v, want %s", pod.Spec.PreemptionPolicy, c.wantPolicy)
			}
		})
	}
}

func TestAdmitPriorityClassOneGlobalDefault(t *testing.T) {
	lower := corev1.PreemptLowerPriority
	def := class("first", 10, true, lower)
	cases := []struct {
		name    string
		classes []*schedulingv1.PriorityClass
		pc      *schedulingv1.PriorityClass
		update  bool
		wantErr string
	}{
		{name: "not a default", classes: []*schedulingv1.PriorityClass{def}, pc: class("x", 1, false, lower)},
		{name: "first default", pc: class("x", 1, true, lower)},
		{name: "second default on create", classes: []*schedulingv1.PriorityClass{def}, pc: class("second", 1, true, lower),
			wantErr: `priorityclasses.scheduling.k8s.io "second" is forbidden: PriorityClass first is already marked as default. Only one default can exist`},
		{name: "the default updated", classes: []*schedulingv1.PriorityClass{def}, pc: class("first", 10, true, lower), update: true},
		{name: "another class made default on update", classes: []*schedulingv1.PriorityClass{def, class("other", 3, false, lower)}, pc: class("other", 3, true, lower), update: true,
			wantErr: `priorityclasses.scheduling.k8s.io "other" is forbidden: PriorityClass first is already marked as default. Only one default can exist`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := admitPriorityClass(c.pc, c.update, &fakeClasses{items: c.classes})
			got := ""
			if err != nil {
				got = err.Error()
				if !apierrors.IsForbidden(err) {
					t.Errorf("%v is not Forbidden", err)
				}
			}
			if got != c.wantErr {
				t.Errorf("error\n got: %s\nwant: %s", got, c.wantErr)
			}
		})
	}
}

// TestPriorityClassesThroughTheServer checks the resource end to end on a real store: the built-in classes exist,
// cannot be deleted, and a pod naming a class gets its priority.
func TestPriorityClassesThroughTheServer(t *testing.T) {
	ts := newTestServer(t)
	const pcs = "/apis/scheduling.k8s.io/v1/priorityclasses"
	r := ts.do(http.MethodGet, pcs+"/system-node-critical", "", "", nil)
	if r.code != http.StatusOK {
		t.Fatalf("get system-node-critical: %d %s", r.code, r.body)
	}
	var snc schedulingv1.PriorityClass
	if err := json.Unmarshal(r.body, &snc); err != nil {
		t.Fatal(err)
	}
	if snc.Value != 2000001000 || snc.PreemptionPolicy == nil || *snc.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("system-node-critical: value %d, policy %v", snc.Value, snc.PreemptionPolicy)
	}

	r = ts.do(http.MethodDelete, pcs+"/system-cluster-critical", "", "", nil)
	if st := r.status(t); r.code != http.StatusForbidden || st.Message != `priorityclasses.scheduling.k8s.io "system-cluster-critical" is forbidden: this is a system priority class and cannot be deleted` {
		t.Errorf("delete system-cluster-critical: %d %s", r.code, st.Message)
	}

	if r = ts.create(pcs, `{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"high"},"value":1000}`); r.code != http.StatusCreated {
		t.Fatalf("create high: %d %s", r.code, r.body)
	}
	r = ts.create(pcs, `{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"system-mine"},"value":2000000001}`)
	if st := r.status(t); r.code != http.StatusUnprocessableEntity || !strings.Contains(st.Message, "metadata.name: Forbidden: priority class names with 'system-' prefix are reserved for system use only. error: system-mine is not a known system priority class") {
		t.Errorf("create system-mine: %d %s", r.code, st.Message)
	}

	pod := func(name, class string) string {
		return `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"` + name + `"},"spec":{"priorityClassName":"` + class + `","containers":[{"name":"c","image":"busybox"}]}}`
	}
	r = ts.create("/api/v1/namespaces/default/pods", pod("p", "high"))
	if r.code != http.StatusCreated {
		t.Fatalf("create pod: %d %s", r.code, r.body)
	}
	var p corev1.Pod
	if err := json.Unmarshal(r.body, &p); err != nil {
		t.Fatal(err)
	}
	if p.Spec.Priority == nil || *p.Spec.Priority != 1000 || p.Spec.PreemptionPolicy == nil || *p.Spec.PreemptionPolicy != corev1.PreemptLowerPriority {
		t.Errorf("pod priority %v, policy %v; want 1000 PreemptLowerPriority", p.Spec.Priority, p.Spec.PreemptionPolicy)
	}
	r = ts.create("/api/v1/namespaces/default/pods", pod("q", "foo"))
	if st := r.status(t); r.code != http.StatusForbidden || st.Message != `pods "q" is forbidden: no PriorityClass with name foo was found` {
		t.Errorf("pod with unknown class: %d %s", r.code, st.Message)
	}
}

// BenchmarkAdmitPodPriority reports the cost the Priority step adds to a pod create, reading the watch cache of a
// real server with the two built-in classes and one user class.
func BenchmarkAdmitPodPriority(b *testing.B) {
	ts := newTestServerTB(b)
	if r := ts.do(http.MethodPost, "/apis/scheduling.k8s.io/v1/priorityclasses", "application/json", "",
		[]byte(`{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"high"},"value":1000}`)); r.code != http.StatusCreated {
		b.Fatalf("create high: %d %s", r.code, r.body)
	}
	lookup := ts.api.priorityClassLookup(context.Background(), false)
	for deadline := time.Now().Add(10 * time.Second); ; {
		if all, _ := lookup.list(); len(all) == 3 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("the watch cache never saw the class")
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, class := range []string{"", "high"} {
		name := "named class"
		if class == "" {
			name = "global default lookup"
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p"}, Spec: corev1.PodSpec{PriorityClassName: class}}
				if err := admitPodPriority(pod, lookup); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
