package e2e

// networking.k8s.io/v1 Ingresses, IngressClasses and NetworkPolicies through the real kubectl against `skiff server
// --disable-agent`: stored, validated and printed as kube-apiserver does (no ingress controller or policy
// enforcement runs). No kubelet runs, so this test needs no machine lock.

import (
	"strings"
	"testing"
)

func TestNetworkingObjects(t *testing.T) {
	c := startServer(t)
	row := func(t *testing.T, args ...string) string {
		t.Helper()
		return strings.Join(strings.Fields(c.mustKubectl(t, append([]string{"get"}, append(args, "--no-headers")...)...)), " ")
	}

	t.Run("discovery", func(t *testing.T) {
		out := c.mustKubectl(t, "api-resources", "--api-group=networking.k8s.io", "--no-headers")
		want := []string{
			"ingressclasses networking.k8s.io/v1 false IngressClass",
			"ingresses ing networking.k8s.io/v1 true Ingress",
			"networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy",
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(want) {
			t.Fatalf("api-resources:\n%s", out)
		}
		for i, l := range lines {
			if got := strings.Join(strings.Fields(l), " "); got != want[i] {
				t.Errorf("api-resources row %d: %q, want %q", i, got, want[i])
			}
		}
	})

	t.Run("ingress", func(t *testing.T) {
		c.mustStdin(t, `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: nginx}
spec: {controller: k8s.io/ingress-nginx}
`, "apply", "-f", "-")
		if got := row(t, "ingressclass", "nginx"); !strings.HasPrefix(got, "nginx k8s.io/ingress-nginx <none> ") {
			t.Errorf("get ingressclass: %q", got)
		}
		out := c.mustKubectl(t, "create", "ingress", "web", "--class=nginx", "--rule=foo.example.com/api*=api:8080", "--rule=bar.example.com/=web:http,tls=bar-tls")
		if strings.TrimSpace(out) != "ingress.networking.k8s.io/web created" {
			t.Errorf("create ingress: %q", out)
		}
		if got := row(t, "ing", "web"); !strings.HasPrefix(got, "web nginx foo.example.com,bar.example.com 80, 443 ") {
			t.Errorf("get ing: %q", got)
		}
		if pt := c.mustKubectl(t, "get", "ing", "web", "-o", "jsonpath={.spec.rules[0].http.paths[0].pathType} {.spec.rules[1].http.paths[0].pathType} {.metadata.generation}"); pt != "Prefix Exact 1" {
			t.Errorf("path types and generation %q", pt)
		}
		desc := c.mustKubectl(t, "describe", "ing", "web")
		for _, want := range []string{"Ingress Class:    nginx", "foo.example.com", "/api   api:8080", "bar-tls terminates bar.example.com"} {
			if !strings.Contains(desc, want) {
				t.Errorf("describe ingress lacks %q:\n%s", want, desc)
			}
		}
		// A spec change bumps the generation; the class field and the old annotation cannot both be set.
		c.mustKubectl(t, "patch", "ing", "web", "--type=json", `-p=[{"op":"replace","path":"/spec/rules/0/http/paths/0/path","value":"/v2"}]`)
		if g := c.mustKubectl(t, "get", "ing", "web", "-o", "jsonpath={.metadata.generation}"); g != "2" {
			t.Errorf("generation after a spec patch %q, want 2", g)
		}
		_, errOut, code := c.stdin(t, `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: bad
  annotations: {kubernetes.io/ingress.class: nginx}
spec:
  ingressClassName: nginx
  rules:
  - host: 10.0.0.1
    http:
      paths:
      - path: api
        pathType: Prefix
        backend: {service: {name: api, port: {number: 80}}}
`, "apply", "-f", "-")
		for _, want := range []string{
			`The Ingress "bad" is invalid: `,
			`spec.rules[0].host: Invalid value: "10.0.0.1": must be a DNS name, not an IP address`,
			`spec.rules[0].http.paths[0].path: Invalid value: "api": must be an absolute path`,
			`annotations.kubernetes.io/ingress.class: Invalid value: "nginx": can not be set when the class field is also set`,
		} {
			if code == 0 || !strings.Contains(errOut, want) {
				t.Errorf("invalid ingress: exit %d, stderr %q lacks %q", code, errOut, want)
			}
		}
		if _, _, code := c.kubectl(t, "get", "ing", "bad"); code == 0 {
			t.Errorf("the invalid ingress was stored")
		}
		if out := c.mustKubectl(t, "explain", "ingress.spec.rules.http.paths.pathType"); !strings.Contains(out, "ImplementationSpecific") {
			t.Errorf("explain pathType:\n%s", out)
		}
	})

	t.Run("network policy", func(t *testing.T) {
		manifest := `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: api}}}]
    ports: [{port: 5432, protocol: TCP}]
  - from: [{namespaceSelector: {}}]
    ports: [{port: 9187}]
  egress:
  - to: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.1.0.0/16]}}]
`
		if out := c.mustStdin(t, manifest, "apply", "-f", "-"); strings.TrimSpace(out) != "networkpolicy.networking.k8s.io/db created" {
			t.Errorf("apply: %q", out)
		}
		// Defaults as kube-apiserver: TCP ports; Ingress, and Egress because there are egress rules.
		if got := c.mustKubectl(t, "get", "netpol", "db", "-o", "jsonpath={.spec.ingress[1].ports[0].protocol} {.spec.policyTypes}"); got != `TCP ["Ingress","Egress"]` {
			t.Errorf("defaults: %q", got)
		}
		// The rules are atomic lists, so a default inside one (the second rule's protocol) makes kubectl patch it on
		// every apply, against kube-apiserver too; the first apply's rules are otherwise kept as given.
		if out := c.mustStdin(t, manifest, "apply", "-f", "-"); strings.TrimSpace(out) != "networkpolicy.networking.k8s.io/db configured" {
			t.Errorf("second apply: %q", out)
		}
		complete := strings.Replace(manifest, "ports: [{port: 9187}]", "ports: [{port: 9187, protocol: TCP}]", 1)
		c.mustStdin(t, complete, "apply", "-f", "-")
		if out := c.mustStdin(t, complete, "apply", "-f", "-"); strings.TrimSpace(out) != "networkpolicy.networking.k8s.io/db unchanged" {
			t.Errorf("apply of an unchanged, fully specified policy: %q", out)
		}
		if got := row(t, "netpol", "db"); !strings.HasPrefix(got, "db app=db ") {
			t.Errorf("get netpol: %q", got)
		}
		_, errOut, code := c.stdin(t, strings.Replace(complete, "except: [10.1.0.0/16]", "except: [192.168.0.0/24]", 1), "apply", "-f", "-")
		if want := "spec.egress[0].to[0].ipBlock.except[0]: Invalid value: \"192.168.0.0/24\": must be a strict subset of `cidr`"; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("bad except: exit %d, stderr %q, want %q", code, errOut, want)
		}
	})
}
