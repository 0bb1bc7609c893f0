package apiserver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func csrPEM(t *testing.T, cn string) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn, Organization: []string{"devs"}}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func TestCertificateSigningRequestsApprovalAndStatus(t *testing.T) {
	base := newTestServer(t)
	hs := httptest.NewServer(withTestUser(base.api.Handler(), "alice"))
	t.Cleanup(hs.Close)
	ts := &testServer{t: t, api: base.api, http: hs, etcd: base.etcd}
	const path = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
	body := fmt.Sprintf(`{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"alice-client"},
		"spec":{"request":%q,"signerName":"kubernetes.io/kube-apiserver-client","usages":["client auth"],"username":"mallory"}}`,
		base64.StdEncoding.EncodeToString(csrPEM(t, "alice")))
	r := ts.create(path, body)
	if r.code != http.StatusCreated {
		t.Fatalf("create: %d %s", r.code, r.body)
	}
	spec := decodeMap(t, r)["spec"].(map[string]any)
	if spec["username"] != "alice" {
		t.Errorf("spec.username = %v, want the requester alice", spec["username"])
	}
	// Approval goes through its own subresource; the main resource keeps the status as it is.
	r = ts.do("PATCH", path+"/alice-client", "application/merge-patch+json", "", []byte(`{"status":{"conditions":[{"type":"Approved","status":"True","reason":"sneaky"}]}}`))
	if r.code != http.StatusOK || strings.Contains(string(r.body), "sneaky") {
		t.Errorf("status through the main resource: %d %s", r.code, r.body)
	}
	r = ts.do("PATCH", path+"/alice-client/approval", "application/merge-patch+json", "", []byte(`{"status":{"conditions":[{"type":"Approved","status":"True","reason":"KubectlApprove","message":"ok"}]}}`))
	if r.code != http.StatusOK {
		t.Fatalf("approve: %d %s", r.code, r.body)
	}
	st := decodeMap(t, r)["status"].(map[string]any)
	conds := st["conditions"].([]any)
	if len(conds) != 1 || conds[0].(map[string]any)["type"] != "Approved" || conds[0].(map[string]any)["lastUpdateTime"] == nil {
		t.Errorf("conditions after approval = %v", conds)
	}
	// Approved and Denied together are refused.
	r = ts.do("PATCH", path+"/alice-client/approval", "application/json-patch+json", "", []byte(`[{"op":"add","path":"/status/conditions/-","value":{"type":"Denied","status":"True","reason":"no"}}]`))
	if r.code != http.StatusUnprocessableEntity {
		t.Errorf("approved and denied: %d %s", r.code, r.body)
	}
	// A bad request is refused with the field path.
	bad := fmt.Sprintf(`{"apiVersion":"certificates.k8s.io/v1","kind":"CertificateSigningRequest","metadata":{"name":"bad"},
		"spec":{"request":%q,"signerName":"kubernetes.io/kube-apiserver-client","usages":["client auth"]}}`, base64.StdEncoding.EncodeToString([]byte("not a pem")))
	r = ts.create(path, bad)
	if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.status(t).Message, "spec.request") {
		t.Errorf("bad request: %d %s", r.code, r.body)
	}
	var list struct{ Items []json.RawMessage }
	_ = json.Unmarshal(ts.do("GET", path+"?fieldSelector=spec.signerName%3Dkubernetes.io%2Fkube-apiserver-client", "", "", nil).body, &list)
	if len(list.Items) != 1 {
		t.Errorf("field selector on spec.signerName: %d items", len(list.Items))
	}
}
