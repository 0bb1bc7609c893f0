package job

import (
	"fmt"
	"math"
	"strconv"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
)

// Annotations upstream keeps an index's failure history in, carried from a failed pod to its replacement.
const (
	// IndexFailureCountKey counts the index's failures before this pod that counted against backoffLimitPerIndex.
	IndexFailureCountKey = batchv1.JobIndexFailureCountAnnotation
	// IndexIgnoredFailureCountKey counts the index's failures before this pod that a podFailurePolicy Ignore rule matched.
	IndexIgnoredFailureCountKey = batchv1.JobIndexIgnoredFailureCountAnnotation
)

// Condition reasons and messages of successPolicy and backoffLimitPerIndex, as upstream.
const (
	ReasonSuccessPolicy            = batchv1.JobReasonSuccessPolicy
	ReasonMaxFailedIndexesExceeded = batchv1.JobReasonMaxFailedIndexesExceeded
	ReasonFailedIndexes            = batchv1.JobReasonFailedIndexes

	MessageMaxFailedIndexesExceeded = "Job has exceeded the specified maximal number of failed indexes"
	MessageFailedIndexes            = "Job has failed indexes"
)

// matchSuccessPolicy returns the SuccessCriteriaMet message of the first successPolicy rule the succeeded indexes
// satisfy ("Matched rules at index N"), and whether one does.
func matchSuccessPolicy(job *batchv1.Job, succeeded map[int]bool) (string, bool) {
	sp := job.Spec.SuccessPolicy
	if sp == nil || len(succeeded) == 0 {
		return "", false
	}
	for i, rule := range sp.Rules {
		if rule.SucceededIndexes != nil {
			required := parseIndexes(*rule.SucceededIndexes, completions(job))
			if len(required) == 0 {
				continue
			}
			contains := 0
			for ix := range required {
				if succeeded[ix] {
					contains++
				}
			}
			if contains == len(required) || (rule.SucceededCount != nil && contains >= int(*rule.SucceededCount)) {
				return fmt.Sprintf("Matched rules at index %d", i), true
			}
		} else if rule.SucceededCount != nil && len(succeeded) >= int(*rule.SucceededCount) {
			return fmt.Sprintf("Matched rules at index %d", i), true
		}
	}
	return "", false
}

// perIndex reports whether job limits failures per completion index (backoffLimitPerIndex on an Indexed Job).
func perIndex(job *batchv1.Job) bool {
	return job.Spec.BackoffLimitPerIndex != nil &&
		job.Spec.CompletionMode != nil && *job.Spec.CompletionMode == batchv1.IndexedCompletion
}

// backoffLimit is spec.backoffLimit with the API's default: 6, or MaxInt32 with backoffLimitPerIndex.
func backoffLimit(job *batchv1.Job) int32 {
	switch {
	case job.Spec.BackoffLimit != nil:
		return *job.Spec.BackoffLimit
	case job.Spec.BackoffLimitPerIndex != nil:
		return math.MaxInt32
	}
	return 6
}

// podFailed reports whether pod counts as a failure: Failed, or deleted before finishing unless only Failed pods
// are replaced.
func podFailed(job *batchv1.Job, pod *corev1.Pod) bool {
	if pod.Status.Phase == corev1.PodFailed {
		return true
	}
	return !onlyFailedReplaced(job) && pod.DeletionTimestamp != nil && pod.Status.Phase != corev1.PodSucceeded
}

// indexFailed reports whether the failed pod fails its index: a FailIndex rule matched it, or it is a counted
// failure and its index had already used up backoffLimitPerIndex.
func indexFailed(job *batchv1.Job, pod *corev1.Pod) bool {
	if !podFailed(job, pod) {
		return false
	}
	switch action, _ := matchFailurePolicy(job, pod); action {
	case batchv1.PodFailurePolicyActionFailIndex:
		return true
	case batchv1.PodFailurePolicyActionIgnore:
		return false
	}
	return annotationCount(pod, IndexFailureCountKey) >= *job.Spec.BackoffLimitPerIndex
}

// failedIndexes is status.failedIndexes (below completions) plus the indexes that not yet counted pods failed.
func failedIndexes(job *batchv1.Job, pods []*corev1.Pod) map[int]bool {
	n := completions(job)
	out := map[int]bool{}
	if job.Status.FailedIndexes != nil {
		out = parseIndexes(*job.Status.FailedIndexes, n)
	}
	for _, pod := range pods {
		if i, ok := podIndex(pod); ok && i < int(n) && hasFinalizer(pod) && indexFailed(job, pod) {
			out[i] = true
		}
	}
	return out
}

// delayedPerIndex returns, per pending index (neither succeeded, failed nor active), the latest failed pod that
// still holds its finalizer: it is kept until its replacement is created, which inherits its failure counts and
// waits out the index's back-off from its failure. Pods in skip are already being counted.
func delayedPerIndex(job *batchv1.Job, pods, active []*corev1.Pod, skip map[types.UID]bool, succeeded, failed map[int]bool) map[int]*corev1.Pod {
	activeIdx := map[int]bool{}
	for _, pod := range active {
		if i, ok := podIndex(pod); ok {
			activeIdx[i] = true
		}
	}
	out := map[int]*corev1.Pod{}
	for _, pod := range pods {
		if !hasFinalizer(pod) || skip[pod.UID] || !podFailed(job, pod) {
			continue
		}
		i, ok := podIndex(pod)
		if !ok || i >= int(completions(job)) || succeeded[i] || failed[i] || activeIdx[i] {
			continue
		}
		last, seen := out[i]
		if !seen || (absoluteFailures(last) <= absoluteFailures(pod) && !finishTime(pod).Before(finishTime(last))) {
			out[i] = pod
		}
	}
	return out
}

// replacementAnnotations are the failure-count annotations of the pod that replaces replaced (nil: the index's
// first pod): its counts plus its own failure, counted or ignored.
func replacementAnnotations(job *batchv1.Job, replaced *corev1.Pod) map[string]string {
	var counted, ignored int32
	if replaced != nil {
		counted, ignored = annotationCount(replaced, IndexFailureCountKey), annotationCount(replaced, IndexIgnoredFailureCountKey)
		if action, _ := matchFailurePolicy(job, replaced); action == batchv1.PodFailurePolicyActionIgnore {
			ignored++
		} else {
			counted++
		}
	}
	out := map[string]string{IndexFailureCountKey: strconv.Itoa(int(counted))}
	if ignored > 0 {
		out[IndexIgnoredFailureCountKey] = strconv.Itoa(int(ignored))
	}
	return out
}

// indexBackoff is how long the replacement of lastFailed must wait: DefaultBackoff doubled per earlier failure of
// its index (counted or ignored), capped at MaxBackoff, from its failure.
func indexBackoff(lastFailed *corev1.Pod, now time.Time) time.Duration {
	if lastFailed == nil {
		return 0
	}
	return backoffLeft(int(absoluteFailures(lastFailed))+1, finishTime(lastFailed), now)
}

func absoluteFailures(pod *corev1.Pod) int32 {
	return annotationCount(pod, IndexFailureCountKey) + annotationCount(pod, IndexIgnoredFailureCountKey)
}

// annotationCount reads a failure-count annotation; missing, malformed or out-of-range values read as 0.
func annotationCount(pod *corev1.Pod, key string) int32 {
	v, err := strconv.Atoi(pod.Annotations[key])
	if err != nil || v < 0 || v > math.MaxInt32 {
		return 0
	}
	return int32(v)
}
