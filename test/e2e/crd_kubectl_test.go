package e2e

import (
	"strings"
	"testing"
)

const e2eCronTabCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources:
      status: {}
      scale: {specReplicasPath: .spec.replicas, statusReplicasPath: .status.replicas}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            description: What the cron tab runs.
            properties:
              cronSpec: {type: string, description: When it runs.}
              image: {type: string}
              replicas: {type: integer, minimum: 0, default: 1}
          status:
            type: object
            properties:
              replicas: {type: integer}
`

const e2eCronTab = `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: nightly
spec:
  cronSpec: "0 3 * * *"
  image: backup:1
`

// TestKubectlCustomResources drives a CRD through the real kubectl as a user would: apply the definition, wait for
// it to be established, then create, list, explain, scale, apply and delete custom resources, and delete the
// definition with its objects.
func TestKubectlCustomResources(t *testing.T) {
	c := startServer(t)
	c.mustStdin(t, e2eCronTabCRD, "apply", "-f", "-")
	c.mustKubectl(t, "wait", "--for=condition=Established", "crd/crontabs.stable.example.com", "--timeout=30s")
	if out := c.mustKubectl(t, "api-resources", "--api-group=stable.example.com"); !strings.Contains(out, "crontabs") || !strings.Contains(out, "ct") {
		t.Fatalf("api-resources:\n%s", out)
	}

	c.mustStdin(t, e2eCronTab, "apply", "-f", "-")
	c.mustKubectl(t, "create", "namespace", "team")
	c.mustStdin(t, e2eCronTab, "apply", "-n", "team", "-f", "-")
	out := c.mustKubectl(t, "get", "ct", "-A")
	for _, want := range []string{"NAMESPACE", "SPEC", "REPLICAS", "default     nightly", "team        nightly", "0 3 * * *"} {
		if !strings.Contains(out, want) {
			t.Errorf("kubectl get ct -A lacks %q:\n%s", want, out)
		}
	}
	if got := c.mustKubectl(t, "get", "crontab", "nightly", "-o", "jsonpath={.spec.replicas}"); got != "1" {
		t.Errorf("defaulted replicas = %q, want 1", got)
	}

	// kubectl validates strictly by default: an unknown field is an error naming it.
	_, stderr, code := c.stdin(t, strings.Replace(e2eCronTab, "image: backup:1", "image: backup:1\n  imagee: typo", 1), "apply", "-f", "-")
	if code == 0 || !strings.Contains(stderr, `unknown field "spec.imagee"`) {
		t.Errorf("apply with an unknown field: exit %d, stderr %s", code, stderr)
	}
	// A schema violation is refused with the field path.
	_, stderr, code = c.stdin(t, strings.Replace(e2eCronTab, "image: backup:1", "image: backup:1\n  replicas: -2", 1), "apply", "-f", "-")
	if code == 0 || !strings.Contains(stderr, "spec.replicas: Invalid value: -2") {
		t.Errorf("apply with replicas -2: exit %d, stderr %s", code, stderr)
	}

	if out := c.mustKubectl(t, "explain", "crontab.spec"); !strings.Contains(out, "What the cron tab runs.") || !strings.Contains(out, "cronSpec") {
		t.Errorf("kubectl explain crontab.spec:\n%s", out)
	}

	c.mustKubectl(t, "scale", "ct", "nightly", "--replicas=3")
	if got := c.mustKubectl(t, "get", "ct", "nightly", "-o", "jsonpath={.spec.replicas}/{.metadata.generation}"); got != "3/2" {
		t.Errorf("after scale: replicas/generation = %q, want 3/2", got)
	}
	c.mustKubectl(t, "patch", "ct", "nightly", "--type=merge", "-p", `{"spec":{"image":"backup:2"}}`)
	c.mustStdin(t, strings.Replace(e2eCronTab, "backup:1", "backup:3", 1), "apply", "--server-side", "--force-conflicts", "-f", "-")
	if got := c.mustKubectl(t, "get", "ct", "nightly", "-o", "jsonpath={.spec.image}"); got != "backup:3" {
		t.Errorf("after server-side apply: image = %q", got)
	}

	// Deleting a namespace deletes its custom resources.
	c.mustKubectl(t, "delete", "namespace", "team", "--timeout=60s")
	if out, _, _ := c.kubectl(t, "get", "ct", "-n", "team", "-o", "name"); strings.TrimSpace(out) != "" {
		t.Errorf("custom resources left in a deleted namespace: %q", out)
	}

	// Deleting the definition deletes its objects and stops serving them.
	c.mustKubectl(t, "delete", "crd", "crontabs.stable.example.com", "--timeout=60s")
	_, stderr, code = c.kubectl(t, "get", "ct")
	// (kubectl's discovery cache may still know the resource: then the server's 404 is what it reports.)
	if code == 0 || !strings.Contains(stderr, `the server doesn't have a resource type "ct"`) && !strings.Contains(stderr, "the server could not find the requested resource") {
		t.Errorf("kubectl get ct after the CRD was deleted: exit %d, stderr %s", code, stderr)
	}
}
