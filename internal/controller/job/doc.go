// Package job is the Job controller: it runs pods until a Job's completions
// succeed (or it fails), and reports them in the Job's status. It follows
// Kubernetes' pkg/controller/job (1.33: JobPodReplacementPolicy, delayed
// terminal conditions, successPolicy and backoffLimitPerIndex on), and also runs the TTL-after-finished loop
// (pkg/controller/ttlafterfinished).
//
// # Core
//
// Reconcile(job, pods, now) is pure and returns a Plan: the new status, the
// pods to create (by completion index for Indexed Jobs), the active pods to
// delete, the pods whose tracking finalizer may be removed, events and a
// requeue delay. In order:
//
//  1. Pod tracking. Every pod carries the batch.kubernetes.io/job-tracking
//     finalizer. A finished pod that still holds it is added to
//     status.uncountedTerminatedPods and listed for finalizer removal; an
//     uncounted pod whose finalizer is gone moves into status.succeeded or
//     status.failed. A pod deleted before finishing counts as failed unless
//     only Failed pods are replaced (podReplacementPolicy Failed or a
//     podFailurePolicy) or the controller deleted it. podFailurePolicy rules
//     (onExitCodes In/NotIn, onPodConditions) decide Ignore (not counted),
//     Count, or FailJob.
//  2. Suspension: condition Suspended True (JobSuspended, "Job suspended"),
//     event Suspended; on resume the condition turns False (JobResumed) and
//     startTime restarts. startTime is set on the first unsuspended sync.
//  3. Failure: a FailJob rule (reason PodFailurePolicy), failed >
//     backoffLimit (default 6, MaxInt32 with backoffLimitPerIndex) or, with
//     restartPolicy OnFailure, container restarts reaching it
//     (BackoffLimitExceeded), activeDeadlineSeconds passed since startTime
//     (DeadlineExceeded), more failed indexes than maxFailedIndexes
//     (MaxFailedIndexesExceeded) or every index succeeded or failed with at
//     least one failed (FailedIndexes, "Job has failed indexes") sets
//     FailureTarget.
//  4. Success: a successPolicy rule (Indexed only: all its succeededIndexes,
//     or succeededCount of them, or succeededCount indexes at all; reason
//     SuccessPolicy, "Matched rules at index N"), else succeeded >=
//     completions (Indexed: completed indexes; no completions: a success and
//     no active pod; reason CompletionsReached) sets SuccessCriteriaMet.
//  5. Pods: a finishing or suspended Job deletes all active pods; otherwise
//     the active count converges on min(parallelism, remaining completions).
//     Indexed Jobs delete duplicate, out-of-range and already-completed pods
//     first, and otherwise run one pod per pending index (lowest first; not
//     failed indexes, nor, with podReplacementPolicy Failed, indexes whose pod
//     is still terminating). Creation waits out the failure back-off: 10 s
//     doubling per failure since the last success, capped at 10 min
//     (upstream's MaxJobPodFailureBackOff), from the latest failure.
//  6. Once no pod is active or terminating and none is left uncounted or
//     held, FailureTarget becomes Failed (warning event with its reason and
//     message) and SuccessCriteriaMet becomes Complete with its reason and
//     message and completionTime (event Completed "Job completed"); a
//     finished Job releases all its pods' finalizers.
//
// # backoffLimitPerIndex
//
// An Indexed Job with backoffLimitPerIndex counts failures per index in its
// pods' annotations batch.kubernetes.io/job-index-failure-count (failures
// counted against the limit before this pod) and
// batch.kubernetes.io/job-index-ignored-failure-count (failures an Ignore rule
// matched, set when non-zero). A failed pod whose count had reached the limit,
// or that matched a FailIndex rule, fails its index: it joins
// status.failedIndexes and is never run again. Otherwise the index's latest
// failed pod is held (finalizer kept, not yet counted) until its replacement
// exists, which is created with its counts plus its own failure once the
// index's back-off is over: 10 s doubling per earlier failure of the index
// (counted or ignored), capped at 10 min, from that failure; the Job-wide
// back-off does not apply. A finishing Job holds no pod.
//
// status.active/ready/terminating, completedIndexes ("1,3-5"),
// failedIndexes (set with backoffLimitPerIndex) and the counters are
// recomputed each sync; an Indexed Job's succeeded is its number of completed
// indexes, whose succeeded pods are released once completedIndexes is stored
// (they never enter uncountedTerminatedPods). TTLExpiry(job, now) says when a
// finished Job with ttlSecondsAfterFinished is due, counted from its
// Complete/Failed condition's lastTransitionTime.
//
// # Shell
//
// Controller watches Jobs and Pods and queues Job keys (namespace/name), and
// the keys of orphaned pods still holding the finalizer. sync(key): skips
// while the Job's expectations are unmet (its creations/deletions are not yet
// in the cache), claims pods (adopts matching orphans, releases non-matching
// ones), then carries out the Plan in the order that keeps counting exact:
// status first (through the status subresource), then events, pod creations
// in slow-start batches (generateName "<job>-" or "<job>-<index>-", the
// Plan's failure-count annotations, owner reference with controller and
// blockOwnerDeletion, events SuccessfulCreate
// "Created pod: P" / FailedCreate), deletions (finalizer released first so
// that they do not count as failures; SuccessfulDelete "Deleted pod: P"),
// and finalizer removals by a strategic-merge
// $deleteFromPrimitiveList patch. Indexed pods get the
// batch.kubernetes.io/job-completion-index annotation and label, hostname
// "<job>-<index>" and env JOB_COMPLETION_INDEX from a fieldRef on that label.
// The TTL loop deletes a due Job with background propagation after checking
// a fresh read, preconditioned on its UID and resourceVersion.
//
// # Caller's duties
//
//  1. Build it with New(cc); New only registers informers and handlers.
//  2. Start the informer factory, then call Run(ctx, workers); it runs
//     workers Job syncs and workers TTL syncs and blocks until ctx ends.
package job
