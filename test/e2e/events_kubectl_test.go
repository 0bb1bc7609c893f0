package e2e

import (
	"strings"
	"testing"
)

// TestKubectlEventsBothVersions writes an event through each events API and reads both with kubectl get events,
// kubectl get events.events.k8s.io and kubectl events: one resource served in two versions, as Kubernetes does.
func TestKubectlEventsBothVersions(t *testing.T) {
	c := startServer(t)
	c.mustStdin(t, `apiVersion: events.k8s.io/v1
kind: Event
metadata:
  name: new-style
  namespace: default
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: example.com/scheduler
reportingInstance: sched-1
action: Binding
reason: Scheduled
note: assigned web to n1
type: Normal
regarding: {apiVersion: v1, kind: Pod, namespace: default, name: web}
`, "create", "-f", "-")
	c.mustStdin(t, `apiVersion: v1
kind: Event
metadata:
  name: old-style
  namespace: default
involvedObject: {apiVersion: v1, kind: Pod, namespace: default, name: web}
reason: Pulled
message: pulled the image
type: Normal
count: 2
source: {component: kubelet, host: n1}
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:00:01Z"
`, "create", "-f", "-")

	got := c.mustKubectl(t, "get", "events", "--field-selector", "involvedObject.name=web", "-o", "jsonpath={range .items[*]}{.metadata.name}={.message};{end}")
	for _, want := range []string{"new-style=assigned web to n1;", "old-style=pulled the image;"} {
		if !strings.Contains(got, want) {
			t.Errorf("kubectl get events (core/v1): %q lacks %q", got, want)
		}
	}
	got = c.mustKubectl(t, "get", "events.v1.events.k8s.io", "--field-selector", "regarding.name=web", "-o", "jsonpath={range .items[*]}{.metadata.name}={.note}/{.deprecatedCount};{end}")
	for _, want := range []string{"new-style=assigned web to n1/;", "old-style=pulled the image/2;"} {
		if !strings.Contains(got, want) {
			t.Errorf("kubectl get events.events.k8s.io: %q lacks %q", got, want)
		}
	}
	out := c.mustKubectl(t, "events", "--for", "pod/web")
	for _, want := range []string{"Scheduled", "assigned web to n1", "Pulled", "pulled the image"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl events --for pod/web lacks %q:\n%s", want, out)
		}
	}
	_, stderr, code := c.stdin(t, `apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: incomplete, namespace: default}
reason: Scheduled
type: Normal
regarding: {kind: Pod, namespace: default, name: web}
`, "create", "-f", "-")
	if code != 1 || !strings.Contains(stderr, `The Event "incomplete" is invalid: eventTime: Required value`) {
		t.Errorf("events.k8s.io event without eventTime: exit %d %q", code, stderr)
	}
	c.mustKubectl(t, "delete", "events.events.k8s.io", "old-style")
	if _, stderr, code := c.kubectl(t, "get", "event", "old-style"); code != 1 || !strings.Contains(stderr, "NotFound") {
		t.Errorf("core event after a delete through events.k8s.io: exit %d %q", code, stderr)
	}
}
