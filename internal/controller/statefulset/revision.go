package statefulset

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"sort"
	"strconv"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/rand"
)

// maxRevisionPrefix is how much of the StatefulSet's name a ControllerRevision name keeps (upstream's limit).
const maxRevisionPrefix = 223

// Patch is the data of a ControllerRevision of set, as upstream stores it: the strategic-merge patch
// {"spec":{"template":{...,"$patch":"replace"}}} that `kubectl rollout undo` applies to go back to it.
func Patch(set *appsv1.StatefulSet) ([]byte, error) {
	b, err := json.Marshal(set.Spec.Template)
	if err != nil {
		return nil, fmt.Errorf("encode template: %w", err)
	}
	var template map[string]any
	if err := json.Unmarshal(b, &template); err != nil {
		return nil, fmt.Errorf("decode template: %w", err)
	}
	template["$patch"] = "replace"
	out, err := json.Marshal(map[string]any{"spec": map[string]any{"template": template}})
	if err != nil {
		return nil, fmt.Errorf("encode patch: %w", err)
	}
	return out, nil
}

// HashRevision is upstream's ControllerRevision hash: FNV-32 of the data and the collision count, safely encoded.
func HashRevision(data []byte, collisionCount *int32) string {
	h := fnv.New32()
	h.Write(data)
	if collisionCount != nil {
		h.Write([]byte(strconv.FormatInt(int64(*collisionCount), 10)))
	}
	return rand.SafeEncodeString(fmt.Sprint(h.Sum32()))
}

// NewRevision is the ControllerRevision number revision of set's current template: named <set>-<hash>, labelled with
// the template's labels and controller-revision-hash, annotated with set's annotations, controlled by set.
func NewRevision(set *appsv1.StatefulSet, revision int64, collisionCount *int32) (*appsv1.ControllerRevision, error) {
	data, err := Patch(set)
	if err != nil {
		return nil, err
	}
	hash := HashRevision(data, collisionCount)
	prefix := set.Name
	if len(prefix) > maxRevisionPrefix {
		prefix = prefix[:maxRevisionPrefix]
	}
	lbls := map[string]string{}
	for k, v := range set.Spec.Template.Labels {
		lbls[k] = v
	}
	lbls[appsv1.ControllerRevisionHashLabelKey] = hash
	var ann map[string]string
	if len(set.Annotations) > 0 {
		ann = make(map[string]string, len(set.Annotations))
		for k, v := range set.Annotations {
			ann[k] = v
		}
	}
	return &appsv1.ControllerRevision{
		ObjectMeta: metav1.ObjectMeta{
			Name:            prefix + "-" + hash,
			Namespace:       set.Namespace,
			Labels:          lbls,
			Annotations:     ann,
			OwnerReferences: []metav1.OwnerReference{*controllerutil.NewControllerRef(set, controllerKind)},
		},
		Data:     runtime.RawExtension{Raw: data},
		Revision: revision,
	}, nil
}

// ApplyRevision returns a copy of set whose pod template is the one stored in rev.
func ApplyRevision(set *appsv1.StatefulSet, rev *appsv1.ControllerRevision) (*appsv1.StatefulSet, error) {
	var p struct {
		Spec struct {
			Template corev1.PodTemplateSpec `json:"template"`
		} `json:"spec"`
	}
	if err := json.Unmarshal(rev.Data.Raw, &p); err != nil {
		return nil, fmt.Errorf("decode revision %s: %w", rev.Name, err)
	}
	clone := set.DeepCopy()
	clone.Spec.Template = p.Spec.Template
	return clone, nil
}

// SortRevisions orders revisions (in place) by revision number, then creation time, then name.
func SortRevisions(revs []*appsv1.ControllerRevision) {
	sort.SliceStable(revs, func(i, j int) bool {
		a, b := revs[i], revs[j]
		if a.Revision != b.Revision {
			return a.Revision < b.Revision
		}
		if !a.CreationTimestamp.Equal(&b.CreationTimestamp) {
			return a.CreationTimestamp.Before(&b.CreationTimestamp)
		}
		return a.Name < b.Name
	})
}

// RevisionPlan is how one sync settles a StatefulSet's revisions; see ResolveRevisions.
type RevisionPlan struct {
	// Update is the revision pods should run. If Create is true it does not exist yet and must be created
	// (on a name collision with different data, bump the collision count and resolve again); if Renumber is true
	// it exists with an older number and must be updated to Update.Revision.
	Update           *appsv1.ControllerRevision
	Create, Renumber bool
	// Current is the revision status.currentRevision names, or Update when there is none.
	Current *appsv1.ControllerRevision
}

// ResolveRevisions decides set's current and update revisions from the revisions it controls (sorted by
// SortRevisions), as upstream's getStatefulSetRevisions: an existing revision equal to the template is reused
// (renumbered to the newest if it is not already), otherwise a new one numbered after the last is created.
func ResolveRevisions(set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision) (RevisionPlan, error) {
	next := int64(1)
	if n := len(revs); n > 0 {
		next = revs[n-1].Revision + 1
	}
	collisionCount := ptrDeref(set.Status.CollisionCount)
	upd, err := NewRevision(set, next, &collisionCount)
	if err != nil {
		return RevisionPlan{}, err
	}
	var plan RevisionPlan
	var equal *appsv1.ControllerRevision
	for _, r := range revs {
		if bytes.Equal(r.Data.Raw, upd.Data.Raw) {
			equal = r
		}
	}
	switch {
	case equal != nil && equal == revs[len(revs)-1]:
		plan.Update = equal
	case equal != nil:
		r := equal.DeepCopy()
		r.Revision = next
		plan.Update, plan.Renumber = r, true
	default:
		plan.Update, plan.Create = upd, true
	}
	plan.Current = plan.Update
	for _, r := range revs {
		if r.Name == set.Status.CurrentRevision {
			plan.Current = r
			break
		}
	}
	if plan.Renumber && plan.Current.Name == plan.Update.Name {
		plan.Current = plan.Update
	}
	return plan, nil
}

// HistoryToDelete returns the revisions beyond set's revisionHistoryLimit, oldest first, that neither a live pod
// (by controller-revision-hash label) nor the current or update revision uses.
func HistoryToDelete(set *appsv1.StatefulSet, revs []*appsv1.ControllerRevision, pods []*corev1.Pod, current, update string) []*appsv1.ControllerRevision {
	live := map[string]bool{current: true, update: true}
	for _, p := range pods {
		live[p.Labels[appsv1.ControllerRevisionHashLabelKey]] = true
	}
	var historic []*appsv1.ControllerRevision
	for _, r := range revs {
		if !live[r.Name] {
			historic = append(historic, r)
		}
	}
	limit := 10
	if set.Spec.RevisionHistoryLimit != nil {
		limit = int(*set.Spec.RevisionHistoryLimit)
	}
	if len(historic) <= limit {
		return nil
	}
	return historic[:len(historic)-limit]
}

func ptrDeref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}
