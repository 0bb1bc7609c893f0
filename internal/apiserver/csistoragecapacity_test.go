package apiserver

import (
	"encoding/json"
	"strings"
	"testing"
)

// statusMessage is the message of a Status response body.
func statusMessage(r result) string {
	var st struct{ Message string }
	_ = json.Unmarshal(r.body, &st)
	return st.Message
}

func TestCSIStorageCapacity(t *testing.T) {
	ts := newTestServer(t)
	const path = "/apis/storage.k8s.io/v1/namespaces/default/csistoragecapacities"
	good := `{"apiVersion":"storage.k8s.io/v1","kind":"CSIStorageCapacity","metadata":{"name":"c1"},"storageClassName":"fast","capacity":"10Gi","nodeTopology":{"matchLabels":{"zone":"a"}}}`
	if r := ts.create(path, good); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	bad := `{"apiVersion":"storage.k8s.io/v1","kind":"CSIStorageCapacity","metadata":{"name":"c2"},"storageClassName":"Not_Valid","capacity":"-1"}`
	r := ts.create(path, bad)
	if msg := statusMessage(r); r.code != 422 || !strings.Contains(msg, `storageClassName: Invalid value: "Not_Valid"`) || !strings.Contains(msg, `capacity: Invalid value: "-1": must be greater than or equal to 0`) {
		t.Fatalf("invalid create: %d %s", r.code, r.body)
	}
	r = ts.do("PATCH", path+"/c1", "application/merge-patch+json", "", []byte(`{"storageClassName":"slow"}`))
	if msg := statusMessage(r); r.code != 422 || !strings.Contains(msg, `storageClassName: Invalid value: "slow": field is immutable`) {
		t.Fatalf("storageClassName change: %d %s", r.code, r.body)
	}
	r = ts.do("PATCH", path+"/c1", "application/merge-patch+json", "", []byte(`{"capacity":"20Gi"}`))
	if r.code != 200 {
		t.Fatalf("capacity change: %d %s", r.code, r.body)
	}
	r = ts.do("GET", "/apis/storage.k8s.io/v1/csistoragecapacities", "", "", nil)
	if r.code != 200 || !strings.Contains(string(r.body), `"capacity":"20Gi"`) {
		t.Fatalf("list across namespaces: %d %s", r.code, r.body)
	}
}

func TestVolumeAttributesClass(t *testing.T) {
	ts := newTestServer(t)
	const path = "/apis/storage.k8s.io/v1/volumeattributesclasses"
	if r := ts.create(path, `{"apiVersion":"storage.k8s.io/v1","kind":"VolumeAttributesClass","metadata":{"name":"gold"},"driverName":"csi.example.com","parameters":{"iops":"100"}}`); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	r := ts.create(path, `{"apiVersion":"storage.k8s.io/v1","kind":"VolumeAttributesClass","metadata":{"name":"bad"}}`)
	if msg := statusMessage(r); r.code != 422 || !strings.Contains(msg, "driverName: Required value") {
		t.Fatalf("create without a driver: %d %s", r.code, r.body)
	}
	r = ts.do("PATCH", path+"/gold", "application/merge-patch+json", "", []byte(`{"parameters":{"iops":"200"}}`))
	if msg := statusMessage(r); r.code != 422 || !strings.Contains(msg, "parameters: Forbidden: updates to parameters are forbidden.") {
		t.Fatalf("parameters change: %d %s", r.code, r.body)
	}
	r = ts.do("PATCH", path+"/gold", "application/merge-patch+json", "", []byte(`{"metadata":{"labels":{"tier":"gold"}}}`))
	if r.code != 200 {
		t.Fatalf("label change: %d %s", r.code, r.body)
	}
}
