package daemonset

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/go-logr/logr"
	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// Labels, annotations and limits, as upstream.
const (
	// LabelTemplateGeneration is the pod label that records the DaemonSet's template generation.
	LabelTemplateGeneration = "pod-template-generation"
	// BurstReplicas caps how many pods one sync creates or deletes (upstream's burstReplicas).
	BurstReplicas = 250
)

// nodeNameField is the field a daemon pod's required node affinity pins it to its node with.
const nodeNameField = "metadata.name"

// Plan is what one sync of a DaemonSet should do to its pods.
type Plan struct {
	// Create names the nodes that need a daemon pod, in name order (at most BurstReplicas).
	Create []string
	// Delete are the pods to delete (at most BurstReplicas).
	Delete []*corev1.Pod
	// Failed are the pods of Delete that failed (upstream records a FailedDaemonPod event for each).
	Failed []*corev1.Pod
}

// Empty reports whether p does nothing.
func (p Plan) Empty() bool { return len(p.Create) == 0 && len(p.Delete) == 0 }

// TemplateGeneration is the DaemonSet's deprecated.daemonset.template.generation annotation; nil if absent or
// unparsable.
func TemplateGeneration(ds *appsv1.DaemonSet) *int64 {
	v, ok := ds.Annotations[appsv1.DeprecatedTemplateGeneration]
	if !ok {
		return nil
	}
	g, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil
	}
	return &g
}

// IsPodUpdated reports whether pod runs ds's current template: its controller-revision-hash is hash or its
// pod-template-generation is the template generation.
func IsPodUpdated(pod *corev1.Pod, hash string, generation *int64) bool {
	if generation != nil && pod.Labels[LabelTemplateGeneration] == strconv.FormatInt(*generation, 10) {
		return true
	}
	return hash != "" && pod.Labels[appsv1.ControllerRevisionHashLabelKey] == hash
}

// daemonTolerations are the tolerations every daemon pod gets, as upstream's AddOrUpdateDaemonPodTolerations.
func daemonTolerations(spec *corev1.PodSpec) []corev1.Toleration {
	ts := []corev1.Toleration{
		{Key: corev1.TaintNodeNotReady, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeUnreachable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoExecute},
		{Key: corev1.TaintNodeDiskPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeMemoryPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodePIDPressure, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
		{Key: corev1.TaintNodeUnschedulable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule},
	}
	if spec.HostNetwork {
		ts = append(ts, corev1.Toleration{Key: corev1.TaintNodeNetworkUnavailable, Operator: corev1.TolerationOpExists, Effect: corev1.TaintEffectNoSchedule})
	}
	return ts
}

// addOrUpdateTolerations adds each toleration to spec, replacing one with the same key, operator, value and effect.
func addOrUpdateTolerations(spec *corev1.PodSpec, add []corev1.Toleration) {
	for _, t := range add {
		replaced := false
		for i := range spec.Tolerations {
			if spec.Tolerations[i].MatchToleration(&t) {
				spec.Tolerations[i] = t
				replaced = true
			}
		}
		if !replaced {
			spec.Tolerations = append(spec.Tolerations, t)
		}
	}
}

// ReplaceNodeNameAffinity returns affinity with its required node affinity replaced by the single term
// `matchFields metadata.name In [node]`; other affinity is kept. affinity is modified in place when not nil.
func ReplaceNodeNameAffinity(affinity *corev1.Affinity, node string) *corev1.Affinity {
	term := corev1.NodeSelectorTerm{MatchFields: []corev1.NodeSelectorRequirement{{
		Key: nodeNameField, Operator: corev1.NodeSelectorOpIn, Values: []string{node},
	}}}
	if affinity == nil {
		affinity = &corev1.Affinity{}
	}
	if affinity.NodeAffinity == nil {
		affinity.NodeAffinity = &corev1.NodeAffinity{}
	}
	affinity.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution = &corev1.NodeSelector{NodeSelectorTerms: []corev1.NodeSelectorTerm{term}}
	return affinity
}

// TargetNode is the node pod belongs to: spec.nodeName, or while unscheduled the node its required node affinity
// pins it to; "" if neither.
func TargetNode(pod *corev1.Pod) string {
	if pod.Spec.NodeName != "" {
		return pod.Spec.NodeName
	}
	a := pod.Spec.Affinity
	if a == nil || a.NodeAffinity == nil || a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution == nil {
		return ""
	}
	terms := a.NodeAffinity.RequiredDuringSchedulingIgnoredDuringExecution.NodeSelectorTerms
	if len(terms) != 1 {
		return ""
	}
	for _, f := range terms[0].MatchFields {
		if f.Key == nodeNameField && f.Operator == corev1.NodeSelectorOpIn && len(f.Values) == 1 {
			return f.Values[0]
		}
	}
	return ""
}

// NewPodTemplate is the template ds's pod for node is created from: ds's template with the
// controller-revision-hash (and pod-template-generation) labels, the daemon tolerations and the node-name affinity.
func NewPodTemplate(ds *appsv1.DaemonSet, node, hash string) *corev1.PodTemplateSpec {
	t := ds.Spec.Template.DeepCopy()
	if t.Labels == nil {
		t.Labels = map[string]string{}
	}
	if g := TemplateGeneration(ds); g != nil {
		t.Labels[LabelTemplateGeneration] = strconv.FormatInt(*g, 10)
	}
	if hash != "" {
		t.Labels[appsv1.ControllerRevisionHashLabelKey] = hash
	}
	addOrUpdateTolerations(&t.Spec, daemonTolerations(&t.Spec))
	t.Spec.Affinity = ReplaceNodeNameAffinity(t.Spec.Affinity, node)
	return t
}

// ShouldRun reports whether ds wants a pod on node (shouldRun) and whether a pod already there may stay
// (shouldContinueRunning), as upstream's NodeShouldRunDaemonPod: the template's nodeName, nodeSelector and required
// node affinity must match; NoSchedule and NoExecute taints must be tolerated to run, NoExecute ones to stay.
func ShouldRun(node *corev1.Node, ds *appsv1.DaemonSet) (shouldRun, shouldContinueRunning bool) {
	return newFit(ds).shouldRun(node)
}

// fit is ds's template parsed once for ShouldRun over many nodes.
type fit struct {
	nodeName    string
	affinity    *plugins.RequiredNodeAffinity
	tolerations []corev1.Toleration
}

func newFit(ds *appsv1.DaemonSet) *fit {
	spec := ds.Spec.Template.Spec
	pod := &corev1.Pod{Spec: corev1.PodSpec{
		NodeSelector: spec.NodeSelector, Affinity: spec.Affinity, HostNetwork: spec.HostNetwork,
		Tolerations: append([]corev1.Toleration(nil), spec.Tolerations...),
	}}
	addOrUpdateTolerations(&pod.Spec, daemonTolerations(&pod.Spec))
	return &fit{nodeName: spec.NodeName, affinity: plugins.NewRequiredNodeAffinity(pod), tolerations: pod.Spec.Tolerations}
}

func (f *fit) shouldRun(node *corev1.Node) (shouldRun, shouldContinueRunning bool) {
	if f.nodeName != "" && f.nodeName != node.Name {
		return false, false
	}
	if !f.affinity.Match(node) {
		return false, false
	}
	if f.untolerated(node, corev1.TaintEffectNoSchedule, corev1.TaintEffectNoExecute) {
		return false, !f.untolerated(node, corev1.TaintEffectNoExecute)
	}
	return true, true
}

// untolerated reports whether node has a taint with one of effects that no toleration tolerates.
func (f *fit) untolerated(node *corev1.Node, effects ...corev1.TaintEffect) bool {
	for i := range node.Spec.Taints {
		taint := &node.Spec.Taints[i]
		if !slices.Contains(effects, taint.Effect) {
			continue
		}
		tolerated := false
		for j := range f.tolerations {
			if f.tolerations[j].ToleratesTaint(logr.Discard(), taint, false) {
				tolerated = true
				break
			}
		}
		if !tolerated {
			return true
		}
	}
	return false
}

// surgeAndUnavailable are ds's maxSurge and maxUnavailable for desired scheduled nodes (both rounded up), with
// unavailable 1 when both come out 0, as upstream's updatedDesiredNodeCounts.
func surgeAndUnavailable(ds *appsv1.DaemonSet, desired int) (surge, unavailable int, err error) {
	ru := ds.Spec.UpdateStrategy.RollingUpdate
	if ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType || ru == nil {
		return 0, 1, nil
	}
	if ru.MaxSurge != nil {
		if surge, err = intstr.GetScaledValueFromIntOrPercent(ru.MaxSurge, desired, true); err != nil {
			return 0, 0, fmt.Errorf("invalid value for MaxSurge: %w", err)
		}
	}
	if ru.MaxUnavailable != nil {
		if unavailable, err = intstr.GetScaledValueFromIntOrPercent(ru.MaxUnavailable, desired, true); err != nil {
			return 0, 0, fmt.Errorf("invalid value for MaxUnavailable: %w", err)
		}
	}
	if desired > 0 && surge == 0 && unavailable == 0 {
		unavailable = 1
	}
	return surge, unavailable, nil
}

// allowsSurge reports whether ds's rolling update may run two pods on a node.
func allowsSurge(ds *appsv1.DaemonSet) bool {
	s, _, err := surgeAndUnavailable(ds, 1)
	return err == nil && s > 0
}

// byCreation orders pods scheduled first, then oldest first, then by name (upstream's
// podByCreationTimestampAndPhase).
func byCreation(pods []*corev1.Pod) {
	sort.SliceStable(pods, func(i, j int) bool {
		a, b := pods[i], pods[j]
		if (a.Spec.NodeName != "") != (b.Spec.NodeName != "") {
			return a.Spec.NodeName != ""
		}
		if a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.Name < b.Name
		}
		return a.CreationTimestamp.Before(&b.CreationTimestamp)
	})
}

// NodesToPods groups pods by TargetNode, leaving out pods that are both terminal and being deleted and pods with no
// target node. Each group is sorted by byCreation.
func NodesToPods(pods []*corev1.Pod) map[string][]*corev1.Pod {
	out := map[string][]*corev1.Pod{}
	for _, p := range pods {
		terminal := p.Status.Phase == corev1.PodSucceeded || p.Status.Phase == corev1.PodFailed
		if terminal && p.DeletionTimestamp != nil {
			continue
		}
		n := TargetNode(p)
		if n == "" {
			continue
		}
		out[n] = append(out[n], p)
	}
	for _, ps := range out {
		byCreation(ps)
	}
	return out
}

func sortedNodes(nodes []*corev1.Node) []*corev1.Node {
	out := append([]*corev1.Node(nil), nodes...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Reconcile decides what one sync of ds does, as upstream's manage followed, when manage has nothing to do and the
// strategy is RollingUpdate, by rollingUpdate.
//
//	ds    the DaemonSet (read only)
//	nodes every node in the cluster
//	pods  the pods ds controls (after adoption/release), including terminating and finished ones
//	hash  the controller-revision-hash of ds's current ControllerRevision
//	now   the current time, for availability (minReadySeconds)
func Reconcile(ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod, hash string, now time.Time) (Plan, error) {
	plan := manage(ds, nodes, pods, hash, now)
	if !plan.Empty() || ds.Spec.UpdateStrategy.Type != appsv1.RollingUpdateDaemonSetStrategyType {
		return capPlan(plan), nil
	}
	plan, err := rollingUpdate(ds, nodes, pods, hash, now)
	return capPlan(plan), err
}

func capPlan(p Plan) Plan {
	if len(p.Create) > BurstReplicas {
		p.Create = p.Create[:BurstReplicas]
	}
	if len(p.Delete) > BurstReplicas {
		p.Delete = p.Delete[:BurstReplicas]
	}
	return p
}

// manage is upstream's manage: one pod on every node that should run one, none elsewhere.
func manage(ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod, hash string, now time.Time) Plan {
	var plan Plan
	byNode := NodesToPods(pods)
	known := map[string]bool{}
	surge := allowsSurge(ds)
	f := newFit(ds)
	for _, node := range sortedNodes(nodes) {
		known[node.Name] = true
		shouldRun, shouldContinue := f.shouldRun(node)
		onNode := byNode[node.Name]
		switch {
		case shouldRun && len(onNode) == 0:
			plan.Create = append(plan.Create, node.Name)
		case shouldContinue:
			var running []*corev1.Pod
			for _, p := range onNode {
				switch {
				case p.DeletionTimestamp != nil:
				case p.Status.Phase == corev1.PodFailed:
					plan.Delete = append(plan.Delete, p)
					plan.Failed = append(plan.Failed, p)
				case p.Status.Phase == corev1.PodSucceeded:
					plan.Delete = append(plan.Delete, p)
				default:
					running = append(running, p)
				}
			}
			if !surge {
				// Keep the oldest; a node whose pods all ended gets a new one once they are gone.
				if len(running) > 1 {
					plan.Delete = append(plan.Delete, running[1:]...)
				}
				continue
			}
			if len(running) == 0 {
				if shouldRun {
					plan.Create = append(plan.Create, node.Name)
				}
				continue
			}
			// Surging: keep the oldest new and the oldest old pod; the old one goes once the new one is available
			// or the old one is not ready.
			var oldestNew, oldestOld *corev1.Pod
			for _, p := range running {
				if p.Labels[appsv1.ControllerRevisionHashLabelKey] == hash {
					if oldestNew == nil {
						oldestNew = p
						continue
					}
				} else if oldestOld == nil {
					oldestOld = p
					continue
				}
				plan.Delete = append(plan.Delete, p)
			}
			if oldestNew != nil && oldestOld != nil &&
				(!controllerutil.IsPodReady(oldestOld) || controllerutil.IsPodAvailable(oldestNew, ds.Spec.MinReadySeconds, now)) {
				plan.Delete = append(plan.Delete, oldestOld)
			}
		default:
			for _, p := range onNode {
				if p.DeletionTimestamp == nil {
					plan.Delete = append(plan.Delete, p)
				}
			}
		}
	}
	// Unscheduled pods pinned to nodes that no longer exist: the pod GC never sees them.
	var gone []string
	for n := range byNode {
		if !known[n] {
			gone = append(gone, n)
		}
	}
	sort.Strings(gone)
	for _, n := range gone {
		for _, p := range byNode[n] {
			if p.Spec.NodeName == "" && p.DeletionTimestamp == nil {
				plan.Delete = append(plan.Delete, p)
			}
		}
	}
	return plan
}

// updatedOnNode splits the live pods of one node into the updated and the old one; ok is false when a node has
// two of either kind (manage cleans that up first).
func updatedOnNode(pods []*corev1.Pod, hash string, gen *int64) (newPod, oldPod *corev1.Pod, ok bool) {
	for _, p := range pods {
		if p.DeletionTimestamp != nil {
			continue
		}
		if IsPodUpdated(p, hash, gen) {
			if newPod != nil {
				return nil, nil, false
			}
			newPod = p
		} else {
			if oldPod != nil {
				return nil, nil, false
			}
			oldPod = p
		}
	}
	return newPod, oldPod, true
}

// rollingUpdate is upstream's rollingUpdate: without surge it deletes old pods while at most maxUnavailable nodes
// lack an available pod (manage then creates the new ones); with surge it creates new pods next to at most maxSurge
// available old ones and deletes an old pod once the new one on its node is available.
func rollingUpdate(ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod, hash string, now time.Time) (Plan, error) {
	byNode := NodesToPods(pods)
	var wanted []string
	desired := 0
	f := newFit(ds)
	for _, node := range sortedNodes(nodes) {
		if run, _ := f.shouldRun(node); run {
			desired++
			wanted = append(wanted, node.Name)
		}
	}
	maxSurge, maxUnavailable, err := surgeAndUnavailable(ds, desired)
	if err != nil {
		return Plan{}, err
	}
	// Every node with pods, and every node that wants one, in name order.
	seen := map[string]bool{}
	var names []string
	for n := range byNode {
		seen[n] = true
		names = append(names, n)
	}
	for _, n := range wanted {
		if !seen[n] {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	gen := TemplateGeneration(ds)
	minReady := ds.Spec.MinReadySeconds
	var plan Plan
	if maxSurge == 0 {
		numUnavailable := 0
		var replace, candidates []*corev1.Pod
		for _, n := range names {
			newPod, oldPod, ok := updatedOnNode(byNode[n], hash, gen)
			switch {
			case !ok:
				numUnavailable++
			case (oldPod == nil) == (newPod == nil):
				// Nothing or both: manage creates or deletes; count the node as unavailable.
				numUnavailable++
			case newPod != nil:
				if !controllerutil.IsPodAvailable(newPod, minReady, now) {
					numUnavailable++
				}
			case !controllerutil.IsPodAvailable(oldPod, minReady, now):
				replace = append(replace, oldPod)
			case numUnavailable < maxUnavailable:
				candidates = append(candidates, oldPod)
			}
		}
		room := max(0, min(maxUnavailable-numUnavailable, len(candidates)))
		plan.Delete = append(replace, candidates[:room]...)
		return plan, nil
	}
	numSurge := 0
	var allowed, candidates []string
	for _, n := range names {
		newPod, oldPod, ok := updatedOnNode(byNode[n], hash, gen)
		switch {
		case !ok:
			numSurge++
		case oldPod == nil:
		case newPod == nil:
			switch {
			case !controllerutil.IsPodAvailable(oldPod, minReady, now):
				allowed = append(allowed, n)
			case numSurge < maxSurge:
				candidates = append(candidates, n)
			}
		case !controllerutil.IsPodAvailable(newPod, minReady, now):
			numSurge++
		default:
			plan.Delete = append(plan.Delete, oldPod)
		}
	}
	room := max(0, min(maxSurge-numSurge, len(candidates)))
	plan.Create = append(allowed, candidates[:room]...)
	return plan, nil
}

// CalculateStatus is ds's status given the nodes, its pods and its current hash; observedGeneration and
// collisionCount are left as in ds.
func CalculateStatus(ds *appsv1.DaemonSet, nodes []*corev1.Node, pods []*corev1.Pod, hash string, now time.Time) appsv1.DaemonSetStatus {
	st := *ds.Status.DeepCopy()
	byNode := NodesToPods(pods)
	gen := TemplateGeneration(ds)
	var desired, current, misscheduled, ready, available, updated int32
	f := newFit(ds)
	for _, node := range nodes {
		shouldRun, _ := f.shouldRun(node)
		onNode := byNode[node.Name]
		if !shouldRun {
			if len(onNode) > 0 {
				misscheduled++
			}
			continue
		}
		desired++
		if len(onNode) == 0 {
			continue
		}
		current++
		p := onNode[0]
		if controllerutil.IsPodReady(p) {
			ready++
			if controllerutil.IsPodAvailable(p, ds.Spec.MinReadySeconds, now) {
				available++
			}
		}
		if IsPodUpdated(p, hash, gen) {
			updated++
		}
	}
	st.DesiredNumberScheduled = desired
	st.CurrentNumberScheduled = current
	st.NumberMisscheduled = misscheduled
	st.NumberReady = ready
	st.NumberAvailable = available
	st.UpdatedNumberScheduled = updated
	st.NumberUnavailable = desired - available
	return st
}

// UpdateNeeded reports whether ds's stored status differs from st or has not observed ds's generation.
func UpdateNeeded(ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) bool {
	cur := ds.Status
	return cur.ObservedGeneration < ds.Generation ||
		cur.DesiredNumberScheduled != st.DesiredNumberScheduled ||
		cur.CurrentNumberScheduled != st.CurrentNumberScheduled ||
		cur.NumberMisscheduled != st.NumberMisscheduled ||
		cur.NumberReady != st.NumberReady ||
		cur.NumberAvailable != st.NumberAvailable ||
		cur.NumberUnavailable != st.NumberUnavailable ||
		cur.UpdatedNumberScheduled != st.UpdatedNumberScheduled
}

// MinReadyRequeue is how long to wait before syncing ds again so that ready pods become available
// (minReadySeconds); 0 means no need.
func MinReadyRequeue(ds *appsv1.DaemonSet, st appsv1.DaemonSetStatus) time.Duration {
	if ds.Spec.MinReadySeconds > 0 && st.NumberReady != st.NumberAvailable {
		return time.Duration(ds.Spec.MinReadySeconds) * time.Second
	}
	return 0
}

// Patch is the revision data of ds, as upstream's getPatch: a strategic-merge patch that replaces spec.template.
// `kubectl rollout undo` applies it to the DaemonSet.
func Patch(ds *appsv1.DaemonSet) ([]byte, error) {
	b, err := json.Marshal(ds.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("marshal template: %w", err)
	}
	var template map[string]any
	if err := json.Unmarshal(b, &template); err != nil {
		return nil, fmt.Errorf("unmarshal template: %w", err)
	}
	template["$patch"] = "replace"
	return json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
}

// Match reports whether rev records ds's current template.
func Match(ds *appsv1.DaemonSet, rev *appsv1.ControllerRevision) bool {
	p, err := Patch(ds)
	return err == nil && string(p) == string(rev.Data.Raw)
}

// NewRevision is the ControllerRevision "<ds>-<hash>" that records ds's template as revision number revision.
func NewRevision(ds *appsv1.DaemonSet, hash string, revision int64, ref *metav1.OwnerReference) (*appsv1.ControllerRevision, error) {
	p, err := Patch(ds)
	if err != nil {
		return nil, err
	}
	labels := make(map[string]string, len(ds.Spec.Template.Labels)+1)
	for k, v := range ds.Spec.Template.Labels {
		labels[k] = v
	}
	labels[appsv1.ControllerRevisionHashLabelKey] = hash
	annotations := make(map[string]string, len(ds.Annotations))
	for k, v := range ds.Annotations {
		annotations[k] = v
	}
	rev := &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{Name: ds.Name + "-" + hash, Namespace: ds.Namespace, Labels: labels, Annotations: annotations},
		Revision:   revision,
	}
	rev.Data.Raw = p
	if ref != nil {
		rev.OwnerReferences = []metav1.OwnerReference{*ref}
	}
	return rev, nil
}

// History is ds's ControllerRevisions split by whether they record its current template.
type History struct {
	// Current record the current template, highest revision first (more than one only after a race).
	Current []*appsv1.ControllerRevision
	// Old record other templates, lowest revision first.
	Old []*appsv1.ControllerRevision
	// Next is the revision number the current template should have: one more than the highest old one.
	Next int64
}

// SplitHistory sorts revs (those ds controls) into a History.
func SplitHistory(ds *appsv1.DaemonSet, revs []*appsv1.ControllerRevision) History {
	var h History
	for _, r := range revs {
		if Match(ds, r) {
			h.Current = append(h.Current, r)
		} else {
			h.Old = append(h.Old, r)
			h.Next = max(h.Next, r.Revision)
		}
	}
	h.Next++
	sort.SliceStable(h.Current, func(i, j int) bool { return h.Current[i].Revision > h.Current[j].Revision })
	sort.SliceStable(h.Old, func(i, j int) bool { return h.Old[i].Revision < h.Old[j].Revision })
	return h
}

// HistoryToDelete are the old revisions beyond spec.revisionHistoryLimit (default 10), oldest first, that no pod
// still runs.
func HistoryToDelete(ds *appsv1.DaemonSet, old []*appsv1.ControllerRevision, pods []*corev1.Pod) []*appsv1.ControllerRevision {
	limit := 10
	if ds.Spec.RevisionHistoryLimit != nil {
		limit = int(*ds.Spec.RevisionHistoryLimit)
	}
	excess := len(old) - limit
	if excess <= 0 {
		return nil
	}
	live := map[string]bool{}
	for _, p := range pods {
		if h := p.Labels[appsv1.ControllerRevisionHashLabelKey]; h != "" {
			live[h] = true
		}
	}
	sorted := append([]*appsv1.ControllerRevision(nil), old...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Revision < sorted[j].Revision })
	var out []*appsv1.ControllerRevision
	for _, r := range sorted {
		if excess == 0 {
			break
		}
		if live[r.Labels[appsv1.ControllerRevisionHashLabelKey]] {
			continue
		}
		out = append(out, r)
		excess--
	}
	return out
}
