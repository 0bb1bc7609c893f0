package apiserver

import (
	"encoding/json"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
)

const (
	coreEvents = "/api/v1/namespaces/default/events"
	v1Events   = "/apis/events.k8s.io/v1/namespaces/default/events"
)

func TestEventsAreOneResourceInTwoVersions(t *testing.T) {
	ts := newTestServer(t)
	w := openWatch(t, ts, v1Events+"?watch=true&resourceVersion=0")
	defer w.Close()
	coreW := openWatch(t, ts, coreEvents+"?watch=true&resourceVersion=0&fieldSelector=involvedObject.name=web")
	defer coreW.Close()

	// Written through core/v1, read through events.k8s.io/v1.
	r := ts.create(coreEvents, `{"apiVersion":"v1","kind":"Event","metadata":{"name":"old"},
		"involvedObject":{"kind":"Pod","namespace":"default","name":"web","uid":"u1"},
		"reason":"Pulled","message":"pulled the image","type":"Normal","count":3,
		"source":{"component":"kubelet","host":"n1"},
		"firstTimestamp":"2026-01-01T00:00:00Z","lastTimestamp":"2026-01-01T00:01:00Z"}`)
	if r.code != 201 {
		t.Fatalf("core create: %d %s", r.code, r.body)
	}
	r = ts.do("GET", v1Events+"/old", "", "", nil)
	var ev eventsv1.Event
	if err := json.Unmarshal(r.body, &ev); err != nil || r.code != 200 {
		t.Fatalf("events.k8s.io get: %d %s", r.code, r.body)
	}
	if ev.APIVersion != "events.k8s.io/v1" || ev.Kind != "Event" || ev.Note != "pulled the image" || ev.Regarding.Name != "web" ||
		ev.DeprecatedCount != 3 || ev.DeprecatedSource.Component != "kubelet" || ev.DeprecatedSource.Host != "n1" ||
		ev.DeprecatedFirstTimestamp.IsZero() || ev.DeprecatedLastTimestamp.IsZero() || ev.Reason != "Pulled" || ev.Type != "Normal" {
		t.Fatalf("core event seen through events.k8s.io/v1: %s", r.body)
	}

	// Written through events.k8s.io/v1, read through core/v1.
	r = ts.create(v1Events, `{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"new"},
		"eventTime":"2026-01-01T00:00:00.000001Z","reportingController":"example.com/ctl","reportingInstance":"ctl-1",
		"action":"Scheduling","reason":"Scheduled","note":"assigned","type":"Normal",
		"regarding":{"kind":"Pod","namespace":"default","name":"web"},
		"related":{"kind":"Node","name":"n1"},
		"series":{"count":2,"lastObservedTime":"2026-01-01T00:00:05.000000Z"}}`)
	if r.code != 201 {
		t.Fatalf("events.k8s.io create: %d %s", r.code, r.body)
	}
	r = ts.do("GET", coreEvents+"/new", "", "", nil)
	var ce corev1.Event
	if err := json.Unmarshal(r.body, &ce); err != nil || r.code != 200 {
		t.Fatalf("core get: %d %s", r.code, r.body)
	}
	if ce.APIVersion != "v1" || ce.Message != "assigned" || ce.InvolvedObject.Name != "web" || ce.ReportingController != "example.com/ctl" ||
		ce.ReportingInstance != "ctl-1" || ce.Action != "Scheduling" || ce.Related == nil || ce.Related.Name != "n1" ||
		ce.Series == nil || ce.Series.Count != 2 || ce.EventTime.IsZero() {
		t.Fatalf("events.k8s.io event seen through core/v1: %s", r.body)
	}

	// Both lists hold both events, each in its own form.
	var cl corev1.EventList
	_ = json.Unmarshal(ts.do("GET", coreEvents, "", "", nil).body, &cl)
	var vl eventsv1.EventList
	_ = json.Unmarshal(ts.do("GET", v1Events, "", "", nil).body, &vl)
	if len(cl.Items) != 2 || len(vl.Items) != 2 || vl.Kind != "EventList" || vl.APIVersion != "events.k8s.io/v1" {
		t.Fatalf("lists: core %d, events.k8s.io %d (%s %s)", len(cl.Items), len(vl.Items), vl.APIVersion, vl.Kind)
	}
	// The watches see both writes, converted.
	evs := watchEvents(t, w, 2)
	for i, name := range []string{"old", "new"} {
		obj := evs[i]["object"].(map[string]any)
		if evs[i]["type"] != "ADDED" || obj["apiVersion"] != "events.k8s.io/v1" || obj["metadata"].(map[string]any)["name"] != name {
			t.Fatalf("events.k8s.io watch event %d: %v", i, evs[i])
		}
	}
	if obj := evs[0]["object"].(map[string]any); obj["note"] != "pulled the image" {
		t.Fatalf("watch event not converted: %v", obj)
	}
	cevs := watchEvents(t, coreW, 2)
	if obj := cevs[1]["object"].(map[string]any); obj["apiVersion"] != "v1" || obj["message"] != "assigned" {
		t.Fatalf("core watch event: %v", cevs[1])
	}

	// Field selectors use each version's names.
	for _, tt := range []struct {
		path string
		want int
	}{
		{v1Events + "?fieldSelector=regarding.name%3Dweb", 2},
		{v1Events + "?fieldSelector=reportingController%3Dexample.com/ctl", 1},
		{v1Events + "?fieldSelector=regarding.name%3Dother", 0},
		{coreEvents + "?fieldSelector=involvedObject.name%3Dweb,reason%3DScheduled", 1},
		{coreEvents + "?fieldSelector=reportingComponent%3Dexample.com/ctl", 1},
		{coreEvents + "?fieldSelector=source%3Dkubelet", 1},
	} {
		r := ts.do("GET", tt.path, "", "", nil)
		var l struct{ Items []any }
		_ = json.Unmarshal(r.body, &l)
		if r.code != 200 || len(l.Items) != tt.want {
			t.Errorf("%s: %d, %d items, want %d: %s", tt.path, r.code, len(l.Items), tt.want, r.body)
		}
	}
	for _, path := range []string{v1Events + "?fieldSelector=involvedObject.name%3Dweb", coreEvents + "?fieldSelector=regarding.name%3Dweb"} {
		if r := ts.do("GET", path, "", "", nil); r.code != 400 || !strings.Contains(string(r.body), "field label not supported") {
			t.Errorf("%s: %d %s", path, r.code, r.body)
		}
	}

	// Updates and patches through one version are seen through the other; deletes too.
	r = ts.do("PATCH", v1Events+"/old", "application/merge-patch+json", "", []byte(`{"metadata":{"labels":{"seen":"yes"}}}`))
	if r.code != 200 {
		t.Fatalf("events.k8s.io patch: %d %s", r.code, r.body)
	}
	_ = json.Unmarshal(ts.do("GET", coreEvents+"/old", "", "", nil).body, &ce)
	if ce.Labels["seen"] != "yes" || ce.Message != "pulled the image" || ce.Count != 3 {
		t.Fatalf("after patch through events.k8s.io: labels %v count %d message %q", ce.Labels, ce.Count, ce.Message)
	}
	// As upstream, deprecatedCount is immutable through events.k8s.io/v1 but count may change through core/v1.
	if r := ts.do("PATCH", v1Events+"/old", "application/merge-patch+json", "", []byte(`{"deprecatedCount":4}`)); r.code != 422 || !strings.Contains(string(r.body), "count: Invalid value: 4: field is immutable") {
		t.Fatalf("events.k8s.io count change: %d %s", r.code, r.body)
	}
	if r := ts.do("PATCH", coreEvents+"/old", "application/strategic-merge-patch+json", "", []byte(`{"count":4}`)); r.code != 200 {
		t.Fatalf("core count change: %d %s", r.code, r.body)
	}
	_ = json.Unmarshal(ts.do("GET", v1Events+"/old", "", "", nil).body, &ev)
	if ev.DeprecatedCount != 4 || ev.Labels["seen"] != "yes" {
		t.Fatalf("after core patch: deprecatedCount %d labels %v", ev.DeprecatedCount, ev.Labels)
	}
	if r := ts.do("DELETE", coreEvents+"/new", "", "", nil); r.code != 200 {
		t.Fatalf("core delete: %d %s", r.code, r.body)
	}
	if r := ts.do("GET", v1Events+"/new", "", "", nil); r.code != 404 || !strings.Contains(string(r.body), `events.events.k8s.io \"new\" not found`) {
		t.Fatalf("after delete: %d %s", r.code, r.body)
	}
	if r := ts.do("DELETE", v1Events+"/old", "", "", nil); r.code != 200 || !strings.Contains(string(r.body), `"apiVersion":"events.k8s.io/v1"`) {
		t.Fatalf("events.k8s.io delete: %d %s", r.code, r.body)
	}
	if r := ts.do("GET", coreEvents+"/old", "", "", nil); r.code != 404 {
		t.Fatalf("after delete through events.k8s.io: %d", r.code)
	}
}

func TestEventsV1ValidationAsUpstream(t *testing.T) {
	ts := newTestServer(t)
	r := ts.create(v1Events, `{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"bare"},"reason":"R","type":"Normal","regarding":{"kind":"Pod","namespace":"default","name":"p"}}`)
	if st := r.status(t); r.code != 422 || st.Message != `Event.events.k8s.io "bare" is invalid: eventTime: Required value` {
		t.Errorf("without eventTime: %d %q", r.code, st.Message)
	}
	r = ts.create(v1Events, `{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"bare"},"eventTime":"2026-01-01T00:00:00.000000Z","reason":"R","type":"Normal","regarding":{"kind":"Pod","namespace":"default","name":"p"}}`)
	st := r.status(t)
	for _, want := range []string{"reportingController: Required value", "reportingInstance: Required value", "action: Required value"} {
		if r.code != 422 || !strings.Contains(st.Message, want) {
			t.Errorf("missing %q in %d %q", want, r.code, st.Message)
		}
	}
	long := strings.Repeat("x", 1025)
	r = ts.create(v1Events, `{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"long"},"eventTime":"2026-01-01T00:00:00.000000Z",
		"reportingController":"c","reportingInstance":"i","action":"A","reason":"R","type":"Normal","note":"`+long+`","regarding":{"kind":"Pod","namespace":"default","name":"p"}}`)
	if st := r.status(t); r.code != 422 || !strings.Contains(st.Message, "can have at most 1024 characters") {
		t.Fatalf("note over 1 KiB: %d %q", r.code, st.Message)
	}
	// The same event without eventTime is fine through core/v1 (the legacy rules).
	if r := ts.create(coreEvents, `{"apiVersion":"v1","kind":"Event","metadata":{"name":"bare"},"reason":"R","type":"Normal","involvedObject":{"kind":"Pod","namespace":"default","name":"p"}}`); r.code != 201 {
		t.Fatalf("core create: %d %s", r.code, r.body)
	}
}
