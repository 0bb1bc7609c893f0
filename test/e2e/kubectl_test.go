package e2e

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// ---- output parsing helpers ----

// table is kubectl's column output, split by the header's column positions (cells may be empty).
type table struct {
	header []string
	rows   [][]string
}

var headerWord = regexp.MustCompile(`\S+`)

func parseTable(t *testing.T, out string) table {
	t.Helper()
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) == 0 || strings.TrimSpace(lines[0]) == "" {
		t.Fatalf("no table in output %q", out)
	}
	locs := headerWord.FindAllStringIndex(lines[0], -1)
	var tb table
	for _, l := range locs {
		tb.header = append(tb.header, lines[0][l[0]:l[1]])
	}
	for _, line := range lines[1:] {
		row := make([]string, len(locs))
		for i, l := range locs {
			start, end := l[0], len(line)
			if i+1 < len(locs) {
				end = locs[i+1][0]
			}
			if start >= len(line) {
				continue
			}
			row[i] = strings.TrimSpace(line[start:min(end, len(line))])
		}
		tb.rows = append(tb.rows, row)
	}
	return tb
}

// col returns the index of column name, failing the test when it is missing.
func (tb table) col(t *testing.T, name string) int {
	t.Helper()
	i := slices.Index(tb.header, name)
	if i < 0 {
		t.Fatalf("no column %q in %q", name, tb.header)
	}
	return i
}

// row returns the row whose column colName is value.
func (tb table) row(t *testing.T, colName, value string) []string {
	t.Helper()
	i := tb.col(t, colName)
	for _, r := range tb.rows {
		if r[i] == value {
			return r
		}
	}
	t.Fatalf("no row with %s=%q in %q", colName, value, tb.rows)
	return nil
}

// column returns every cell of column name, in row order.
func (tb table) column(t *testing.T, name string) []string {
	t.Helper()
	i := tb.col(t, name)
	var out []string
	for _, r := range tb.rows {
		out = append(out, r[i])
	}
	return out
}

// matchCells compares a row with want: "*" matches anything, "~re" a regular expression, else exact text.
func matchCells(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: row %q, want %q", what, got, want)
		return
	}
	for i, w := range want {
		switch {
		case w == "*":
		case strings.HasPrefix(w, "~"):
			if !regexp.MustCompile(w[1:]).MatchString(got[i]) {
				t.Errorf("%s: cell %d = %q, want match of %s (row %q)", what, i, got[i], w[1:], got)
			}
		case got[i] != w:
			t.Errorf("%s: cell %d = %q, want %q (row %q)", what, i, got[i], w, got)
		}
	}
}

// ageCell matches kubectl's AGE column (0s, 5s, 2m3s, ...).
const ageCell = `~^[0-9]+[smhd]([0-9]+[smh])?$`

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func sortedLines(s string) []string {
	l := lines(s)
	sort.Strings(l)
	return l
}

func parseObject(t *testing.T, out string) *unstructured.Unstructured {
	t.Helper()
	u := &unstructured.Unstructured{}
	if err := u.UnmarshalJSON([]byte(out)); err != nil {
		t.Fatalf("not a JSON object: %v\n%s", err, out)
	}
	return u
}

func nestedString(t *testing.T, u *unstructured.Unstructured, path ...string) string {
	t.Helper()
	s, _, err := unstructured.NestedString(u.Object, path...)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(path, "."), err)
	}
	return s
}

func formatLabels(l map[string]string) string {
	var parts []string
	for k, v := range l {
		parts = append(parts, k+"="+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

func wantExit(t *testing.T, what string, code, want int, stderr string) {
	t.Helper()
	if code != want {
		t.Errorf("%s: exit %d, want %d (stderr %q)", what, code, want, stderr)
	}
}

func wantContains(t *testing.T, what, got, sub string) {
	t.Helper()
	if !strings.Contains(got, sub) {
		t.Errorf("%s: %q does not contain %q", what, got, sub)
	}
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// ---- cluster basics ----

func TestKubectlClusterBasics(t *testing.T) {
	t.Parallel()
	c := startServer(t)

	t.Run("version", func(t *testing.T) {
		out := c.mustKubectl(t, "version")
		wantContains(t, "kubectl version", out, "Server Version: v1.32.4-skiff")
		var v struct {
			ServerVersion map[string]string `json:"serverVersion"`
		}
		if err := json.Unmarshal([]byte(c.mustKubectl(t, "version", "-o", "json")), &v); err != nil {
			t.Fatal(err)
		}
		if sv := v.ServerVersion; sv["gitVersion"] != "v1.32.4-skiff" || sv["major"] != "1" || sv["minor"] != "32" {
			t.Errorf("serverVersion = %v, want gitVersion v1.32.4-skiff, major 1, minor 32", sv)
		}
	})

	t.Run("namespaces", func(t *testing.T) {
		tb := parseTable(t, c.mustKubectl(t, "get", "ns"))
		if !slices.Equal(tb.header, []string{"NAME", "STATUS", "AGE"}) {
			t.Fatalf("header %q", tb.header)
		}
		want := []string{"default", "kube-node-lease", "kube-public", "kube-system"}
		if got := tb.column(t, "NAME"); !slices.Equal(got, want) {
			t.Errorf("namespaces %q, want %q", got, want)
		}
		for _, r := range tb.rows {
			matchCells(t, "get ns", r, []string{"*", "Active", ageCell})
		}
	})

	t.Run("kubernetes service", func(t *testing.T) {
		tb := parseTable(t, c.mustKubectl(t, "get", "svc", "kubernetes", "-o", "wide"))
		if want := []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"}; !slices.Equal(tb.header, want) {
			t.Fatalf("header %q, want %q", tb.header, want)
		}
		if len(tb.rows) != 1 {
			t.Fatalf("rows %q", tb.rows)
		}
		matchCells(t, "get svc kubernetes -o wide", tb.rows[0], []string{"kubernetes", "ClusterIP", "10.43.0.1", "<none>", "443/TCP", ageCell, "<none>"})
	})

	t.Run("explain", func(t *testing.T) {
		out := c.mustKubectl(t, "explain", "deployment.spec.strategy")
		for _, want := range []string{"KIND:       Deployment", "FIELD: strategy <DeploymentStrategy>"} {
			wantContains(t, "explain", out, want)
		}
		for _, re := range []string{`(?m)^\s+rollingUpdate\s+<RollingUpdateDeployment>`, `(?m)^\s+type\s+<string>`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("explain deployment.spec.strategy: no match for %s in\n%s", re, out)
			}
		}
		_, stderr, code := c.kubectl(t, "explain", "deployment.spec.nosuchfield")
		wantExit(t, "explain missing field", code, 1, stderr)
		wantContains(t, "explain missing field", stderr, `field "nosuchfield" does not exist`)
	})

	t.Run("unauthorized", func(t *testing.T) {
		cfg, err := clientcmd.LoadFromFile(c.Kubeconfig)
		if err != nil {
			t.Fatal(err)
		}
		for _, ai := range cfg.AuthInfos {
			ai.ClientCertificateData, ai.ClientKeyData, ai.ClientCertificate, ai.ClientKey = nil, nil, "", ""
			ai.Token = "not-a-valid-token"
		}
		badToken := filepath.Join(t.TempDir(), "badtoken.kubeconfig")
		if err := clientcmd.WriteToFile(*cfg, badToken); err != nil {
			t.Fatal(err)
		}
		_, stderr, code := c.kubectlWith(t, kubectlOpts{kubeconfig: badToken}, "get", "ns")
		wantExit(t, "get ns with a wrong token", code, 1, stderr)
		wantContains(t, "get ns with a wrong token", stderr, "error: You must be logged in to the server (Unauthorized)")

		// Without any credentials kubectl would prompt for a password, so ask over plain HTTPS, as curl would.
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(cfg.Clusters[cfg.Contexts[cfg.CurrentContext].Cluster].CertificateAuthorityData) {
			t.Fatal("no CA in kubeconfig")
		}
		client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
		for _, auth := range []string{"", "Bearer not-a-valid-token"} {
			req, _ := http.NewRequest(http.MethodGet, fmt.Sprintf("https://127.0.0.1:%d/api/v1/namespaces", c.Port), nil)
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var st struct {
				Kind   string `json:"kind"`
				Code   int    `json:"code"`
				Reason string `json:"reason"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized || st.Kind != "Status" || st.Code != 401 || st.Reason != "Unauthorized" {
				t.Errorf("GET with Authorization %q: HTTP %d %+v, want 401 Status Unauthorized", auth, resp.StatusCode, st)
			}
		}
		// The public paths stay open.
		if code, _, err := getURL(client, fmt.Sprintf("https://127.0.0.1:%d/version", c.Port)); err != nil || code != http.StatusOK {
			t.Errorf("anonymous GET /version: %d %v", code, err)
		}
	})
}

// ---- generic CRUD over the common kinds ----

type kindCase struct {
	name       string // subtest name and suite label
	resource   string // kubectl resource argument
	prefix     string // what -o name prints before the object name
	gr         string // resource.group, as NotFound messages name it
	apiVersion string
	kind       string
	namespaced bool
	// create returns the imperative create command for name.
	create func(name string) []string
	// body is the manifest after metadata; {{name}} is replaced by the object name.
	body string
	// header and wide are the exact table headers of get and get -o wide.
	header, wide []string
	// row and wideRow are the expected cells of the manifest-made object "beta" ("*" any, "~" regexp).
	row, wideRow []string
}

func kindCases() []kindCase {
	return []kindCase{
		{
			name: "configmaps", resource: "configmap", prefix: "configmap/", gr: "configmaps", apiVersion: "v1", kind: "ConfigMap", namespaced: true,
			create: func(n string) []string { return []string{"create", "configmap", n, "--from-literal=k=v"} },
			body:   "data:\n  k: v\n",
			header: []string{"NAME", "DATA", "AGE"}, wide: []string{"NAME", "DATA", "AGE"},
			row: []string{"beta", "1", ageCell}, wideRow: []string{"beta", "1", ageCell},
		},
		{
			name: "secrets", resource: "secret", prefix: "secret/", gr: "secrets", apiVersion: "v1", kind: "Secret", namespaced: true,
			create: func(n string) []string { return []string{"create", "secret", "generic", n, "--from-literal=k=v"} },
			body:   "type: Opaque\ndata:\n  k: dg==\n  k2: djI=\n",
			header: []string{"NAME", "TYPE", "DATA", "AGE"}, wide: []string{"NAME", "TYPE", "DATA", "AGE"},
			row: []string{"beta", "Opaque", "2", ageCell}, wideRow: []string{"beta", "Opaque", "2", ageCell},
		},
		{
			name: "services", resource: "service", prefix: "service/", gr: "services", apiVersion: "v1", kind: "Service", namespaced: true,
			create:  func(n string) []string { return []string{"create", "service", "clusterip", n, "--tcp=80:8080"} },
			body:    "spec:\n  selector:\n    app: {{name}}\n  ports:\n  - port: 80\n    targetPort: 8080\n",
			header:  []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"},
			wide:    []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"},
			row:     []string{"beta", "ClusterIP", `~^10\.43\.[0-9]+\.[0-9]+$`, "<none>", "80/TCP", ageCell},
			wideRow: []string{"beta", "ClusterIP", `~^10\.43\.[0-9]+\.[0-9]+$`, "<none>", "80/TCP", ageCell, "app=beta"},
		},
		{
			name: "deployments", resource: "deployment", prefix: "deployment.apps/", gr: "deployments.apps", apiVersion: "apps/v1", kind: "Deployment", namespaced: true,
			create: func(n string) []string { return []string{"create", "deployment", n, "--image=nginx:1.25"} },
			body: "spec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: {{name}}\n  template:\n    metadata:\n      labels:\n        app: {{name}}\n" +
				"    spec:\n      containers:\n      - name: web\n        image: nginx:1.25\n",
			header: []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"},
			wide:   []string{"NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"},
			// No pods run in these tests; a deployment controller may or may not have counted them yet.
			row:     []string{"beta", "~^[01]/1$", "~^[01]$", "~^[01]$", ageCell},
			wideRow: []string{"beta", "~^[01]/1$", "~^[01]$", "~^[01]$", ageCell, "web", "nginx:1.25", "app=beta"},
		},
		{
			name: "namespaces", resource: "namespace", prefix: "namespace/", gr: "namespaces", apiVersion: "v1", kind: "Namespace",
			create: func(n string) []string { return []string{"create", "namespace", n} },
			header: []string{"NAME", "STATUS", "AGE"}, wide: []string{"NAME", "STATUS", "AGE"},
			row: []string{"e2e-beta", "Active", ageCell}, wideRow: []string{"e2e-beta", "Active", ageCell},
		},
	}
}

func (k kindCase) objName(n string) string {
	if k.namespaced {
		return n
	}
	return "e2e-" + n // namespaces share one cluster-wide name space with the others
}

func (k kindCase) manifest(ns, name string, labels map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n", k.apiVersion, k.kind, name)
	if k.namespaced {
		fmt.Fprintf(&b, "  namespace: %s\n", ns)
	}
	if len(labels) > 0 {
		b.WriteString("  labels:\n")
		keys := make([]string, 0, len(labels))
		for key := range labels {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		for _, key := range keys {
			fmt.Fprintf(&b, "    %s: %q\n", key, labels[key])
		}
	}
	b.WriteString(strings.ReplaceAll(k.body, "{{name}}", name))
	return b.String()
}

func TestKubectlResources(t *testing.T) {
	t.Parallel()
	c := startServer(t)
	for _, k := range kindCases() {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			testKindCRUD(t, c, k)
		})
	}
}

func testKindCRUD(t *testing.T, c *cluster, k kindCase) {
	ns := "crud-" + k.name
	nsArgs := func(args ...string) []string {
		if k.namespaced {
			return append(args, "-n", ns)
		}
		return args
	}
	kc := func(args ...string) string { t.Helper(); return c.mustKubectl(t, nsArgs(args...)...) }
	suite := "suite=" + k.name
	alpha, beta, gamma, delta := k.objName("alpha"), k.objName("beta"), k.objName("gamma"), k.objName("delta")
	kindRes := strings.TrimSuffix(k.prefix, "/")
	if k.namespaced {
		c.mustKubectl(t, "create", "namespace", ns)
	}
	ours := func() []string {
		t.Helper()
		return sortedLines(kc("get", k.resource, "-l", suite, "-o", "name"))
	}

	// create: imperative, -f file, -f - (stdin)
	if out := kc(k.create(alpha)...); strings.TrimSpace(out) != k.prefix+alpha+" created" {
		t.Errorf("imperative create: %q", out)
	}
	betaLabels := map[string]string{"suite": k.name, "tier": "e2e", "rank": "2"}
	file := writeFile(t, "beta.yaml", k.manifest(ns, beta, betaLabels))
	if out := c.mustKubectl(t, "create", "-f", file); strings.TrimSpace(out) != k.prefix+beta+" created" {
		t.Errorf("create -f: %q", out)
	}
	if out := c.mustStdin(t, k.manifest(ns, gamma, map[string]string{"suite": k.name, "tier": "e2e", "rank": "1"}), "create", "-f", "-"); strings.TrimSpace(out) != k.prefix+gamma+" created" {
		t.Errorf("create -f -: %q", out)
	}
	if out := kc("label", k.resource, alpha, suite); strings.TrimSpace(out) != k.prefix+alpha+" labeled" {
		t.Errorf("label: %q", out)
	}

	// get -o name, -l, --field-selector
	if got, want := ours(), []string{k.prefix + alpha, k.prefix + beta, k.prefix + gamma}; !slices.Equal(got, want) {
		t.Errorf("get -l %s -o name = %q, want %q", suite, got, want)
	}
	if got, want := sortedLines(kc("get", k.resource, "-l", "tier=e2e,"+suite, "-o", "name")), []string{k.prefix + beta, k.prefix + gamma}; !slices.Equal(got, want) {
		t.Errorf("get -l tier=e2e = %q, want %q", got, want)
	}
	if got, want := lines(kc("get", k.resource, "-l", suite+",rank!=2", "-o", "name")), []string{k.prefix + alpha, k.prefix + gamma}; !slices.Equal(got, want) {
		t.Errorf("get -l rank!=2 = %q, want %q", got, want)
	}
	if got := lines(kc("get", k.resource, "--field-selector", "metadata.name="+beta, "-o", "name")); !slices.Equal(got, []string{k.prefix + beta}) {
		t.Errorf("--field-selector metadata.name=%s = %q", beta, got)
	}
	if got := lines(kc("get", k.resource, "-l", suite, "--field-selector", "metadata.name!="+beta, "-o", "name")); !slices.Equal(got, []string{k.prefix + alpha, k.prefix + gamma}) {
		t.Errorf("--field-selector metadata.name!=%s = %q", beta, got)
	}

	// -o json / yaml / jsonpath
	obj := parseObject(t, kc("get", k.resource, beta, "-o", "json"))
	if obj.GetKind() != k.kind || obj.GetAPIVersion() != k.apiVersion || obj.GetName() != beta || obj.GetUID() == "" ||
		obj.GetResourceVersion() == "" || obj.GetCreationTimestamp().Time.IsZero() {
		t.Errorf("get -o json: kind %q apiVersion %q name %q uid %q rv %q created %v", obj.GetKind(), obj.GetAPIVersion(), obj.GetName(),
			obj.GetUID(), obj.GetResourceVersion(), obj.GetCreationTimestamp())
	}
	if k.namespaced && obj.GetNamespace() != ns {
		t.Errorf("get -o json: namespace %q, want %q", obj.GetNamespace(), ns)
	}
	for key, v := range betaLabels {
		if obj.GetLabels()[key] != v {
			t.Errorf("label %s = %q, want %q (labels %v)", key, obj.GetLabels()[key], v, obj.GetLabels())
		}
	}
	var y map[string]any
	if err := yaml.Unmarshal([]byte(kc("get", k.resource, beta, "-o", "yaml")), &y); err != nil {
		t.Errorf("get -o yaml: %v", err)
	} else if yu := (&unstructured.Unstructured{Object: y}); yu.GetName() != beta || yu.GetKind() != k.kind || yu.GetUID() != obj.GetUID() {
		t.Errorf("get -o yaml: name %q kind %q uid %q", yu.GetName(), yu.GetKind(), yu.GetUID())
	}
	if got := kc("get", k.resource, beta, "-o", "jsonpath={.metadata.labels.rank}/{.metadata.name}"); got != "2/"+beta {
		t.Errorf("jsonpath = %q, want %q", got, "2/"+beta)
	}

	// tables: default, -o wide, -A, --show-labels, -L, --sort-by
	tb := parseTable(t, kc("get", k.resource, beta))
	if !slices.Equal(tb.header, k.header) || len(tb.rows) != 1 {
		t.Errorf("get %s: header %q rows %q, want header %q", beta, tb.header, tb.rows, k.header)
	} else {
		matchCells(t, "get "+beta, tb.rows[0], k.row)
	}
	tb = parseTable(t, kc("get", k.resource, beta, "-o", "wide"))
	if !slices.Equal(tb.header, k.wide) || len(tb.rows) != 1 {
		t.Errorf("get -o wide: header %q rows %q, want header %q", tb.header, tb.rows, k.wide)
	} else {
		matchCells(t, "get -o wide "+beta, tb.rows[0], k.wideRow)
	}
	if k.namespaced {
		tb = parseTable(t, c.mustKubectl(t, "get", k.resource, "-A", "-l", suite))
		if want := append([]string{"NAMESPACE"}, k.header...); !slices.Equal(tb.header, want) {
			t.Errorf("get -A: header %q, want %q", tb.header, want)
		} else {
			if got := tb.column(t, "NAMESPACE"); !slices.Equal(got, []string{ns, ns, ns}) {
				t.Errorf("get -A: NAMESPACE column %q", got)
			}
			matchCells(t, "get -A "+beta, tb.row(t, "NAME", beta), append([]string{ns}, k.row...))
		}
	}
	tb = parseTable(t, kc("get", k.resource, beta, "--show-labels"))
	if want := append(slices.Clone(k.header), "LABELS"); !slices.Equal(tb.header, want) {
		t.Errorf("--show-labels: header %q, want %q", tb.header, want)
	} else if got := tb.rows[0][len(want)-1]; got != formatLabels(obj.GetLabels()) {
		t.Errorf("--show-labels: LABELS %q, want %q", got, formatLabels(obj.GetLabels()))
	}
	tb = parseTable(t, kc("get", k.resource, "-l", suite, "-L", "rank,tier"))
	if want := append(slices.Clone(k.header), "RANK", "TIER"); !slices.Equal(tb.header, want) {
		t.Errorf("-L: header %q, want %q", tb.header, want)
	} else {
		for name, want := range map[string][2]string{alpha: {"", ""}, beta: {"2", "e2e"}, gamma: {"1", "e2e"}} {
			r := tb.row(t, "NAME", name)
			if got := [2]string{r[tb.col(t, "RANK")], r[tb.col(t, "TIER")]}; got != want {
				t.Errorf("-L: %s RANK,TIER = %q, want %q", name, got, want)
			}
		}
	}
	for _, sc := range []struct{ by, want string }{{".metadata.labels.rank", gamma + "," + beta}, {".metadata.name", beta + "," + gamma}} {
		tb = parseTable(t, kc("get", k.resource, "-l", "tier=e2e,"+suite, "--sort-by="+sc.by))
		if got := strings.Join(tb.column(t, "NAME"), ","); got != sc.want {
			t.Errorf("--sort-by=%s: %s, want %s", sc.by, got, sc.want)
		}
	}

	// describe
	if out := kc("describe", k.resource, beta); !regexp.MustCompile(`(?m)^Name:\s+` + regexp.QuoteMeta(beta) + `$`).MatchString(out) {
		t.Errorf("describe: no Name line for %s in\n%s", beta, out)
	}

	// label: add, overwrite needs --overwrite, remove
	kc("label", k.resource, alpha, "team=x")
	_, stderr, code := c.kubectl(t, nsArgs("label", k.resource, alpha, "team=y")...)
	wantExit(t, "label without --overwrite", code, 1, stderr)
	wantContains(t, "label without --overwrite", stderr, "'team' already has a value (x), and --overwrite is false")
	kc("label", k.resource, alpha, "team=y", "--overwrite")
	if got := kc("get", k.resource, alpha, "-o", "jsonpath={.metadata.labels.team}"); got != "y" {
		t.Errorf("after label --overwrite: team=%q", got)
	}
	if out := kc("label", k.resource, alpha, "team-"); strings.TrimSpace(out) != k.prefix+alpha+" unlabeled" {
		t.Errorf("label team-: %q", out)
	}
	if got := parseObject(t, kc("get", k.resource, alpha, "-o", "json")).GetLabels(); got["team"] != "" || got["suite"] != k.name {
		t.Errorf("after label team-: labels %v", got)
	}

	// annotate
	if out := kc("annotate", k.resource, alpha, "note=hello"); strings.TrimSpace(out) != k.prefix+alpha+" annotated" {
		t.Errorf("annotate: %q", out)
	}
	_, stderr, code = c.kubectl(t, nsArgs("annotate", k.resource, alpha, "note=again")...)
	wantExit(t, "annotate without --overwrite", code, 1, stderr)
	if got := kc("get", k.resource, alpha, "-o", "jsonpath={.metadata.annotations.note}"); got != "hello" {
		t.Errorf("annotation note=%q, want hello", got)
	}

	// patch (metadata, so the same for every kind)
	if out := kc("patch", k.resource, alpha, "--type=merge", "-p", `{"metadata":{"labels":{"patched":"merge"}}}`); strings.TrimSpace(out) != k.prefix+alpha+" patched" {
		t.Errorf("patch --type=merge: %q", out)
	}
	kc("patch", k.resource, alpha, "--type=json", "-p", `[{"op":"add","path":"/metadata/annotations/json","value":"yes"}]`)
	kc("patch", k.resource, alpha, "--type=strategic", "-p", `{"metadata":{"annotations":{"strategic":"yes"}}}`)
	if out := kc("patch", k.resource, alpha, "--type=merge", "-p", `{"metadata":{"labels":{"patched":"merge"}}}`); strings.TrimSpace(out) != k.prefix+alpha+" patched (no change)" {
		t.Errorf("no-op patch: %q", out)
	}
	a := parseObject(t, kc("get", k.resource, alpha, "-o", "json"))
	if a.GetLabels()["patched"] != "merge" || a.GetAnnotations()["json"] != "yes" || a.GetAnnotations()["strategic"] != "yes" || a.GetAnnotations()["note"] != "hello" {
		t.Errorf("after patches: labels %v annotations %v", a.GetLabels(), a.GetAnnotations())
	}

	// edit through KUBE_EDITOR
	editor := writeFile(t, "editor.sh", "#!/bin/sh\nsed -i 's/note: hello/note: edited/' \"$1\"\n")
	out, stderr, code := c.kubectlWith(t, kubectlOpts{env: []string{"KUBE_EDITOR=" + editor}}, nsArgs("edit", k.resource, alpha)...)
	wantExit(t, "edit", code, 0, stderr)
	if strings.TrimSpace(out) != k.prefix+alpha+" edited" {
		t.Errorf("edit: %q", out)
	}
	if got := kc("get", k.resource, alpha, "-o", "jsonpath={.metadata.annotations.note}"); got != "edited" {
		t.Errorf("after edit: note=%q", got)
	}

	// apply (client-side) twice, diff
	deltaLabels := map[string]string{"suite": k.name, "rank": "5"}
	dfile := writeFile(t, "delta.yaml", k.manifest(ns, delta, deltaLabels))
	if out := c.mustKubectl(t, "apply", "-f", dfile); strings.TrimSpace(out) != k.prefix+delta+" created" {
		t.Errorf("first apply: %q", out)
	}
	if out := c.mustKubectl(t, "apply", "-f", dfile); strings.TrimSpace(out) != k.prefix+delta+" unchanged" {
		t.Errorf("apply unchanged: %q", out)
	}
	// A controller may still be writing the status of a new object (a deployment's), which diff would show
	// until it settles.
	eventually(t, 20*time.Second, "kubectl diff of an unchanged manifest to exit 0 with no output", func() (bool, string) {
		out, stderr, code := c.kubectl(t, "diff", "-f", dfile)
		return code == 0 && out == "", fmt.Sprintf("exit %d, stdout %q, stderr %q", code, out, stderr)
	})
	deltaLabels["rank"] = "6"
	if err := os.WriteFile(dfile, []byte(k.manifest(ns, delta, deltaLabels)), 0o644); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = c.kubectl(t, "diff", "-f", dfile)
	wantExit(t, "diff with change", code, 1, stderr)
	wantContains(t, "diff with change", out, `-    rank: "5"`)
	wantContains(t, "diff with change", out, `+    rank: "6"`)
	if got := kc("get", k.resource, delta, "-o", "jsonpath={.metadata.labels.rank}"); got != "5" {
		t.Errorf("diff changed the live object: rank=%q", got)
	}
	if out := c.mustKubectl(t, "apply", "-f", dfile); strings.TrimSpace(out) != k.prefix+delta+" configured" {
		t.Errorf("second apply: %q", out)
	}
	d := parseObject(t, kc("get", k.resource, delta, "-o", "json"))
	if d.GetLabels()["rank"] != "6" || !strings.Contains(d.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"], `"rank":"6"`) {
		t.Errorf("after second apply: labels %v, last-applied %q", d.GetLabels(), d.GetAnnotations()["kubectl.kubernetes.io/last-applied-configuration"])
	}

	// delete: by name, -l, --all
	deleted := func(name string) bool {
		t.Helper()
		out, stderr, code := c.kubectl(t, nsArgs("get", k.resource, name, "-o", "jsonpath={.status.phase}/{.metadata.deletionTimestamp}")...)
		if code == 1 && strings.Contains(stderr, fmt.Sprintf("(NotFound): %s \"%s\" not found", k.gr, name)) {
			return true
		}
		// A namespace goes Terminating (with a deletionTimestamp); it disappears only once the namespace
		// controller has emptied it.
		return !k.namespaced && code == 0 && regexp.MustCompile(`^Terminating/\d{4}-\d\d-\d\dT`).MatchString(out)
	}
	delArgs := func(args ...string) []string {
		if !k.namespaced {
			args = append(args, "--wait=false") // no namespace controller need be running
		}
		return nsArgs(args...)
	}
	if out := c.mustKubectl(t, delArgs("delete", k.resource, alpha)...); strings.TrimSpace(out) != fmt.Sprintf("%s \"%s\" deleted", kindRes, alpha) {
		t.Errorf("delete: %q", out)
	}
	if !deleted(alpha) {
		t.Errorf("%s still there after delete", alpha)
	}
	if got := sortedLines(c.mustKubectl(t, delArgs("delete", k.resource, "-l", "tier=e2e,"+suite)...)); !slices.Equal(got, []string{
		fmt.Sprintf("%s \"%s\" deleted", kindRes, beta), fmt.Sprintf("%s \"%s\" deleted", kindRes, gamma)}) {
		t.Errorf("delete -l: %q", got)
	}
	for _, n := range []string{beta, gamma} {
		if !deleted(n) {
			t.Errorf("%s still there after delete -l", n)
		}
	}
	if !k.namespaced {
		// Namespaces: Terminating ones are still listed; --all would take the system namespaces with it.
		if !deleted(delta) {
			c.mustKubectl(t, delArgs("delete", k.resource, delta)...)
		}
		return
	}
	if got := ours(); !slices.Equal(got, []string{k.prefix + delta}) {
		t.Errorf("before delete --all: %q", got)
	}
	kc("delete", k.resource, "--all")
	if !deleted(delta) {
		t.Errorf("%s still there after delete --all", delta)
	}
	if got := ours(); len(got) != 0 {
		t.Errorf("after delete --all: %q", got)
	}
}

// ---- apply, patch, scale on deployments ----

const webDeployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: %s
  labels:
    app: web
spec:
  replicas: %d
  selector:
    matchLabels:
      app: web
  strategy:
    type: RollingUpdate
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: nginx:1.25
      - name: sidecar
        image: busybox:1.36
`

func TestKubectlApplyPatchScale(t *testing.T) {
	t.Parallel()
	c := startServer(t)

	t.Run("server-side apply", func(t *testing.T) {
		t.Parallel()
		ns := "ssa"
		c.mustKubectl(t, "create", "namespace", ns)
		cm := func(v string) string {
			return fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ssa\n  namespace: %s\ndata:\n  k: %s\n", ns, v)
		}
		get := func() string { return c.mustKubectl(t, "get", "cm", "ssa", "-n", ns, "-o", "jsonpath={.data.k}") }
		if out := c.mustStdin(t, cm("v1"), "apply", "--server-side", "-f", "-"); strings.TrimSpace(out) != "configmap/ssa serverside-applied" {
			t.Errorf("first server-side apply: %q", out)
		}
		c.mustStdin(t, cm("v2"), "apply", "--server-side", "-f", "-")
		if got := get(); got != "v2" {
			t.Errorf("after second server-side apply: k=%q", got)
		}
		managers := func() map[string]string {
			obj := parseObject(t, c.mustKubectl(t, "get", "cm", "ssa", "-n", ns, "-o", "json", "--show-managed-fields"))
			m := map[string]string{}
			mfs, _, _ := unstructured.NestedSlice(obj.Object, "metadata", "managedFields")
			for _, e := range mfs {
				e := e.(map[string]any)
				fields, _ := json.Marshal(e["fieldsV1"])
				m[fmt.Sprint(e["manager"])] = fmt.Sprintf("%v %s", e["operation"], fields)
			}
			return m
		}
		if m := managers(); !strings.HasPrefix(m["kubectl"], "Apply ") || !strings.Contains(m["kubectl"], `"f:k"`) {
			t.Errorf("managedFields after apply: %v", m)
		}
		_, stderr, code := c.stdin(t, cm("other"), "apply", "--server-side", "--field-manager=other", "-f", "-")
		wantExit(t, "conflicting server-side apply", code, 1, stderr)
		wantContains(t, "conflicting server-side apply", stderr, `Apply failed with 1 conflict: conflict with "kubectl": .data.k`)
		wantContains(t, "conflicting server-side apply", stderr, "--force-conflicts")
		if got := get(); got != "v2" {
			t.Errorf("a refused apply changed the object: k=%q", got)
		}
		c.mustStdin(t, cm("other"), "apply", "--server-side", "--field-manager=other", "--force-conflicts", "-f", "-")
		if got := get(); got != "other" {
			t.Errorf("after --force-conflicts: k=%q", got)
		}
		if m := managers(); !strings.Contains(m["other"], `"f:k"`) || strings.Contains(m["kubectl"], `"f:k"`) {
			t.Errorf("managedFields after forced apply: %v", m)
		}
		_, stderr, code = c.stdin(t, cm("v3"), "apply", "--server-side", "-f", "-")
		wantExit(t, "apply by the previous owner", code, 1, stderr)
		wantContains(t, "apply by the previous owner", stderr, `conflict with "other"`)
		// Server-side dry run changes nothing.
		out := c.mustStdin(t, cm("dry"), "apply", "--server-side", "--field-manager=other", "--dry-run=server", "-f", "-")
		wantContains(t, "server-side apply --dry-run=server", out, "(server dry run)")
		if got := get(); got != "other" {
			t.Errorf("after dry run: k=%q", got)
		}
	})

	t.Run("deployment", func(t *testing.T) {
		t.Parallel()
		ns := "deploy"
		c.mustKubectl(t, "create", "namespace", ns)
		kc := func(args ...string) string { t.Helper(); return c.mustKubectl(t, append(args, "-n", ns)...) }
		get := func() *unstructured.Unstructured {
			t.Helper()
			return parseObject(t, kc("get", "deployment", "web", "-o", "json"))
		}
		containers := func(d *unstructured.Unstructured) []string {
			cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
			var out []string
			for _, c := range cs {
				c := c.(map[string]any)
				out = append(out, fmt.Sprintf("%v=%v", c["name"], c["image"]))
			}
			return out
		}
		replicas := func(d *unstructured.Unstructured) int64 {
			r, _, _ := unstructured.NestedInt64(d.Object, "spec", "replicas")
			return r
		}

		// client-side apply twice, then take it over with server-side apply
		if out := c.mustStdin(t, fmt.Sprintf(webDeployment, ns, 2), "apply", "-f", "-"); strings.TrimSpace(out) != "deployment.apps/web created" {
			t.Errorf("apply: %q", out)
		}
		if out := c.mustStdin(t, fmt.Sprintf(webDeployment, ns, 3), "apply", "-f", "-"); strings.TrimSpace(out) != "deployment.apps/web configured" {
			t.Errorf("second apply: %q", out)
		}
		d := get()
		if replicas(d) != 3 || d.GetGeneration() != 2 {
			t.Errorf("after second apply: replicas %d generation %d, want 3 and 2", replicas(d), d.GetGeneration())
		}
		const lastApplied = "kubectl.kubernetes.io/last-applied-configuration"
		before := d.GetAnnotations()[lastApplied]
		if out := c.mustStdin(t, fmt.Sprintf(webDeployment, ns, 3), "apply", "--server-side", "-f", "-"); strings.TrimSpace(out) != "deployment.apps/web serverside-applied" {
			t.Errorf("server-side apply over client-side apply: %q", out)
		}
		// The spec is unchanged; the server rewrites the last-applied annotation for client-side apply, and a
		// Deployment's generation counts annotation changes (kube-apiserver's deployment strategy).
		d = get()
		gen := int64(2)
		if d.GetAnnotations()[lastApplied] != before {
			gen = 3
		}
		if replicas(d) != 3 || d.GetGeneration() != gen || len(containers(d)) != 2 {
			t.Errorf("after server-side apply: replicas %d generation %d (want %d) containers %v", replicas(d), d.GetGeneration(), gen, containers(d))
		}

		// strategic merge patch merges containers by name
		if out := kc("patch", "deployment", "web", "--type=strategic", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.26"}]}}}}`); strings.TrimSpace(out) != "deployment.apps/web patched" {
			t.Errorf("strategic patch: %q", out)
		}
		if got := containers(get()); !slices.Equal(got, []string{"web=nginx:1.26", "sidecar=busybox:1.36"}) {
			t.Errorf("after strategic patch: containers %v", got)
		}
		// a JSON merge patch replaces the list
		kc("patch", "deployment", "web", "--type=merge", "-p", `{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.27"}]}}}}`)
		if got := containers(get()); !slices.Equal(got, []string{"web=nginx:1.27"}) {
			t.Errorf("after merge patch: containers %v", got)
		}
		// JSON patch
		kc("patch", "deployment", "web", "--type=json", "-p", `[{"op":"replace","path":"/spec/replicas","value":4},{"op":"add","path":"/metadata/labels/patched","value":"json"}]`)
		d = get()
		if replicas(d) != 4 || d.GetLabels()["patched"] != "json" || d.GetGeneration() != gen+3 {
			t.Errorf("after json patch: replicas %d labels %v generation %d, want 4, patched=json, %d", replicas(d), d.GetLabels(), d.GetGeneration(), gen+3)
		}
		_, stderr, code := c.kubectl(t, "patch", "deployment", "web", "-n", ns, "--type=json", "-p", `[{"op":"test","path":"/spec/replicas","value":99}]`)
		wantExit(t, "failing json patch test op", code, 1, stderr)
		wantContains(t, "failing json patch test op", stderr, "testing value /spec/replicas failed")

		// scale through the scale subresource
		if out := kc("scale", "deployment", "web", "--replicas=5"); strings.TrimSpace(out) != "deployment.apps/web scaled" {
			t.Errorf("scale: %q", out)
		}
		sc := parseObject(t, c.mustKubectl(t, "get", "--raw", "/apis/apps/v1/namespaces/"+ns+"/deployments/web/scale"))
		sr, _, _ := unstructured.NestedInt64(sc.Object, "spec", "replicas")
		if sc.GetKind() != "Scale" || sc.GetAPIVersion() != "autoscaling/v1" || sr != 5 || nestedString(t, sc, "status", "selector") != "app=web" {
			t.Errorf("scale subresource: %v", sc.Object)
		}
		_, stderr, code = c.kubectl(t, "scale", "deployment", "web", "-n", ns, "--current-replicas=2", "--replicas=1")
		wantExit(t, "scale --current-replicas mismatch", code, 1, stderr)
		wantContains(t, "scale --current-replicas mismatch", stderr, "Expected replicas to be 2, was 5")
		if r := replicas(get()); r != 5 {
			t.Errorf("refused scale changed replicas to %d", r)
		}
		kc("scale", "deployment", "web", "--current-replicas=5", "--replicas=1")
		if r := replicas(get()); r != 1 {
			t.Errorf("after scale --current-replicas=5 --replicas=1: replicas %d", r)
		}

		// describe
		out := kc("describe", "deployment", "web")
		for _, re := range []string{`(?m)^Name:\s+web$`, `(?m)^Namespace:\s+` + ns + `$`, `(?m)^StrategyType:\s+RollingUpdate$`, `nginx:1.27`} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("describe deployment: no match for %s in\n%s", re, out)
			}
		}
	})
}

// ---- watch and wait ----

func TestKubectlWatchWait(t *testing.T) {
	t.Parallel()
	c := startServer(t)
	ns := "watch"
	c.mustKubectl(t, "create", "namespace", ns)
	c.mustKubectl(t, "create", "configmap", "w1", "-n", ns, "--from-literal=k=v1")

	t.Run("get -w jsonpath", func(t *testing.T) {
		w := c.startKubectl(t, "get", "configmap", "w1", "-n", ns, "-w", "-o", `jsonpath={.data.k}{"\n"}`)
		w.waitLine(t, 30*time.Second, "the initial state", func(l string) bool { return l == "v1" })
		c.mustKubectl(t, "patch", "configmap", "w1", "-n", ns, "--type=merge", "-p", `{"data":{"k":"v2"}}`)
		w.waitLine(t, 30*time.Second, "the update event", func(l string) bool { return l == "v2" })
	})

	t.Run("get -w table", func(t *testing.T) {
		w := c.startKubectl(t, "get", "configmaps", "-n", ns, "-w")
		hdr := w.waitLine(t, 30*time.Second, "the header", func(l string) bool { return strings.HasPrefix(l, "NAME") })
		if got := strings.Fields(hdr); !slices.Equal(got, []string{"NAME", "DATA", "AGE"}) {
			t.Errorf("watch header %q", got)
		}
		w.waitLine(t, 30*time.Second, "w1 with 1 key", func(l string) bool { f := strings.Fields(l); return len(f) == 3 && f[0] == "w1" && f[1] == "1" })
		c.mustKubectl(t, "patch", "configmap", "w1", "-n", ns, "--type=merge", "-p", `{"data":{"k2":"x"}}`)
		w.waitLine(t, 30*time.Second, "w1 updated to 2 keys", func(l string) bool { f := strings.Fields(l); return len(f) == 3 && f[0] == "w1" && f[1] == "2" })
		c.mustKubectl(t, "create", "configmap", "w2", "-n", ns)
		w.waitLine(t, 30*time.Second, "w2 added", func(l string) bool { f := strings.Fields(l); return len(f) == 3 && f[0] == "w2" && f[1] == "0" })
	})

	t.Run("wait --for=jsonpath", func(t *testing.T) {
		w := c.startKubectl(t, "wait", "configmap/w1", "-n", ns, "--for=jsonpath={.data.ready}=yes", "--timeout=30s")
		c.mustKubectl(t, "patch", "configmap", "w1", "-n", ns, "--type=merge", "-p", `{"data":{"ready":"yes"}}`)
		w.waitLine(t, 30*time.Second, "condition met", func(l string) bool { return l == "configmap/w1 condition met" })
		if code := w.wait(t); code != 0 {
			t.Errorf("wait exited %d", code)
		}
		_, stderr, code := c.kubectl(t, "wait", "configmap/w1", "-n", ns, "--for=jsonpath={.data.ready}=never", "--timeout=1s")
		wantExit(t, "wait that times out", code, 1, stderr)
		wantContains(t, "wait that times out", stderr, "timed out waiting for the condition on configmaps/w1")
	})

	t.Run("wait --for=delete", func(t *testing.T) {
		c.mustKubectl(t, "create", "configmap", "doomed", "-n", ns)
		errc := make(chan string, 1)
		go func() {
			// Runs beside the wait below; reported through errc, since only the test goroutine may FailNow.
			_, stderr, code := c.kubectl(t, "delete", "configmap", "doomed", "-n", ns, "--wait=false")
			if code != 0 {
				errc <- fmt.Sprintf("background delete: exit %d: %s", code, stderr)
				return
			}
			errc <- ""
		}()
		out, stderr, code := c.kubectl(t, "wait", "configmap/doomed", "-n", ns, "--for=delete", "--timeout=30s")
		if e := <-errc; e != "" {
			t.Fatal(e)
		}
		wantExit(t, "wait --for=delete", code, 0, stderr)
		// "condition met" when the wait saw the DELETED event; kubectl prints nothing when the object was already gone.
		if o := strings.TrimSpace(out); o != "configmap/doomed condition met" && o != "" {
			t.Errorf("wait --for=delete printed %q", o)
		}
		_, stderr, code = c.kubectl(t, "get", "configmap", "doomed", "-n", ns)
		wantExit(t, "get after delete", code, 1, stderr)
	})
}

// wait waits for a background kubectl to exit by itself and returns its exit code.
func (b *bgKubectl) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(kubectlTimeout):
		t.Fatalf("kubectl %s did not exit", strings.Join(b.cmd.Args[1:], " "))
	}
	return b.cmd.ProcessState.ExitCode()
}

// ---- errors ----

func TestKubectlErrors(t *testing.T) {
	t.Parallel()
	c := startServer(t)
	ns := "errs"
	c.mustKubectl(t, "create", "namespace", ns)
	c.mustKubectl(t, "create", "configmap", "dup", "-n", ns)
	staleRV := c.mustKubectl(t, "get", "configmap", "dup", "-n", ns, "-o", "jsonpath={.metadata.resourceVersion}")
	c.mustKubectl(t, "label", "configmap", "dup", "-n", ns, "bump=1")

	deploy := func(extra string) string {
		return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: bad
  namespace: %s
spec:
  %s
  selector:
    matchLabels: {app: bad}
  template:
    metadata:
      labels: {app: bad}
    spec:
      containers:
      - {name: c, image: nginx}
`, ns, extra)
	}
	cases := []struct {
		name  string
		stdin string
		args  []string
		// code is the wanted exit status; stderr must contain every string of want.
		code int
		want []string
	}{
		{name: "unknown field on create", stdin: deploy("bogus: 1"), args: []string{"create", "-f", "-"}, code: 1,
			want: []string{`Error from server (BadRequest): error when creating "STDIN": `, `strict decoding error: unknown field "spec.bogus"`}},
		{name: "unknown field on apply", stdin: deploy("bogus: 1"), args: []string{"apply", "-f", "-"}, code: 1,
			want: []string{`strict decoding error: unknown field "spec.bogus"`}},
		{name: "unknown field on server-side apply", stdin: deploy("bogus: 1"), args: []string{"apply", "--server-side", "-f", "-"}, code: 1,
			want: []string{`.spec.bogus: field not declared in schema`}},
		{name: "negative replicas", stdin: deploy("replicas: -1"), args: []string{"create", "-f", "-"}, code: 1,
			want: []string{`The Deployment "bad" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0`}},
		{name: "invalid name", args: []string{"create", "configmap", "Bad_Name", "-n", ns}, code: 1,
			want: []string{`ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"`, "RFC 1123"}},
		{name: "duplicate create", args: []string{"create", "configmap", "dup", "-n", ns}, code: 1,
			want: []string{`error: failed to create configmap: configmaps "dup" already exists`}},
		{name: "duplicate create -f", args: []string{"create", "-f", "-"}, code: 1,
			stdin: fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  namespace: %s\n", ns),
			want:  []string{`Error from server (AlreadyExists): error when creating "STDIN": configmaps "dup" already exists`}},
		{name: "stale resourceVersion", args: []string{"replace", "-f", "-"}, code: 1,
			stdin: fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: dup\n  namespace: %s\n  resourceVersion: %q\ndata:\n  k: v\n", ns, staleRV),
			want:  []string{`Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "dup": the object has been modified; please apply your changes to the latest version and try again`}},
		{name: "get missing", args: []string{"get", "configmap", "nope", "-n", ns}, code: 1,
			want: []string{`Error from server (NotFound): configmaps "nope" not found`}},
		{name: "create in missing namespace", args: []string{"create", "configmap", "x", "-n", "ghost"}, code: 1,
			want: []string{`namespaces "ghost" not found`}},
		{name: "create -f in missing namespace", args: []string{"create", "-f", "-"}, code: 1,
			stdin: "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: ghost\n",
			want:  []string{`Error from server (NotFound): error when creating "STDIN": namespaces "ghost" not found`}},
		{name: "bad label selector", args: []string{"get", "configmaps", "-n", ns, "-l", "a b"}, code: 1,
			want: []string{"Error from server (BadRequest)", "unable to parse requirement"}},
		{name: "unsupported field selector", args: []string{"get", "configmaps", "-n", ns, "--field-selector", "spec.foo=bar"}, code: 1,
			want: []string{"Error from server (BadRequest)", "field label not supported: spec.foo"}},
		{name: "unknown field ignored with --validate=false", stdin: deploy("bogus: 1"), args: []string{"create", "--validate=false", "--dry-run=server", "-f", "-"}, code: 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, code := c.stdin(t, tc.stdin, tc.args...)
			wantExit(t, tc.name, code, tc.code, stderr)
			for _, w := range tc.want {
				wantContains(t, tc.name+" stderr", stderr, w)
			}
		})
	}
	// Nothing above may have created anything.
	for _, args := range [][]string{{"get", "deployment", "bad", "-n", ns}, {"get", "configmap", "Bad_Name", "-n", ns}, {"get", "namespace", "ghost"}} {
		if _, stderr, code := c.kubectl(t, args...); code != 1 || !strings.Contains(stderr, "NotFound") {
			t.Errorf("kubectl %s: exit %d %q, want NotFound", strings.Join(args, " "), code, stderr)
		}
	}

	t.Run("dry-run=server", func(t *testing.T) {
		out := c.mustKubectl(t, "create", "configmap", "dry", "-n", ns, "--from-literal=k=v", "--dry-run=server", "-o", "json")
		if obj := parseObject(t, out); obj.GetName() != "dry" || nestedString(t, obj, "data", "k") != "v" {
			t.Errorf("dry-run create returned %v", obj.Object)
		}
		if out := c.mustStdin(t, deploy("replicas: 2"), "apply", "--dry-run=server", "-f", "-"); strings.TrimSpace(out) != "deployment.apps/bad created (server dry run)" {
			t.Errorf("apply --dry-run=server: %q", out)
		}
		if out := c.mustKubectl(t, "delete", "configmap", "dup", "-n", ns, "--dry-run=server"); strings.TrimSpace(out) != `configmap "dup" deleted (server dry run)` {
			t.Errorf("delete --dry-run=server: %q", out)
		}
		if out := c.mustKubectl(t, "label", "configmap", "dup", "-n", ns, "dry=run", "--dry-run=server"); strings.TrimSpace(out) != "configmap/dup labeled (server dry run)" {
			t.Errorf("label --dry-run=server: %q", out)
		}
		for _, args := range [][]string{{"get", "configmap", "dry", "-n", ns}, {"get", "deployment", "bad", "-n", ns}} {
			if _, stderr, code := c.kubectl(t, args...); code != 1 || !strings.Contains(stderr, "NotFound") {
				t.Errorf("after dry run, kubectl %s: exit %d %q, want NotFound", strings.Join(args, " "), code, stderr)
			}
		}
		if got := c.mustKubectl(t, "get", "configmap", "dup", "-n", ns, "-o", "jsonpath={.metadata.labels}"); got != `{"bump":"1"}` {
			t.Errorf("after dry runs, dup labels = %s", got)
		}
	})
}

// ---- service allocation ----

func TestKubectlServiceAllocation(t *testing.T) {
	t.Parallel()
	c := startServer(t)
	ns := "svc"
	c.mustKubectl(t, "create", "namespace", ns)
	_, serviceNet, _ := net.ParseCIDR("10.43.0.0/16")
	kc := func(args ...string) string { t.Helper(); return c.mustKubectl(t, append(args, "-n", ns)...) }
	clusterIP := func(name string) string {
		t.Helper()
		return kc("get", "service", name, "-o", "jsonpath={.spec.clusterIP}")
	}

	kc("create", "service", "clusterip", "one", "--tcp=80:8080")
	kc("create", "service", "clusterip", "two", "--tcp=80:8080")
	kc("create", "service", "clusterip", "headless", "--clusterip=None", "--tcp=80:8080")
	kc("create", "service", "nodeport", "np", "--tcp=80:8080")
	ipOne, ipTwo := clusterIP("one"), clusterIP("two")
	for _, ip := range []string{ipOne, ipTwo} {
		if p := net.ParseIP(ip); p == nil || !serviceNet.Contains(p) || ip == "10.43.0.1" {
			t.Errorf("ClusterIP %q: want an address in 10.43.0.0/16 other than 10.43.0.1", ip)
		}
	}
	if ipOne == ipTwo {
		t.Errorf("two Services share ClusterIP %s", ipOne)
	}
	if got := kc("get", "service", "one", "-o", "jsonpath={.spec.clusterIPs}"); got != `["`+ipOne+`"]` {
		t.Errorf("clusterIPs = %s, want [%q]", got, ipOne)
	}
	if got := clusterIP("headless"); got != "None" {
		t.Errorf("headless ClusterIP = %q", got)
	}
	nodePort, err := strconv.Atoi(kc("get", "service", "np", "-o", "jsonpath={.spec.ports[0].nodePort}"))
	if err != nil || nodePort < 30000 || nodePort > 32767 {
		t.Errorf("nodePort %d (%v): want 30000-32767", nodePort, err)
	}
	tb := parseTable(t, kc("get", "services", "-o", "wide"))
	if want := []string{"NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE", "SELECTOR"}; !slices.Equal(tb.header, want) {
		t.Fatalf("header %q", tb.header)
	}
	matchCells(t, "headless", tb.row(t, "NAME", "headless"), []string{"headless", "ClusterIP", "None", "<none>", "80/TCP", ageCell, "app=headless"})
	matchCells(t, "np", tb.row(t, "NAME", "np"), []string{"np", "NodePort", clusterIP("np"), "<none>", fmt.Sprintf("80:%d/TCP", nodePort), ageCell, "app=np"})
	matchCells(t, "one", tb.row(t, "NAME", "one"), []string{"one", "ClusterIP", ipOne, "<none>", "80/TCP", ageCell, "app=one"})

	svc := func(name, spec string) string {
		return fmt.Sprintf("apiVersion: v1\nkind: Service\nmetadata:\n  name: %s\n  namespace: %s\nspec:\n%s", name, ns, spec)
	}
	refused := func(what, manifest string, want ...string) {
		t.Helper()
		_, stderr, code := c.stdin(t, manifest, "create", "-f", "-")
		wantExit(t, what, code, 1, stderr)
		for _, w := range want {
			wantContains(t, what, stderr, w)
		}
	}
	// "The Service ... is invalid" is how kubectl prints a 422 Invalid.
	refused("used nodePort", svc("np2", fmt.Sprintf("  type: NodePort\n  ports:\n  - port: 80\n    nodePort: %d\n", nodePort)),
		fmt.Sprintf(`The Service "np2" is invalid: spec.ports[0].nodePort: Invalid value: %d: provided port is already allocated`, nodePort))
	refused("nodePort out of range", svc("np3", "  type: NodePort\n  ports:\n  - port: 80\n    nodePort: 80\n"),
		`The Service "np3" is invalid: spec.ports[0].nodePort: Invalid value: 80: provided port is not in the valid range`)
	refused("used clusterIP", svc("ip2", fmt.Sprintf("  clusterIP: %s\n  ports:\n  - port: 80\n", ipOne)),
		`The Service "ip2" is invalid: spec.clusterIPs: Invalid value: []string{"`+ipOne+`"}: failed to allocate IP `+ipOne+`: provided IP is already allocated`)
	refused("kubernetes' clusterIP", svc("ip3", "  clusterIP: 10.43.0.1\n  ports:\n  - port: 80\n"),
		`The Service "ip3" is invalid`, "already allocated")
	refused("clusterIP outside the range", svc("ip4", "  clusterIP: 10.99.0.1\n  ports:\n  - port: 80\n"),
		`The Service "ip4" is invalid: spec.clusterIPs: Invalid value: []string{"10.99.0.1"}: failed to allocate IP 10.99.0.1: the provided IP (10.99.0.1) is not in the valid range`)
	for _, name := range []string{"np2", "np3", "ip2", "ip3", "ip4"} {
		if _, stderr, code := c.kubectl(t, "get", "service", name, "-n", ns); code != 1 || !strings.Contains(stderr, "NotFound") {
			t.Errorf("refused Service %s exists (exit %d %q)", name, code, stderr)
		}
	}

	// A free address can be asked for by name.
	free := net.ParseIP(ipTwo).To4()
	free = net.IPv4(free[0], free[1], free[2]^1, 200)
	c.mustStdin(t, svc("pinned", fmt.Sprintf("  clusterIP: %s\n  ports:\n  - port: 80\n", free)), "create", "-f", "-")
	if got := clusterIP("pinned"); got != free.String() {
		t.Errorf("pinned ClusterIP = %q, want %s", got, free)
	}

	// Allocations survive a restart: the used port and address are still refused.
	c.restart(t)
	refused("used nodePort after restart", svc("np4", fmt.Sprintf("  type: NodePort\n  ports:\n  - port: 80\n    nodePort: %d\n", nodePort)),
		"provided port is already allocated")
	refused("used clusterIP after restart", svc("ip5", fmt.Sprintf("  clusterIP: %s\n  ports:\n  - port: 80\n", ipOne)), "already allocated")
	kc("create", "service", "clusterip", "three", "--tcp=80:8080")
	if ip := clusterIP("three"); ip == ipOne || ip == ipTwo || ip == free.String() || ip == "10.43.0.1" || !serviceNet.Contains(net.ParseIP(ip)) {
		t.Errorf("Service created after restart got ClusterIP %q (in use: %s %s %s)", ip, ipOne, ipTwo, free)
	}

	// Deleting a Service frees what it held.
	kc("delete", "service", "np", "one")
	c.mustStdin(t, svc("np5", fmt.Sprintf("  type: NodePort\n  ports:\n  - port: 80\n    nodePort: %d\n", nodePort)), "create", "-f", "-")
	c.mustStdin(t, svc("ip6", fmt.Sprintf("  clusterIP: %s\n  ports:\n  - port: 80\n", ipOne)), "create", "-f", "-")
}
