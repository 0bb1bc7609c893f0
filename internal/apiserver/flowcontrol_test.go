package apiserver

import (
	"net/http"
	"strings"
	"testing"
)

func TestFlowControlConfigurationBootstrapped(t *testing.T) {
	ts := newTestServer(t)
	const fsPath = "/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas"
	const plPath = "/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations"
	for path, names := range map[string][]string{
		fsPath: {"exempt", "catch-all", "system-leader-election", "kube-controller-manager", "service-accounts", "global-default"},
		plPath: {"exempt", "catch-all", "system", "leader-election", "workload-high", "workload-low", "global-default", "node-high"},
	} {
		list := decodeMap(t, ts.do("GET", path, "", "", nil))
		got := map[string]bool{}
		for _, it := range list["items"].([]any) {
			m := it.(map[string]any)["metadata"].(map[string]any)
			got[m["name"].(string)] = true
			if m["annotations"].(map[string]any)["apf.kubernetes.io/autoupdate-spec"] != "true" {
				t.Errorf("%s %s lacks the autoupdate annotation", path, m["name"])
			}
		}
		for _, n := range names {
			if !got[n] {
				t.Errorf("%s lacks %s (has %v)", path, n, got)
			}
		}
	}
	// The mandatory objects' spec is fixed; a new schema is defaulted and validated as upstream.
	r := ts.do("PATCH", fsPath+"/catch-all", "application/merge-patch+json", "", []byte(`{"spec":{"matchingPrecedence":5}}`))
	if r.code != http.StatusUnprocessableEntity {
		t.Errorf("changing catch-all: %d %s", r.code, r.body)
	}
	mine := `{"apiVersion":"flowcontrol.apiserver.k8s.io/v1","kind":"FlowSchema","metadata":{"name":"mine"},
		"spec":{"priorityLevelConfiguration":{"name":"workload-low"},"rules":[{"subjects":[{"kind":"Group","group":{"name":"devs"}}],
		"resourceRules":[{"verbs":["*"],"apiGroups":["*"],"resources":["*"],"namespaces":["*"]}]}]}}`
	r = ts.create(fsPath, mine)
	if r.code != http.StatusCreated || !strings.Contains(string(r.body), `"matchingPrecedence":1000`) {
		t.Errorf("create: %d %s", r.code, r.body)
	}
	// The Dangling condition says whether the priority level exists.
	waitFor(t, "catch-all not dangling", func() bool {
		return conditionStatus(decodeMap(t, ts.do("GET", fsPath+"/catch-all", "", "", nil)), "Dangling") == "False"
	})
	if r := ts.create(fsPath, strings.Replace(strings.Replace(mine, `"mine"`, `"orphan"`, 1), `"workload-low"`, `"no-such-level"`, 1)); r.code != http.StatusCreated {
		t.Fatalf("create orphan: %d %s", r.code, r.body)
	}
	waitFor(t, "orphan dangling", func() bool {
		return conditionStatus(decodeMap(t, ts.do("GET", fsPath+"/orphan", "", "", nil)), "Dangling") == "True"
	})
	r = ts.do("PATCH", fsPath+"/mine/status", "application/merge-patch+json", "", []byte(`{"status":{"conditions":[{"type":"Dangling","status":"False","reason":"Found","message":"ok","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}`))
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"Dangling"`) {
		t.Errorf("status patch: %d %s", r.code, r.body)
	}
}
