package flowcontrol

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func names[T metav1.Object](objs []T) []string {
	out := make([]string, len(objs))
	for i, o := range objs {
		out[i] = o.GetName()
	}
	return out
}

// TestBootstrapNames checks the objects and their order against k8s.io/apiserver v0.37.2's bootstrap lists.
func TestBootstrapNames(t *testing.T) {
	flowSchemas, levels := Bootstrap()
	wantFS := []string{"exempt", "catch-all", "system-nodes", "system-node-high", "probes", "system-leader-election",
		"kube-controller-manager", "kube-scheduler", "kube-system-service-accounts", "service-accounts", "global-default"}
	wantPL := []string{"catch-all", "exempt", "system", "node-high", "leader-election", "workload-high", "workload-low", "global-default"}
	if got := names(flowSchemas); !reflect.DeepEqual(got, wantFS) {
		t.Errorf("FlowSchemas = %v, want %v", got, wantFS)
	}
	if got := names(levels); !reflect.DeepEqual(got, wantPL) {
		t.Errorf("levels = %v, want %v", got, wantPL)
	}
	for _, o := range append(append([]metav1.Object{}, asObjects(flowSchemas)...), asObjects(levels)...) {
		if got := o.GetAnnotations(); !reflect.DeepEqual(got, map[string]string{"apf.kubernetes.io/autoupdate-spec": "true"}) {
			t.Errorf("%s: annotations = %v, want only apf.kubernetes.io/autoupdate-spec: \"true\"", o.GetName(), got)
		}
	}
	// Every FlowSchema refers to a bootstrap level.
	levelNames := map[string]bool{}
	for _, pl := range levels {
		levelNames[pl.Name] = true
	}
	for _, fs := range flowSchemas {
		if !levelNames[fs.Spec.PriorityLevelConfiguration.Name] {
			t.Errorf("FlowSchema %s refers to unknown level %q", fs.Name, fs.Spec.PriorityLevelConfiguration.Name)
		}
	}
}

func asObjects[T metav1.Object](objs []T) []metav1.Object {
	out := make([]metav1.Object, len(objs))
	for i, o := range objs {
		out[i] = o
	}
	return out
}

// TestBootstrapSpecs compares a few objects with their upstream values, written out as kube-apiserver serves them.
func TestBootstrapSpecs(t *testing.T) {
	flowSchemas, levels := Bootstrap()
	fsByName := map[string]*flowcontrolv1.FlowSchema{}
	for _, fs := range flowSchemas {
		fsByName[fs.Name] = fs
	}
	plByName := map[string]*flowcontrolv1.PriorityLevelConfiguration{}
	for _, pl := range levels {
		plByName[pl.Name] = pl
	}
	for _, tc := range []struct {
		name string
		spec any
		want string
	}{
		{name: "level exempt", spec: plByName["exempt"].Spec,
			want: `{"type":"Exempt","exempt":{"nominalConcurrencyShares":0,"lendablePercent":0}}`},
		{name: "level catch-all", spec: plByName["catch-all"].Spec,
			want: `{"type":"Limited","limited":{"nominalConcurrencyShares":5,"limitResponse":{"type":"Reject"},"lendablePercent":0}}`},
		{name: "level global-default", spec: plByName["global-default"].Spec,
			want: `{"type":"Limited","limited":{"nominalConcurrencyShares":20,"limitResponse":{"type":"Queue","queuing":{"queues":128,"handSize":6,"queueLengthLimit":50}},"lendablePercent":50}}`},
		{name: "level leader-election", spec: plByName["leader-election"].Spec,
			want: `{"type":"Limited","limited":{"nominalConcurrencyShares":10,"limitResponse":{"type":"Queue","queuing":{"queues":16,"handSize":4,"queueLengthLimit":50}},"lendablePercent":0}}`},
		{name: "level workload-low", spec: plByName["workload-low"].Spec,
			want: `{"type":"Limited","limited":{"nominalConcurrencyShares":100,"limitResponse":{"type":"Queue","queuing":{"queues":128,"handSize":6,"queueLengthLimit":50}},"lendablePercent":90}}`},
		{name: "flow schema exempt", spec: fsByName["exempt"].Spec,
			want: `{"priorityLevelConfiguration":{"name":"exempt"},"matchingPrecedence":1,"rules":[{"subjects":[{"kind":"Group","group":{"name":"system:masters"}}],"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}],"nonResourceRules":[{"verbs":["*"],"nonResourceURLs":["*"]}]}]}`},
		{name: "flow schema probes", spec: fsByName["probes"].Spec,
			want: `{"priorityLevelConfiguration":{"name":"exempt"},"matchingPrecedence":2,"rules":[{"subjects":[{"kind":"Group","group":{"name":"system:unauthenticated"}},{"kind":"Group","group":{"name":"system:authenticated"}}],"nonResourceRules":[{"verbs":["get"],"nonResourceURLs":["/healthz","/readyz","/livez"]}]}]}`},
		{name: "flow schema system-leader-election", spec: fsByName["system-leader-election"].Spec,
			want: `{"priorityLevelConfiguration":{"name":"leader-election"},"matchingPrecedence":100,"distinguisherMethod":{"type":"ByUser"},"rules":[{"subjects":[{"kind":"User","user":{"name":"system:kube-controller-manager"}},{"kind":"User","user":{"name":"system:kube-scheduler"}},{"kind":"ServiceAccount","serviceAccount":{"namespace":"kube-system","name":"*"}}],"resourceRules":[{"verbs":["get","create","update"],"apiGroups":["coordination.k8s.io"],"resources":["leases"],"namespaces":["*"]}]}]}`},
		{name: "flow schema system-node-high", spec: fsByName["system-node-high"].Spec,
			want: `{"priorityLevelConfiguration":{"name":"node-high"},"matchingPrecedence":400,"distinguisherMethod":{"type":"ByUser"},"rules":[{"subjects":[{"kind":"Group","group":{"name":"system:nodes"}}],"resourceRules":[{"verbs":["*"],"apiGroups":[""],"resources":["nodes","nodes/status"],"clusterScope":true,"namespaces":["*"]},{"verbs":["*"],"apiGroups":["coordination.k8s.io"],"resources":["leases"],"namespaces":["*"]}]}]}`},
		{name: "flow schema kube-system-service-accounts", spec: fsByName["kube-system-service-accounts"].Spec,
			want: `{"priorityLevelConfiguration":{"name":"workload-high"},"matchingPrecedence":900,"distinguisherMethod":{"type":"ByNamespace"},"rules":[{"subjects":[{"kind":"ServiceAccount","serviceAccount":{"namespace":"kube-system","name":"*"}}],"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}],"nonResourceRules":[{"verbs":["*"],"nonResourceURLs":["*"]}]}]}`},
		{name: "flow schema service-accounts", spec: fsByName["service-accounts"].Spec,
			want: `{"priorityLevelConfiguration":{"name":"workload-low"},"matchingPrecedence":9000,"distinguisherMethod":{"type":"ByUser"},"rules":[{"subjects":[{"kind":"Group","group":{"name":"system:serviceaccounts"}}],"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"clusterScope":true,"namespaces":["*"]}],"nonResourceRules":[{"verbs":["*"],"nonResourceURLs":["*"]}]}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := toJSON(tc.spec); got != tc.want {
				t.Errorf("spec:\n got: %s\nwant: %s", got, tc.want)
			}
		})
	}
}

func TestBootstrapReturnsFreshObjects(t *testing.T) {
	fs1, pl1 := Bootstrap()
	fs1[0].Spec.MatchingPrecedence = 42
	fs1[0].Annotations["x"] = "y"
	*pl1[0].Spec.Limited.NominalConcurrencyShares = 99
	fs2, pl2 := Bootstrap()
	if fs2[0].Spec.MatchingPrecedence != 1 || len(fs2[0].Annotations) != 1 || *pl2[0].Spec.Limited.NominalConcurrencyShares != 5 {
		t.Errorf("a caller's change leaked into the next Bootstrap call")
	}
	if MandatoryFlowSchema("probes") != nil || MandatoryFlowSchema("catch-all") == nil {
		t.Errorf("MandatoryFlowSchema: probes is suggested, catch-all mandatory")
	}
	if MandatoryPriorityLevel("global-default") != nil || MandatoryPriorityLevel("exempt") == nil {
		t.Errorf("MandatoryPriorityLevel: global-default is suggested, exempt mandatory")
	}
}

func TestReviseFlowSchema(t *testing.T) {
	boot := MandatoryFlowSchema("catch-all")
	stored := func(annotation string, generation int64, precedence int32) *flowcontrolv1.FlowSchema {
		fs := boot.DeepCopy()
		fs.Generation = generation
		fs.Annotations = map[string]string{}
		if annotation != "" {
			fs.Annotations[flowcontrolv1.AutoUpdateAnnotationKey] = annotation
		}
		fs.Spec.MatchingPrecedence = precedence
		return fs
	}
	for _, tc := range []struct {
		name           string
		current        *flowcontrolv1.FlowSchema
		mandatory      bool
		wantUpdate     bool
		wantAnnotation string
		wantPrecedence int32
	}{
		{name: "up to date", current: stored("true", 1, 10000), mandatory: true},
		{name: "mandatory: changed spec is restored", current: stored("true", 2, 500), mandatory: true,
			wantUpdate: true, wantAnnotation: "true", wantPrecedence: 10000},
		{name: "mandatory: autoupdate false is overridden", current: stored("false", 2, 500), mandatory: true,
			wantUpdate: true, wantAnnotation: "true", wantPrecedence: 10000},
		{name: "suggested: operator opted out", current: stored("false", 2, 500)},
		{name: "suggested: autoupdate true gets the spec back", current: stored("true", 2, 500),
			wantUpdate: true, wantAnnotation: "true", wantPrecedence: 10000},
		{name: "suggested: no annotation, generation 1 means untouched", current: stored("", 1, 500),
			wantUpdate: true, wantAnnotation: "true", wantPrecedence: 10000},
		{name: "suggested: no annotation, edited by the operator", current: stored("", 2, 500),
			wantUpdate: true, wantAnnotation: "false", wantPrecedence: 500},
		{name: "suggested: malformed annotation, untouched spec", current: stored("maybe", 3, 10000),
			wantUpdate: true, wantAnnotation: "false", wantPrecedence: 10000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.current.DeepCopy()
			got := ReviseFlowSchema(tc.current, boot, tc.mandatory)
			if !reflect.DeepEqual(before, tc.current) {
				t.Errorf("current was modified")
			}
			if (got != nil) != tc.wantUpdate {
				t.Fatalf("update = %v, want %v", got != nil, tc.wantUpdate)
			}
			if got == nil {
				return
			}
			if a := got.Annotations[flowcontrolv1.AutoUpdateAnnotationKey]; a != tc.wantAnnotation {
				t.Errorf("annotation = %q, want %q", a, tc.wantAnnotation)
			}
			if got.Spec.MatchingPrecedence != tc.wantPrecedence {
				t.Errorf("matchingPrecedence = %d, want %d", got.Spec.MatchingPrecedence, tc.wantPrecedence)
			}
		})
	}
}

func TestRevisePriorityLevel(t *testing.T) {
	exempt := MandatoryPriorityLevel("exempt")
	tuned := exempt.DeepCopy()
	tuned.Spec.Exempt.NominalConcurrencyShares = ptr(int32(10))
	if got := RevisePriorityLevel(tuned, exempt, true); got != nil {
		t.Errorf("exempt level with operator-set spec.exempt: got update %s, want none", toJSON(got.Spec))
	}
	broken := exempt.DeepCopy()
	broken.Spec.Exempt = nil
	if got := RevisePriorityLevel(broken, exempt, true); got == nil || !reflect.DeepEqual(got.Spec, exempt.Spec) {
		t.Errorf("exempt level without spec.exempt: want the bootstrap spec back")
	}
	catchAll := MandatoryPriorityLevel("catch-all")
	changed := catchAll.DeepCopy()
	*changed.Spec.Limited.NominalConcurrencyShares = 50
	if got := RevisePriorityLevel(changed, catchAll, true); got == nil || *got.Spec.Limited.NominalConcurrencyShares != 5 {
		t.Errorf("catch-all with other shares: want shares 5 restored")
	}
}

func TestUnwanted(t *testing.T) {
	bootNames := []string{"global-default", "catch-all"}
	for _, tc := range []struct {
		name        string
		obj         string
		annotations map[string]string
		want        bool
	}{
		{name: "a bootstrap object", obj: "global-default", annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: "true"}},
		{name: "a retired bootstrap object", obj: "workload-leader-election", annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: "true"}, want: true},
		{name: "a user's object", obj: "mine"},
		{name: "opted out", obj: "old", annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: "false"}},
		{name: "malformed", obj: "old", annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: "yes please"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: tc.obj, Annotations: tc.annotations}}
			if got := Unwanted(fs, bootNames); got != tc.want {
				t.Errorf("Unwanted = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestDangling(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	t1 := t0.Add(time.Minute)
	_, levels := Bootstrap()
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: "mine"},
		Spec: flowcontrolv1.FlowSchemaSpec{PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: "global-default"}}}

	cond, changed := Dangling(fs, levels, t0)
	want := flowcontrolv1.FlowSchemaCondition{Type: "Dangling", Status: "False", LastTransitionTime: metav1.NewTime(t0), Reason: "Found",
		Message: `This FlowSchema references the PriorityLevelConfiguration object named "global-default" and it exists`}
	if !changed || !reflect.DeepEqual(cond, want) {
		t.Fatalf("first sync: got %s (changed %v), want %s", toJSON(cond), changed, toJSON(want))
	}
	SetFlowSchemaCondition(fs, cond)

	if cond, changed = Dangling(fs, levels, t1); changed || !reflect.DeepEqual(cond, want) {
		t.Errorf("steady state: got %s (changed %v), want the stored condition unchanged", toJSON(cond), changed)
	}

	fs.Spec.PriorityLevelConfiguration.Name = "gone"
	cond, changed = Dangling(fs, levels, t1)
	want = flowcontrolv1.FlowSchemaCondition{Type: "Dangling", Status: "True", LastTransitionTime: metav1.NewTime(t1), Reason: "NotFound",
		Message: `This FlowSchema references the PriorityLevelConfiguration object named "gone" but there is no such object`}
	if !changed || !reflect.DeepEqual(cond, want) {
		t.Fatalf("dangling: got %s (changed %v), want %s", toJSON(cond), changed, toJSON(want))
	}
	fs.Status.Conditions = append([]flowcontrolv1.FlowSchemaCondition{{Type: "PatchStatusFailed", Status: "False"}}, fs.Status.Conditions...)
	SetFlowSchemaCondition(fs, cond)
	if len(fs.Status.Conditions) != 2 || fs.Status.Conditions[0].Type != "PatchStatusFailed" || !reflect.DeepEqual(fs.Status.Conditions[1], want) {
		t.Errorf("SetFlowSchemaCondition: conditions = %s, want the Dangling one replaced in place", toJSON(fs.Status.Conditions))
	}
}
