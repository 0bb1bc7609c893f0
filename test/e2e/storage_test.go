package e2e

// storage.k8s.io/v1 (StorageClass, CSIDriver, CSINode, VolumeAttachment) and node.k8s.io/v1 RuntimeClass through the
// real kubectl against `skiff server --disable-agent`: stored, defaulted, validated and printed as kube-apiserver does
// (no provisioner, CSI attacher or runtime-class handling runs). No kubelet runs, so this test needs no machine lock.

import (
	"strings"
	"testing"
)

func TestStorageObjects(t *testing.T) {
	c := startServer(t)
	row := func(t *testing.T, args ...string) string {
		t.Helper()
		return strings.Join(strings.Fields(c.mustKubectl(t, append([]string{"get"}, append(args, "--no-headers")...)...)), " ")
	}
	apiResources := func(t *testing.T, group string, want ...string) {
		t.Helper()
		out := c.mustKubectl(t, "api-resources", "--api-group="+group, "--no-headers")
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != len(want) {
			t.Fatalf("api-resources --api-group=%s:\n%s", group, out)
		}
		for i, l := range lines {
			if got := strings.Join(strings.Fields(l), " "); got != want[i] {
				t.Errorf("api-resources row %d: %q, want %q", i, got, want[i])
			}
		}
	}

	t.Run("discovery", func(t *testing.T) {
		apiResources(t, "storage.k8s.io",
			"csidrivers storage.k8s.io/v1 false CSIDriver",
			"csinodes storage.k8s.io/v1 false CSINode",
			"csistoragecapacities storage.k8s.io/v1 true CSIStorageCapacity",
			"storageclasses sc storage.k8s.io/v1 false StorageClass",
			"volumeattachments storage.k8s.io/v1 false VolumeAttachment",
			"volumeattributesclasses vac storage.k8s.io/v1 false VolumeAttributesClass",
		)
		apiResources(t, "node.k8s.io", "runtimeclasses node.k8s.io/v1 false RuntimeClass")
	})

	t.Run("apply", func(t *testing.T) {
		manifest := `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata:
  name: local-path
  annotations: {storageclass.kubernetes.io/is-default-class: "true"}
provisioner: rancher.io/local-path
volumeBindingMode: WaitForFirstConsumer
---
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: slow}
provisioner: kubernetes.io/no-provisioner
parameters: {type: hdd}
---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: gvisor}
handler: runsc
overhead: {podFixed: {cpu: 250m, memory: 64Mi}}
scheduling:
  nodeSelector: {runtime: gvisor}
  tolerations: [{key: runtime, operator: Equal, value: gvisor, effect: NoSchedule}]
---
apiVersion: storage.k8s.io/v1
kind: CSIDriver
metadata: {name: hostpath.csi.k8s.io}
spec:
  podInfoOnMount: true
  volumeLifecycleModes: [Persistent, Ephemeral]
`
		out := c.mustStdin(t, manifest, "apply", "-f", "-")
		for _, want := range []string{
			"storageclass.storage.k8s.io/local-path created",
			"storageclass.storage.k8s.io/slow created",
			"runtimeclass.node.k8s.io/gvisor created",
			"csidriver.storage.k8s.io/hostpath.csi.k8s.io created",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("apply output lacks %q:\n%s", want, out)
			}
		}
		// A second apply of the same manifest changes nothing: the defaults did not make kubectl patch.
		if out := c.mustStdin(t, manifest, "apply", "-f", "-"); strings.Count(out, " unchanged") != 4 {
			t.Errorf("second apply:\n%s", out)
		}
		out = c.mustKubectl(t, "get", "sc")
		if !strings.Contains(out, "ALLOWVOLUMEEXPANSION") {
			t.Errorf("get sc headers:\n%s", out)
		}
		if got := row(t, "sc", "local-path"); !strings.HasPrefix(got, "local-path (default) rancher.io/local-path Delete WaitForFirstConsumer false ") {
			t.Errorf("get sc local-path: %q", got)
		}
		if got := row(t, "sc", "slow"); !strings.HasPrefix(got, "slow kubernetes.io/no-provisioner Delete Immediate false ") {
			t.Errorf("get sc slow: %q", got)
		}
		if got := row(t, "runtimeclass", "gvisor"); !strings.HasPrefix(got, "gvisor runsc ") {
			t.Errorf("get runtimeclass: %q", got)
		}
		// CSIDriver defaults as kube-apiserver: attachRequired true, no storage capacity, no republish.
		if got := row(t, "csidriver", "hostpath.csi.k8s.io"); !strings.HasPrefix(got, "hostpath.csi.k8s.io true true false <unset> false Persistent,Ephemeral ") {
			t.Errorf("get csidriver: %q", got)
		}
		if got := c.mustKubectl(t, "get", "csidriver", "hostpath.csi.k8s.io", "-o", "jsonpath={.spec.fsGroupPolicy}"); got != "ReadWriteOnceWithFSType" {
			t.Errorf("fsGroupPolicy default %q", got)
		}
	})

	t.Run("immutable fields", func(t *testing.T) {
		_, errOut, code := c.kubectl(t, "patch", "sc", "slow", "--type=merge", `-p={"parameters":{"type":"ssd"},"reclaimPolicy":"Retain"}`)
		for _, want := range []string{
			`The StorageClass "slow" is invalid: `,
			"parameters: Forbidden: updates to parameters are forbidden.",
			"reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
		} {
			if code == 0 || !strings.Contains(errOut, want) {
				t.Errorf("patch sc: exit %d, stderr %q lacks %q", code, errOut, want)
			}
		}
		// allowVolumeExpansion and labels are not immutable.
		c.mustKubectl(t, "patch", "sc", "slow", "--type=merge", `-p={"allowVolumeExpansion":true}`)
		if got := row(t, "sc", "slow"); !strings.HasPrefix(got, "slow kubernetes.io/no-provisioner Delete Immediate true ") {
			t.Errorf("get sc after expansion patch: %q", got)
		}
		_, errOut, code = c.kubectl(t, "patch", "runtimeclass", "gvisor", "--type=merge", `-p={"handler":"kata"}`)
		if want := `handler: Invalid value: "kata": field is immutable`; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("patch runtimeclass handler: exit %d, stderr %q, want %q", code, errOut, want)
		}
		_, errOut, code = c.kubectl(t, "patch", "csidriver", "hostpath.csi.k8s.io", "--type=merge", `-p={"spec":{"attachRequired":false}}`)
		if want := "spec.attachedRequired: Invalid value: false: field is immutable"; code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("patch csidriver: exit %d, stderr %q, want %q", code, errOut, want)
		}
		c.mustKubectl(t, "patch", "csidriver", "hostpath.csi.k8s.io", "--type=merge", `-p={"spec":{"podInfoOnMount":false}}`)
		_, errOut, code = c.stdin(t, `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: bad}
provisioner: ""
reclaimPolicy: Recycle
`, "apply", "-f", "-")
		for _, want := range []string{`The StorageClass "bad" is invalid: `, "provisioner: Required value",
			`reclaimPolicy: Unsupported value: "Recycle": supported values: "Delete", "Retain"`} {
			if code == 0 || !strings.Contains(errOut, want) {
				t.Errorf("invalid sc: exit %d, stderr %q lacks %q", code, errOut, want)
			}
		}
	})

	t.Run("volume attachment status", func(t *testing.T) {
		c.mustStdin(t, `apiVersion: storage.k8s.io/v1
kind: VolumeAttachment
metadata: {name: csi-0123}
spec:
  attacher: hostpath.csi.k8s.io
  nodeName: node-1
  source: {persistentVolumeName: pv-1}
status: {attached: true}
`, "create", "-f", "-")
		// Status given on create is dropped, as kube-apiserver's strategy does.
		if got := row(t, "volumeattachment", "csi-0123"); !strings.HasPrefix(got, "csi-0123 hostpath.csi.k8s.io pv-1 node-1 false ") {
			t.Errorf("get volumeattachment: %q", got)
		}
		c.mustKubectl(t, "patch", "volumeattachment", "csi-0123", "--subresource=status", "--type=merge",
			`-p={"status":{"attached":true,"attachmentMetadata":{"devicePath":"/dev/sdb"}}}`)
		if got := row(t, "volumeattachment", "csi-0123"); !strings.HasPrefix(got, "csi-0123 hostpath.csi.k8s.io pv-1 node-1 true ") {
			t.Errorf("get volumeattachment after status patch: %q", got)
		}
		// Main-resource writes keep the stored status; the spec never changes.
		_, errOut, code := c.kubectl(t, "patch", "volumeattachment", "csi-0123", "--type=merge", `-p={"spec":{"nodeName":"node-2"}}`)
		if want := "spec: Invalid value: "; code == 0 || !strings.Contains(errOut, want) || !strings.Contains(errOut, "field is immutable") {
			t.Errorf("patch volumeattachment spec: exit %d, stderr %q", code, errOut)
		}
		c.mustKubectl(t, "label", "volumeattachment", "csi-0123", "team=storage")
		if got := c.mustKubectl(t, "get", "volumeattachment", "csi-0123", "-o", "jsonpath={.status.attached} {.status.attachmentMetadata.devicePath}"); got != "true /dev/sdb" {
			t.Errorf("status after a label change %q", got)
		}
	})

	t.Run("csinode", func(t *testing.T) {
		c.mustStdin(t, `apiVersion: storage.k8s.io/v1
kind: CSINode
metadata: {name: node-1}
spec:
  drivers:
  - {name: hostpath.csi.k8s.io, nodeID: node-1, topologyKeys: [topology.hostpath.csi/node]}
`, "apply", "-f", "-")
		if got := row(t, "csinode", "node-1"); !strings.HasPrefix(got, "node-1 1 ") {
			t.Errorf("get csinode: %q", got)
		}
	})

	t.Run("explain and delete", func(t *testing.T) {
		out := c.mustKubectl(t, "explain", "storageclass")
		for _, want := range []string{"KIND:       StorageClass", "GROUP:      storage.k8s.io", "provisioner", "volumeBindingMode"} {
			if !strings.Contains(out, want) {
				t.Errorf("explain storageclass lacks %q:\n%s", want, out)
			}
		}
		if out := c.mustKubectl(t, "explain", "runtimeclass.handler"); !strings.Contains(out, "RFC 1123") {
			t.Errorf("explain runtimeclass.handler:\n%s", out)
		}
		c.mustKubectl(t, "delete", "sc", "--all")
		if out := c.mustKubectl(t, "get", "sc", "-o", "name"); strings.TrimSpace(out) != "" {
			t.Errorf("storage classes left after delete --all: %q", out)
		}
	})
}
