package statefulset

import (
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Labels the controller puts on its pods, as upstream.
const (
	// PodNameLabel is the pod's own name, so that a Service can select one pod of the set.
	PodNameLabel = appsv1.StatefulSetPodNameLabel
	// PodIndexLabel is the pod's ordinal (PodIndexLabel feature, beta and on since 1.28).
	PodIndexLabel = appsv1.PodIndexLabel
)

// Input is what Reconcile decides from. Nothing in it is modified.
type Input struct {
	// Set is the StatefulSet as stored.
	Set *appsv1.StatefulSet
	// CurrentSet and UpdateSet are Set with the current and update revisions' templates applied (ApplyRevision);
	// CurrentRevision and UpdateRevision are those revisions' names.
	CurrentSet, UpdateSet           *appsv1.StatefulSet
	CurrentRevision, UpdateRevision string
	// Pods are the pods Set controls, in any phase, terminating ones included.
	Pods []*corev1.Pod
	// Claims are the PersistentVolumeClaims of Set's namespace by name.
	Claims map[string]*corev1.PersistentVolumeClaim
	// Now is the current time (for minReadySeconds).
	Now time.Time
}

// Plan is what one sync does, in this order: UpdateClaims, CreateClaims, Create, Delete; then write Status.
type Plan struct {
	// UpdateClaims are existing claims whose owner references must change for the retention policy.
	UpdateClaims []*corev1.PersistentVolumeClaim
	// CreateClaims are the missing claims of pods that exist or are created now.
	CreateClaims []*corev1.PersistentVolumeClaim
	// Create are the pods to create, lowest ordinal first.
	Create []*corev1.Pod
	// Delete are the pods to delete: failed or succeeded replicas, condemned pods (highest ordinal first) and
	// pods replaced by a rolling update.
	Delete []*corev1.Pod
	// Status is the status after the plan is carried out; ObservedGeneration is Set's generation.
	Status appsv1.StatefulSetStatus
	// RequeueAfter > 0 asks for another sync when a ready pod becomes available (minReadySeconds).
	RequeueAfter time.Duration
}

var podNameRE = regexp.MustCompile(`(.*)-([0-9]+)$`)

// ParentAndOrdinal splits a pod name <parent>-<ordinal>; the ordinal is -1 if the name has no such form.
func ParentAndOrdinal(name string) (string, int) {
	m := podNameRE.FindStringSubmatch(name)
	if m == nil {
		return "", -1
	}
	n, err := strconv.ParseInt(m[2], 10, 32)
	if err != nil {
		return "", -1
	}
	return m[1], int(n)
}

// IsMember reports whether pod's name is <set>-<ordinal>.
func IsMember(set *appsv1.StatefulSet, pod *corev1.Pod) bool {
	parent, ord := ParentAndOrdinal(pod.Name)
	return ord >= 0 && parent == set.Name
}

// PodName is the name of set's pod with ordinal.
func PodName(set *appsv1.StatefulSet, ordinal int) string {
	return set.Name + "-" + strconv.Itoa(ordinal)
}

// ClaimName is the name of the claim from template for set's pod with ordinal: <claim>-<set>-<ordinal>.
func ClaimName(set *appsv1.StatefulSet, template *corev1.PersistentVolumeClaim, ordinal int) string {
	return template.Name + "-" + set.Name + "-" + strconv.Itoa(ordinal)
}

func startOrdinal(set *appsv1.StatefulSet) int {
	if set.Spec.Ordinals != nil {
		return int(set.Spec.Ordinals.Start)
	}
	return 0
}

// NewPod is set's pod with ordinal labelled with revision: the template with the stable name, hostname and
// subdomain, the pod-name, pod-index and controller-revision-hash labels, a volume per claim template, and a
// controller reference to owner (the stored StatefulSet).
func NewPod(set, owner *appsv1.StatefulSet, ordinal int, revision string) *corev1.Pod {
	pod := controllerutil.PodFromTemplate(&set.Spec.Template, set.Name, controllerutil.NewControllerRef(owner, controllerKind))
	pod.GenerateName = ""
	pod.Name = PodName(set, ordinal)
	pod.Namespace = set.Namespace
	if pod.Labels == nil {
		pod.Labels = map[string]string{}
	}
	pod.Labels[PodNameLabel] = pod.Name
	pod.Labels[PodIndexLabel] = strconv.Itoa(ordinal)
	pod.Labels[appsv1.ControllerRevisionHashLabelKey] = revision
	pod.Spec.Hostname = pod.Name
	pod.Spec.Subdomain = set.Spec.ServiceName
	if len(set.Spec.VolumeClaimTemplates) > 0 {
		claims := map[string]string{}
		for i := range set.Spec.VolumeClaimTemplates {
			t := &set.Spec.VolumeClaimTemplates[i]
			claims[t.Name] = ClaimName(set, t, ordinal)
		}
		var vols []corev1.Volume
		for _, v := range pod.Spec.Volumes {
			if _, ok := claims[v.Name]; !ok {
				vols = append(vols, v)
			}
		}
		for i := range set.Spec.VolumeClaimTemplates {
			t := &set.Spec.VolumeClaimTemplates[i]
			vols = append(vols, corev1.Volume{Name: t.Name, VolumeSource: corev1.VolumeSource{
				PersistentVolumeClaim: &corev1.PersistentVolumeClaimVolumeSource{ClaimName: claims[t.Name]},
			}})
		}
		pod.Spec.Volumes = vols
	}
	return pod
}

// newClaims are the claims set's pod with ordinal uses: each template named ClaimName, with the selector's
// matchLabels added to its labels.
func newClaims(set *appsv1.StatefulSet, ordinal int) []*corev1.PersistentVolumeClaim {
	var out []*corev1.PersistentVolumeClaim
	for i := range set.Spec.VolumeClaimTemplates {
		c := set.Spec.VolumeClaimTemplates[i].DeepCopy()
		c.Name = ClaimName(set, &set.Spec.VolumeClaimTemplates[i], ordinal)
		c.Namespace = set.Namespace
		c.ResourceVersion, c.UID = "", ""
		if set.Spec.Selector != nil && len(set.Spec.Selector.MatchLabels) > 0 {
			if c.Labels == nil {
				c.Labels = map[string]string{}
			}
			for k, v := range set.Spec.Selector.MatchLabels {
				c.Labels[k] = v
			}
		}
		c.Status = corev1.PersistentVolumeClaimStatus{}
		out = append(out, c)
	}
	return out
}

// versionedPod is upstream's newVersionedStatefulSetPod: ordinals below the partition keep the current revision.
func versionedPod(in Input, ordinal int) *corev1.Pod {
	set := in.CurrentSet
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType {
		keep := int(set.Status.CurrentReplicas)
		if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
			keep = int(ptr.Deref(ru.Partition, 0))
		}
		if ordinal < startOrdinal(set)+keep {
			return NewPod(in.CurrentSet, in.Set, ordinal, in.CurrentRevision)
		}
	}
	return NewPod(in.UpdateSet, in.Set, ordinal, in.UpdateRevision)
}

func isTerminating(p *corev1.Pod) bool { return p.DeletionTimestamp != nil }

func isFinished(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodFailed || p.Status.Phase == corev1.PodSucceeded
}

func isRunningAndReady(p *corev1.Pod) bool {
	return p.Status.Phase == corev1.PodRunning && controllerutil.IsPodReady(p)
}

func isRunningAndAvailable(p *corev1.Pod, minReady int32, now time.Time) bool {
	return p.Status.Phase == corev1.PodRunning && controllerutil.IsPodAvailable(p, minReady, now)
}

// isHealthy is upstream's test before moving on: running, available and not terminating.
func isHealthy(p *corev1.Pod, minReady int32, now time.Time) bool {
	return isRunningAndAvailable(p, minReady, now) && !isTerminating(p)
}

func revisionOf(p *corev1.Pod) string { return p.Labels[appsv1.ControllerRevisionHashLabelKey] }

// Reconcile decides one step of upstream's StatefulSet algorithm for in.Set (see the package documentation).
func Reconcile(in Input) Plan {
	set := in.Set
	var plan Plan
	st := &plan.Status
	st.ObservedGeneration = set.Generation
	st.CollisionCount = set.Status.CollisionCount
	st.Conditions = set.Status.Conditions
	st.CurrentRevision, st.UpdateRevision = in.CurrentRevision, in.UpdateRevision
	minReady := set.Spec.MinReadySeconds
	start, count := startOrdinal(set), int(ptr.Deref(set.Spec.Replicas, 1))
	replicas := make([]*corev1.Pod, count)
	var condemned []*corev1.Pod
	for _, p := range in.Pods {
		if !IsMember(set, p) {
			continue
		}
		st.Replicas++
		if isRunningAndReady(p) {
			st.ReadyReplicas++
			if isRunningAndAvailable(p, minReady, in.Now) {
				st.AvailableReplicas++
			} else if c := controllerutil.PodReadyCondition(p); c != nil && minReady > 0 {
				wait := c.LastTransitionTime.Add(time.Duration(minReady)*time.Second + time.Second).Sub(in.Now)
				if wait > 0 && (plan.RequeueAfter == 0 || wait < plan.RequeueAfter) {
					plan.RequeueAfter = wait
				}
			}
		}
		if !isTerminating(p) {
			switch revisionOf(p) {
			case in.CurrentRevision:
				st.CurrentReplicas++
				if in.CurrentRevision == in.UpdateRevision {
					st.UpdatedReplicas++
				}
			case in.UpdateRevision:
				st.UpdatedReplicas++
			}
		}
		_, ord := ParentAndOrdinal(p.Name)
		if ord >= start && ord < start+count {
			replicas[ord-start] = p
		} else {
			condemned = append(condemned, p)
		}
	}
	sort.Slice(condemned, func(i, j int) bool {
		_, a := ParentAndOrdinal(condemned[i].Name)
		_, b := ParentAndOrdinal(condemned[j].Name)
		return a > b
	})
	plan.UpdateClaims = claimRefUpdates(in, replicas, condemned)
	if set.DeletionTimestamp == nil {
		manage(in, &plan, replicas, condemned)
	}
	completeRollingUpdate(set, st)
	return plan
}

// countGone adjusts the status for a pod that is being deleted now.
func countGone(in Input, st *appsv1.StatefulSetStatus, p *corev1.Pod) {
	switch revisionOf(p) {
	case in.CurrentRevision:
		st.CurrentReplicas--
		if in.CurrentRevision == in.UpdateRevision {
			st.UpdatedReplicas--
		}
	case in.UpdateRevision:
		st.UpdatedReplicas--
	}
}

func manage(in Input, plan *Plan, replicas, condemned []*corev1.Pod) {
	set, st := in.Set, &plan.Status
	monotonic := set.Spec.PodManagementPolicy != appsv1.ParallelPodManagement
	minReady := set.Spec.MinReadySeconds
	start := startOrdinal(set)
	busy := make([]bool, len(replicas))
	addClaims := func(ordinal int) {
		for _, c := range newClaims(set, ordinal) {
			if _, ok := in.Claims[c.Name]; !ok {
				applyRetention(set, c, nil, false)
				plan.CreateClaims = append(plan.CreateClaims, c)
			}
		}
	}
	for i, p := range replicas {
		ordinal := start + i
		switch {
		case p == nil:
			pod := versionedPod(in, ordinal)
			addClaims(ordinal)
			plan.Create = append(plan.Create, pod)
			busy[i] = true
			st.Replicas++
			switch revisionOf(pod) {
			case in.CurrentRevision:
				st.CurrentReplicas++
				if in.CurrentRevision == in.UpdateRevision {
					st.UpdatedReplicas++
				}
			case in.UpdateRevision:
				st.UpdatedReplicas++
			}
			if monotonic {
				return
			}
			continue
		case isFinished(p) && !isTerminating(p):
			// A failed or completed pod is deleted and, on a later sync, recreated under the same name.
			plan.Delete = append(plan.Delete, p)
			countGone(in, st, p)
			st.Replicas--
			busy[i] = true
			if monotonic {
				return
			}
			continue
		}
		addClaims(ordinal)
		if monotonic && !isHealthy(p, minReady, in.Now) {
			// OrderedReady: wait for this pod to run, be available and not terminate before touching the next.
			return
		}
	}
	for _, p := range condemned {
		if isTerminating(p) {
			if monotonic {
				return
			}
			continue
		}
		plan.Delete = append(plan.Delete, p)
		countGone(in, st, p)
		if monotonic {
			return
		}
	}
	if set.Spec.UpdateStrategy.Type != appsv1.RollingUpdateStatefulSetStrategyType {
		return
	}
	partition := 0
	if ru := set.Spec.UpdateStrategy.RollingUpdate; ru != nil {
		partition = int(ptr.Deref(ru.Partition, 0))
	}
	// Replace the highest ordinal not at the update revision, one at a time, each once all above are healthy.
	for i := len(replicas) - 1; i >= partition; i-- {
		p := replicas[i]
		if p == nil || busy[i] {
			return
		}
		if revisionOf(p) != in.UpdateRevision && !isTerminating(p) {
			plan.Delete = append(plan.Delete, p)
			countGone(in, st, p)
			return
		}
		if !isHealthy(p, minReady, in.Now) {
			return
		}
	}
}

// completeRollingUpdate makes the update revision current once every pod runs it and is ready.
func completeRollingUpdate(set *appsv1.StatefulSet, st *appsv1.StatefulSetStatus) {
	if set.Spec.UpdateStrategy.Type == appsv1.RollingUpdateStatefulSetStrategyType &&
		st.UpdatedReplicas == st.Replicas && st.ReadyReplicas == st.Replicas {
		st.CurrentReplicas = st.UpdatedReplicas
		st.CurrentRevision = st.UpdateRevision
	}
}

// claimRefUpdates returns copies of the existing claims of member pods whose owner references do not follow the
// retention policy yet.
func claimRefUpdates(in Input, replicas, condemned []*corev1.Pod) []*corev1.PersistentVolumeClaim {
	set := in.Set
	var out []*corev1.PersistentVolumeClaim
	check := func(p *corev1.Pod, scaledDown bool) {
		_, ord := ParentAndOrdinal(p.Name)
		for _, want := range newClaims(set, ord) {
			have, ok := in.Claims[want.Name]
			if !ok {
				continue
			}
			c := have.DeepCopy()
			if applyRetention(set, c, p, scaledDown) {
				out = append(out, c)
			}
		}
	}
	for _, p := range replicas {
		if p != nil {
			check(p, false)
		}
	}
	for _, p := range condemned {
		check(p, true)
	}
	return out
}

// applyRetention sets claim's owner references for persistentVolumeClaimRetentionPolicy as upstream: whenDeleted
// Delete makes set an owner; whenScaled Delete makes a scaled-down pod (ordinal out of range) the owner instead, so
// that the claim goes with the pod. It reports whether it changed anything.
func applyRetention(set *appsv1.StatefulSet, claim *corev1.PersistentVolumeClaim, pod *corev1.Pod, scaledDown bool) bool {
	policy := set.Spec.PersistentVolumeClaimRetentionPolicy
	whenDeleted, whenScaled := appsv1.RetainPersistentVolumeClaimRetentionPolicyType, appsv1.RetainPersistentVolumeClaimRetentionPolicyType
	if policy != nil {
		whenDeleted, whenScaled = policy.WhenDeleted, policy.WhenScaled
	}
	podOwned := scaledDown && pod != nil && whenScaled == appsv1.DeletePersistentVolumeClaimRetentionPolicyType
	setOwned := whenDeleted == appsv1.DeletePersistentVolumeClaimRetentionPolicyType && !podOwned
	changed := setRef(claim, set.UID, setOwned, metav1.OwnerReference{APIVersion: controllerKind.GroupVersion().String(), Kind: controllerKind.Kind, Name: set.Name, UID: set.UID})
	if pod != nil {
		changed = setRef(claim, pod.UID, podOwned, metav1.OwnerReference{APIVersion: "v1", Kind: "Pod", Name: pod.Name, UID: pod.UID}) || changed
	}
	return changed
}

// setRef adds (want) or removes (!want) the owner reference with uid; it reports whether claim changed.
func setRef(claim *corev1.PersistentVolumeClaim, uid types.UID, want bool, ref metav1.OwnerReference) bool {
	idx := -1
	for i, r := range claim.OwnerReferences {
		if r.UID == uid {
			idx = i
		}
	}
	switch {
	case want && idx < 0:
		claim.OwnerReferences = append(claim.OwnerReferences, ref)
		return true
	case !want && idx >= 0:
		claim.OwnerReferences = append(claim.OwnerReferences[:idx:idx], claim.OwnerReferences[idx+1:]...)
		return true
	}
	return false
}

// StatusEqual reports whether the stored status of set already is st.
func StatusEqual(set *appsv1.StatefulSet, st appsv1.StatefulSetStatus) bool {
	a := set.Status
	return a.ObservedGeneration == st.ObservedGeneration && a.Replicas == st.Replicas &&
		a.ReadyReplicas == st.ReadyReplicas && a.CurrentReplicas == st.CurrentReplicas &&
		a.UpdatedReplicas == st.UpdatedReplicas && a.AvailableReplicas == st.AvailableReplicas &&
		a.CurrentRevision == st.CurrentRevision && a.UpdateRevision == st.UpdateRevision &&
		ptr.Equal(a.CollisionCount, st.CollisionCount)
}
