package job

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllerutil"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
)

// Names upstream gives to the Job's pods' metadata.
const (
	// TrackingFinalizer holds a Job's pod until the controller has counted it in the Job's status.
	TrackingFinalizer = batchv1.JobTrackingFinalizer
	// CompletionIndexKey is the annotation and label that carry an Indexed Job pod's completion index.
	CompletionIndexKey = batchv1.JobCompletionIndexAnnotation
	// CompletionIndexEnv is the environment variable through which a container reads its completion index.
	CompletionIndexEnv = "JOB_COMPLETION_INDEX"
)

// Condition reasons and messages, as upstream.
const (
	ReasonCompletionsReached   = batchv1.JobReasonCompletionsReached
	ReasonBackoffLimitExceeded = batchv1.JobReasonBackoffLimitExceeded
	ReasonDeadlineExceeded     = batchv1.JobReasonDeadlineExceeded
	ReasonPodFailurePolicy     = batchv1.JobReasonPodFailurePolicy
	ReasonSuspended            = "JobSuspended"
	ReasonResumed              = "JobResumed"

	MessageCompletionsReached   = "Reached expected number of succeeded pods"
	MessageBackoffLimitExceeded = "Job has reached the specified backoff limit"
	MessageDeadlineExceeded     = "Job was active longer than specified deadline"
	MessageSuspended            = "Job suspended"
	MessageResumed              = "Job resumed"
)

// Event reasons, as upstream (failure events carry the condition's reason and message).
const (
	EventSuccessfulCreate = "SuccessfulCreate"
	EventFailedCreate     = "FailedCreate"
	EventSuccessfulDelete = "SuccessfulDelete"
	EventFailedDelete     = "FailedDelete"
	EventCompleted        = "Completed"
	EventSuspended        = "Suspended"
	EventResumed          = "Resumed"
)

// Pod re-creation back-off after failures: DefaultBackoff doubling per consecutive failure, capped at MaxBackoff.
const (
	DefaultBackoff = 10 * time.Second
	MaxBackoff     = 10 * time.Minute
)

// MaxBatch caps how many pods one sync creates or deletes.
const MaxBatch = 500

// Event is an event the shell records on the Job.
type Event struct {
	Type, Reason, Message string
}

// Plan is what one sync of a Job should do, in order: write Status (when StatusChanged), then create and
// delete pods, then remove the tracking finalizer from RemoveFinalizers, then sync again after RequeueAfter.
type Plan struct {
	// Status is the Job's new status (ObservedGeneration is not a Job field; nothing else is left to the shell).
	Status batchv1.JobStatus
	// StatusChanged says Status differs from the stored one and must be written before anything else.
	StatusChanged bool
	// Create lists the pods to create by completion index; NonIndexed Jobs get -1 entries.
	Create []int
	// PodAnnotations are extra annotations of the pod created for an index (backoffLimitPerIndex failure counts).
	PodAnnotations map[int]map[string]string
	// Delete are active pods to delete, most deletable first.
	Delete []*corev1.Pod
	// RemoveFinalizers are pods whose tracking finalizer may go once Status is stored (they are counted in it).
	RemoveFinalizers []*corev1.Pod
	// Events are recorded on the Job after Status is written.
	Events []Event
	// RequeueAfter > 0 asks for another sync then (back-off or activeDeadlineSeconds).
	RequeueAfter time.Duration
}

// Finished reports whether job has a Complete or Failed condition that is True.
func Finished(job *batchv1.Job) (batchv1.JobConditionType, bool) {
	for _, c := range job.Status.Conditions {
		if (c.Type == batchv1.JobComplete || c.Type == batchv1.JobFailed) && c.Status == corev1.ConditionTrue {
			return c.Type, true
		}
	}
	return "", false
}

// IsActive reports whether pod counts as one of its Job's active pods: not terminal and not being deleted.
func IsActive(pod *corev1.Pod) bool { return controllerutil.IsPodActive(pod) }

func isTerminating(pod *corev1.Pod) bool {
	return pod.DeletionTimestamp != nil && pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed
}

func hasFinalizer(pod *corev1.Pod) bool {
	for _, f := range pod.Finalizers {
		if f == TrackingFinalizer {
			return true
		}
	}
	return false
}

// Reconcile decides one sync of job.
//
//	job  the Job (read only)
//	pods every pod the Job controls, including terminal and terminating ones (read only)
//	now  the current time
func Reconcile(job *batchv1.Job, pods []*corev1.Pod, now time.Time) Plan {
	var p Plan
	st := job.Status.DeepCopy()
	mnow := metav1.NewTime(now)
	if _, done := Finished(job); done || job.DeletionTimestamp != nil {
		// Counting is over (or the Job is going away); release any pod still held.
		for _, pod := range pods {
			if hasFinalizer(pod) {
				p.RemoveFinalizers = append(p.RemoveFinalizers, pod)
			}
		}
		p.Status = *st
		return p
	}
	suspended := ptr.Deref(job.Spec.Suspend, false)
	indexed := ptr.Deref(job.Spec.CompletionMode, batchv1.NonIndexedCompletion) == batchv1.IndexedCompletion
	finishing := hasTrue(st.Conditions, batchv1.JobFailureTarget) || hasTrue(st.Conditions, batchv1.JobSuccessCriteriaMet)

	// 1. Track terminated pods: move counted ones (finalizer gone) to the counters, hold newly finished ones as
	// uncounted until their finalizer is removed.
	if st.UncountedTerminatedPods == nil {
		st.UncountedTerminatedPods = &batchv1.UncountedTerminatedPods{}
	}
	uc := st.UncountedTerminatedPods
	byUID := make(map[types.UID]*corev1.Pod, len(pods))
	for _, pod := range pods {
		byUID[pod.UID] = pod
	}
	inSucceeded, inFailed := uidSet(uc.Succeeded), uidSet(uc.Failed)
	var keepS, keepF []types.UID
	for _, uid := range uc.Succeeded {
		if pod := byUID[uid]; pod != nil && hasFinalizer(pod) {
			keepS = append(keepS, uid)
			continue
		}
		st.Succeeded++
	}
	for _, uid := range uc.Failed {
		if pod := byUID[uid]; pod != nil && hasFinalizer(pod) {
			keepF = append(keepF, uid)
			continue
		}
		st.Failed++
	}
	uc.Succeeded, uc.Failed = keepS, keepF

	var active, terminatingPods []*corev1.Pod
	var ready int32
	succeededIdx := parseIndexes(st.CompletedIndexes, completions(job))
	for _, pod := range pods {
		switch {
		case IsActive(pod):
			active = append(active, pod)
			if controllerutil.IsPodReady(pod) {
				ready++
			}
		case isTerminating(pod):
			terminatingPods = append(terminatingPods, pod)
		}
		if pod.Status.Phase == corev1.PodSucceeded && indexed {
			if i, ok := podIndex(pod); ok && i < int(completions(job)) {
				succeededIdx[i] = true
			}
		}
	}
	terminating := int32(len(terminatingPods))
	// backoffLimitPerIndex: the failed indexes, and per pending index the failed pod held until its replacement
	// exists (not while the Job is finishing: then every pod is counted and released).
	perIdx := perIndex(job)
	var failedIdx map[int]bool
	var delayed map[int]*corev1.Pod
	if perIdx {
		failedIdx = failedIndexes(job, pods)
		if !finishing {
			skip := make(map[types.UID]bool, len(inSucceeded)+len(inFailed))
			for uid := range inSucceeded {
				skip[uid] = true
			}
			for uid := range inFailed {
				skip[uid] = true
			}
			delayed = delayedPerIndex(job, pods, active, skip, succeededIdx, failedIdx)
		}
	}
	var failTarget *batchv1.JobCondition
	for _, pod := range pods {
		if !hasFinalizer(pod) || inSucceeded[pod.UID] || inFailed[pod.UID] {
			continue
		}
		if i, ok := podIndex(pod); ok && delayed[i] == pod {
			continue
		}
		switch {
		case pod.Status.Phase == corev1.PodSucceeded:
			// An Indexed Job counts its completed indexes, stored before the finalizer goes.
			if !indexed {
				uc.Succeeded = append(uc.Succeeded, pod.UID)
			}
			p.RemoveFinalizers = append(p.RemoveFinalizers, pod)
		case pod.Status.Phase == corev1.PodFailed:
			action, cond := matchFailurePolicy(job, pod)
			switch action {
			case batchv1.PodFailurePolicyActionIgnore:
				// Not a failure: released without counting, and replaced.
				p.RemoveFinalizers = append(p.RemoveFinalizers, pod)
				continue
			case batchv1.PodFailurePolicyActionFailJob:
				if failTarget == nil {
					failTarget = cond
				}
			}
			uc.Failed = append(uc.Failed, pod.UID)
			p.RemoveFinalizers = append(p.RemoveFinalizers, pod)
		case pod.DeletionTimestamp != nil:
			// Deleted before it finished. It fails the Job's count unless the controller deleted it on purpose
			// (suspension, or the Job is finishing anyway) or only Failed pods count as failures.
			p.RemoveFinalizers = append(p.RemoveFinalizers, pod)
			if !suspended && !finishing && job.Spec.PodFailurePolicy == nil && !onlyFailedReplaced(job) {
				uc.Failed = append(uc.Failed, pod.UID)
			}
		}
	}
	succeeded := st.Succeeded + int32(len(uc.Succeeded))
	failed := st.Failed + int32(len(uc.Failed))
	if indexed {
		st.CompletedIndexes = formatIndexes(succeededIdx)
		st.Succeeded = int32(len(succeededIdx))
		succeeded = st.Succeeded
		st.FailedIndexes = nil
		if perIdx {
			st.FailedIndexes = ptr.To(formatIndexes(failedIdx))
		}
	}

	// 2. Start time and suspension.
	if suspended {
		if setCondition(st, batchv1.JobSuspended, corev1.ConditionTrue, ReasonSuspended, MessageSuspended, mnow) {
			p.Events = append(p.Events, Event{corev1.EventTypeNormal, EventSuspended, MessageSuspended})
		}
	} else {
		if updateCondition(st, batchv1.JobSuspended, corev1.ConditionFalse, ReasonResumed, MessageResumed, mnow) {
			p.Events = append(p.Events, Event{corev1.EventTypeNormal, EventResumed, MessageResumed})
			// activeDeadlineSeconds counts continuous activity: a resumed Job starts again.
			st.StartTime = &mnow
		}
		if st.StartTime == nil {
			st.StartTime = &mnow
		}
	}

	// 3. Failure: a FailJob rule, the back-off limit or the active deadline.
	if !finishing {
		var target *batchv1.JobCondition
		switch {
		case failTarget != nil:
			target = failTarget
		case failed > backoffLimit(job) || pastBackoffLimitOnFailure(job, active):
			target = &batchv1.JobCondition{Reason: ReasonBackoffLimitExceeded, Message: MessageBackoffLimitExceeded}
		case !suspended && pastDeadline(job, st, now):
			target = &batchv1.JobCondition{Reason: ReasonDeadlineExceeded, Message: MessageDeadlineExceeded}
		case perIdx && job.Spec.MaxFailedIndexes != nil && len(failedIdx) > int(*job.Spec.MaxFailedIndexes):
			target = &batchv1.JobCondition{Reason: ReasonMaxFailedIndexesExceeded, Message: MessageMaxFailedIndexesExceeded}
		case perIdx && len(failedIdx) > 0 && len(failedIdx)+len(succeededIdx) >= int(completions(job)):
			target = &batchv1.JobCondition{Reason: ReasonFailedIndexes, Message: MessageFailedIndexes}
		}
		if target != nil {
			setCondition(st, batchv1.JobFailureTarget, corev1.ConditionTrue, target.Reason, target.Message, mnow)
			finishing = true
		}
	}
	// 4. Success criteria: a successPolicy rule, or the completions.
	if !finishing && indexed {
		if msg, met := matchSuccessPolicy(job, succeededIdx); met {
			setCondition(st, batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, ReasonSuccessPolicy, msg, mnow)
			finishing = true
		}
	}
	if !finishing {
		var met bool
		switch {
		case job.Spec.Completions == nil:
			met = succeeded > 0 && len(active) == 0
		case indexed:
			met = int32(len(succeededIdx)) >= *job.Spec.Completions
		default:
			met = succeeded >= *job.Spec.Completions
		}
		if met {
			setCondition(st, batchv1.JobSuccessCriteriaMet, corev1.ConditionTrue, ReasonCompletionsReached, MessageCompletionsReached, mnow)
			finishing = true
		}
	}

	// 5. Pods: a finishing or suspended Job deletes its active pods, a running one converges on its parallelism.
	switch {
	case finishing || suspended:
		p.Delete = capped(active)
	default:
		p.Create, p.Delete = managePods(job, active, terminatingPods, succeeded, succeededIdx, failedIdx, indexed, now)
		switch {
		case len(p.Create) == 0:
		case perIdx:
			// Each index waits out its own back-off; its replacement inherits the failure counts.
			p.Create, p.RequeueAfter = readyIndexes(p.Create, delayed, now)
			p.PodAnnotations = make(map[int]map[string]string, len(p.Create))
			for _, i := range p.Create {
				p.PodAnnotations[i] = replacementAnnotations(job, delayed[i])
			}
		default:
			if wait := remainingBackoff(pods, now); wait > 0 {
				p.Create = nil
				p.RequeueAfter = wait
			}
		}
		if ads := job.Spec.ActiveDeadlineSeconds; ads != nil && st.StartTime != nil {
			left := st.StartTime.Add(time.Duration(*ads) * time.Second).Sub(now)
			if left > 0 && (p.RequeueAfter == 0 || left < p.RequeueAfter) {
				p.RequeueAfter = left
			}
		}
	}
	activeAfter := int32(len(active) - len(p.Delete))
	termAfter := terminating + int32(len(p.Delete))

	// 6. Terminal conditions once no pod of the Job is left running and every finished pod is counted (a pod held
	// for its index's replacement is counted on the next sync).
	if finishing && activeAfter == 0 && termAfter == 0 && len(uc.Succeeded)+len(uc.Failed) == 0 && len(delayed) == 0 {
		if c := condition(st.Conditions, batchv1.JobFailureTarget); c != nil && c.Status == corev1.ConditionTrue {
			setCondition(st, batchv1.JobFailed, corev1.ConditionTrue, c.Reason, c.Message, mnow)
			p.Events = append(p.Events, Event{corev1.EventTypeWarning, c.Reason, c.Message})
		} else {
			// Complete carries the reason and message SuccessCriteriaMet was set with.
			reason, msg := ReasonCompletionsReached, MessageCompletionsReached
			if c := condition(st.Conditions, batchv1.JobSuccessCriteriaMet); c != nil {
				reason, msg = c.Reason, c.Message
			}
			setCondition(st, batchv1.JobComplete, corev1.ConditionTrue, reason, msg, mnow)
			st.CompletionTime = &mnow
			p.Events = append(p.Events, Event{corev1.EventTypeNormal, EventCompleted, "Job completed"})
		}
		// A finished Job releases every pod it still holds.
		for _, pod := range pods {
			if hasFinalizer(pod) && !containsPod(p.RemoveFinalizers, pod) {
				p.RemoveFinalizers = append(p.RemoveFinalizers, pod)
			}
		}
		p.RequeueAfter = 0
	}

	st.Active = activeAfter
	st.Ready = &ready
	st.Terminating = &termAfter
	if !indexed {
		st.CompletedIndexes = job.Status.CompletedIndexes
	}
	p.Status = *st
	p.StatusChanged = !equality.Semantic.DeepEqual(job.Status, *st)
	return p
}

// managePods returns the completion indexes to create (-1 for NonIndexed) and the active pods to delete.
func managePods(job *batchv1.Job, active, terminatingPods []*corev1.Pod, succeeded int32, succeededIdx, failedIdx map[int]bool, indexed bool, now time.Time) ([]int, []*corev1.Pod) {
	want := ptr.Deref(job.Spec.Parallelism, 1)
	switch {
	case job.Spec.Completions == nil:
		if succeeded > 0 {
			want = min(want, int32(len(active)))
		}
	case indexed:
		want = min(want, *job.Spec.Completions-int32(len(succeededIdx)))
	default:
		want = min(want, *job.Spec.Completions-succeeded)
	}
	want = max(want, 0)
	// With podReplacementPolicy Failed, a terminating pod still holds its place (and its index).
	var terminating int32
	busyIdx := map[int]bool{}
	if onlyFailedReplaced(job) {
		terminating = int32(len(terminatingPods))
		for _, pod := range terminatingPods {
			if i, ok := podIndex(pod); ok {
				busyIdx[i] = true
			}
		}
	}
	if !indexed {
		if diff := int32(len(active)) - want; diff > 0 {
			sorted := append([]*corev1.Pod(nil), active...)
			controllerutil.SortPodsForDeletion(sorted, nil, now)
			return nil, capped(sorted[:diff])
		}
		n := want - int32(len(active)) - terminating
		create := make([]int, 0, max(n, 0))
		for range min(max(n, 0), MaxBatch) {
			create = append(create, -1)
		}
		return create, nil
	}
	// Indexed: one active pod per pending index; extra, duplicate or out-of-range pods go. Failed indexes
	// (backoffLimitPerIndex) are not run again.
	var del []*corev1.Pod
	activeIdx := map[int]bool{}
	sorted := append([]*corev1.Pod(nil), active...)
	sort.SliceStable(sorted, func(i, j int) bool {
		// Keep the oldest pod of an index.
		return sorted[i].CreationTimestamp.Before(&sorted[j].CreationTimestamp)
	})
	for _, pod := range sorted {
		i, ok := podIndex(pod)
		if !ok || i >= int(*job.Spec.Completions) || succeededIdx[i] || activeIdx[i] {
			del = append(del, pod)
			continue
		}
		activeIdx[i] = true
	}
	if len(del) > 0 {
		// As upstream: a sync either deletes or creates, deletion first.
		return nil, capped(del)
	}
	n := int(want) - len(activeIdx) - int(terminating)
	var create []int
	for i := 0; n > 0 && i < int(*job.Spec.Completions) && len(create) < MaxBatch; i++ {
		if !succeededIdx[i] && !activeIdx[i] && !failedIdx[i] && !busyIdx[i] {
			create = append(create, i)
			n--
		}
	}
	return create, nil
}

// readyIndexes splits the indexes to create into those whose back-off (from the pod held for each) is over, and
// the shortest wait of the others (0 when none waits).
func readyIndexes(indexes []int, held map[int]*corev1.Pod, now time.Time) ([]int, time.Duration) {
	var ready []int
	var wait time.Duration
	for _, i := range indexes {
		switch left := indexBackoff(held[i], now); {
		case left == 0:
			ready = append(ready, i)
		case wait == 0 || left < wait:
			wait = left
		}
	}
	return ready, wait
}

// remainingBackoff is how long pod creation must wait after the Job's latest consecutive failures: DefaultBackoff
// doubled per failure since the last success, capped at MaxBackoff, counted from the latest failure.
func remainingBackoff(pods []*corev1.Pod, now time.Time) time.Duration {
	var lastSuccess, lastFailure time.Time
	for _, pod := range pods {
		t := finishTime(pod)
		switch pod.Status.Phase {
		case corev1.PodSucceeded:
			if t.After(lastSuccess) {
				lastSuccess = t
			}
		case corev1.PodFailed:
			if t.After(lastFailure) {
				lastFailure = t
			}
		}
	}
	failures := 0
	for _, pod := range pods {
		if pod.Status.Phase == corev1.PodFailed && finishTime(pod).After(lastSuccess) {
			failures++
		}
	}
	return backoffLeft(failures, lastFailure, now)
}

// backoffLeft is what remains, at now, of the back-off after failures consecutive failures, the latest at last:
// DefaultBackoff doubled per failure after the first, capped at MaxBackoff.
func backoffLeft(failures int, last, now time.Time) time.Duration {
	if failures <= 0 {
		return 0
	}
	d := DefaultBackoff
	for i := 1; i < failures && d < MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, MaxBackoff)
	return max(last.Add(d).Sub(now), 0)
}

// finishTime is when pod terminated: its latest container finish, else its Ready condition's last change, else
// its creation.
func finishTime(pod *corev1.Pod) time.Time {
	var t time.Time
	for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
		if term := cs.State.Terminated; term != nil && term.FinishedAt.After(t) {
			t = term.FinishedAt.Time
		}
	}
	if t.IsZero() {
		if c := controllerutil.PodReadyCondition(pod); c != nil {
			t = c.LastTransitionTime.Time
		}
	}
	if t.IsZero() {
		t = pod.CreationTimestamp.Time
	}
	return t
}

func pastDeadline(job *batchv1.Job, st *batchv1.JobStatus, now time.Time) bool {
	ads := job.Spec.ActiveDeadlineSeconds
	if ads == nil || st.StartTime == nil {
		return false
	}
	return !now.Before(st.StartTime.Add(time.Duration(*ads) * time.Second))
}

// pastBackoffLimitOnFailure reports whether, with restartPolicy OnFailure, the container restarts of the active
// pods reach the back-off limit.
func pastBackoffLimitOnFailure(job *batchv1.Job, active []*corev1.Pod) bool {
	if job.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyOnFailure {
		return false
	}
	limit := ptr.Deref(job.Spec.BackoffLimit, 6)
	var restarts int32
	for _, pod := range active {
		if pod.Status.Phase != corev1.PodRunning && pod.Status.Phase != corev1.PodPending {
			continue
		}
		for _, cs := range append(append([]corev1.ContainerStatus(nil), pod.Status.InitContainerStatuses...), pod.Status.ContainerStatuses...) {
			restarts += cs.RestartCount
		}
		if limit == 0 && restarts > 0 {
			return true
		}
	}
	return restarts > 0 && restarts >= limit
}

// onlyFailedReplaced reports whether podReplacementPolicy waits for pods to be fully Failed.
func onlyFailedReplaced(job *batchv1.Job) bool {
	return ptr.Deref(job.Spec.PodReplacementPolicy, batchv1.TerminatingOrFailed) == batchv1.Failed || job.Spec.PodFailurePolicy != nil
}

// matchFailurePolicy returns the action of the first podFailurePolicy rule matching the Failed pod ("" when none
// does) and, for FailJob, the FailureTarget condition it sets.
func matchFailurePolicy(job *batchv1.Job, pod *corev1.Pod) (batchv1.PodFailurePolicyAction, *batchv1.JobCondition) {
	if job.Spec.PodFailurePolicy == nil {
		return "", nil
	}
	for i, rule := range job.Spec.PodFailurePolicy.Rules {
		var msg string
		if oe := rule.OnExitCodes; oe != nil {
			cs := matchingContainer(oe, pod)
			if cs == nil {
				continue
			}
			msg = fmt.Sprintf("Container %s for pod %s/%s failed with exit code %d matching %s rule at index %d",
				cs.Name, pod.Namespace, pod.Name, cs.State.Terminated.ExitCode, rule.Action, i)
		} else {
			ct, ok := matchingCondition(rule.OnPodConditions, pod)
			if !ok {
				continue
			}
			msg = fmt.Sprintf("Pod %s/%s has condition %s matching %s rule at index %d", pod.Namespace, pod.Name, ct, rule.Action, i)
		}
		if rule.Action == batchv1.PodFailurePolicyActionFailJob {
			return rule.Action, &batchv1.JobCondition{Reason: ReasonPodFailurePolicy, Message: msg}
		}
		return rule.Action, nil
	}
	return "", nil
}

func matchingContainer(oe *batchv1.PodFailurePolicyOnExitCodesRequirement, pod *corev1.Pod) *corev1.ContainerStatus {
	for _, list := range [][]corev1.ContainerStatus{pod.Status.InitContainerStatuses, pod.Status.ContainerStatuses} {
		for i := range list {
			cs := &list[i]
			term := cs.State.Terminated
			if term == nil || term.ExitCode == 0 || (oe.ContainerName != nil && *oe.ContainerName != cs.Name) {
				continue
			}
			in := false
			for _, v := range oe.Values {
				if v == term.ExitCode {
					in = true
				}
			}
			if in == (oe.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) {
				return cs
			}
		}
	}
	return nil
}

func matchingCondition(patterns []batchv1.PodFailurePolicyOnPodConditionsPattern, pod *corev1.Pod) (corev1.PodConditionType, bool) {
	for _, pat := range patterns {
		for _, c := range pod.Status.Conditions {
			if c.Type == pat.Type && c.Status == pat.Status {
				return c.Type, true
			}
		}
	}
	return "", false
}

func completions(job *batchv1.Job) int32 {
	return ptr.Deref(job.Spec.Completions, 0)
}

// podIndex returns pod's completion index from its annotation (or label).
func podIndex(pod *corev1.Pod) (int, bool) {
	v, ok := pod.Annotations[CompletionIndexKey]
	if !ok {
		v, ok = pod.Labels[CompletionIndexKey]
	}
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 || strconv.Itoa(i) != v {
		return 0, false
	}
	return i, true
}

// parseIndexes reads a completedIndexes string ("1,3-5,7"), keeping indexes below n.
func parseIndexes(s string, n int32) map[int]bool {
	out := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			continue
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				continue
			}
		}
		for i := a; i <= b && i < int(n); i++ {
			out[i] = true
		}
	}
	return out
}

// formatIndexes writes indexes in completedIndexes' compressed form: ascending, runs of three or more as "a-b".
func formatIndexes(set map[int]bool) string {
	idx := make([]int, 0, len(set))
	for i := range set {
		idx = append(idx, i)
	}
	sort.Ints(idx)
	var parts []string
	for i := 0; i < len(idx); {
		j := i
		for j+1 < len(idx) && idx[j+1] == idx[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(idx[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(idx[i]), strconv.Itoa(idx[j]))
		default:
			parts = append(parts, fmt.Sprintf("%d-%d", idx[i], idx[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

func capped(pods []*corev1.Pod) []*corev1.Pod {
	if len(pods) > MaxBatch {
		return pods[:MaxBatch]
	}
	return pods
}

func containsPod(pods []*corev1.Pod, pod *corev1.Pod) bool {
	for _, p := range pods {
		if p.UID == pod.UID {
			return true
		}
	}
	return false
}

func uidSet(uids []types.UID) map[types.UID]bool {
	m := make(map[types.UID]bool, len(uids))
	for _, u := range uids {
		m[u] = true
	}
	return m
}

func condition(conds []batchv1.JobCondition, t batchv1.JobConditionType) *batchv1.JobCondition {
	for i := range conds {
		if conds[i].Type == t {
			return &conds[i]
		}
	}
	return nil
}

func hasTrue(conds []batchv1.JobCondition, t batchv1.JobConditionType) bool {
	c := condition(conds, t)
	return c != nil && c.Status == corev1.ConditionTrue
}

// setCondition adds or changes condition t, reporting whether it changed.
func setCondition(st *batchv1.JobStatus, t batchv1.JobConditionType, s corev1.ConditionStatus, reason, msg string, now metav1.Time) bool {
	if c := condition(st.Conditions, t); c != nil {
		if c.Status == s && c.Reason == reason && c.Message == msg {
			return false
		}
		if c.Status != s {
			c.LastTransitionTime = now
		}
		c.Status, c.Reason, c.Message, c.LastProbeTime = s, reason, msg, now
		return true
	}
	st.Conditions = append(st.Conditions, batchv1.JobCondition{Type: t, Status: s, Reason: reason, Message: msg, LastProbeTime: now, LastTransitionTime: now})
	return true
}

// updateCondition changes condition t only if it exists and has another status, reporting whether it changed.
func updateCondition(st *batchv1.JobStatus, t batchv1.JobConditionType, s corev1.ConditionStatus, reason, msg string, now metav1.Time) bool {
	if c := condition(st.Conditions, t); c == nil || c.Status == s {
		return false
	}
	return setCondition(st, t, s, reason, msg, now)
}
