// Package cronjob is the CronJob controller: it creates a Job for every
// schedule time of each CronJob, keeps status.active, lastScheduleTime and
// lastSuccessfulTime, and deletes finished Jobs beyond the history limits. It
// follows Kubernetes' pkg/controller/cronjob (the v2 controller).
//
// # Core
//
// Schedules are standard cron (five fields, or @yearly/@annually/@monthly/
// @weekly/@daily/@midnight/@hourly/@every) parsed by github.com/robfig/cron/v3
// as upstream, in spec.timeZone (UTC when unset).
// mostRecentScheduleTime(cj, now, schedule) is the latest schedule time not
// after now since status.lastScheduleTime (else the creation time, raised to
// now-startingDeadlineSeconds), and whether more than 100 times were missed;
// nextScheduleTimeDuration is the wait until just after the next time.
//
// Reconcile(cj, jobs, gone, now) is pure and returns a Plan:
//   - Status: Jobs finished since the last sync leave status.active
//     (SawCompletedJob "Saw completed job: J, condition: Complete"), active
//     Jobs the server no longer has leave it (MissingJob), and
//     lastSuccessfulTime follows the newest completion;
//   - Delete: finished Jobs beyond successfulJobsHistoryLimit and
//     failedJobsHistoryLimit, oldest start first;
//   - Create: the Job for the most recent unmet schedule time, unless the
//     CronJob is being deleted, suspended, has an unknown time zone
//     (UnknownTimeZone) or an unparseable schedule (UnparseableSchedule); the
//     time is later than startingDeadlineSeconds (MissSchedule); the time was
//     already run; or concurrencyPolicy is Forbid and a Job is active
//     (JobAlreadyActive). With Replace, the active Jobs go in Replace first.
//     The Job is named "<cronjob>-<schedule time in minutes since the epoch>",
//     so one time never creates two Jobs, carries the jobTemplate's labels,
//     annotations and spec, the batch.kubernetes.io/cronjob-scheduled-timestamp
//     annotation and the CronJob as its controller;
//   - Events: the warnings and notices above, plus UnexpectedJob for an
//     unfinished Job it controls but did not record (as after
//     `kubectl create job --from=cronjob/x`) and TooManyMissedTimes;
//   - RequeueAfter: just after the next schedule time (0 when suspended or the
//     schedule is unusable: the next change to the CronJob syncs it).
//
// # Shell
//
// Controller watches CronJobs and Jobs through a shared informer factory and
// queues CronJob keys (namespace/name) only; a change of schedule or time zone
// is synced at the new schedule's next time. sync(key) reads the CronJob and
// the Jobs it controls from the caches, re-reads the CronJob from the server
// when a Job it controls is missing from status.active, asks the server about
// active Jobs missing from the cache, then carries out the Plan: history
// deletions and replacements (propagation Background; SuccessfulDelete
// "Deleted job J" or FailedDelete), the creation (SuccessfulCreate "Created
// job J" or FailedCreate "Error creating job: E"; an existing Job it controls
// is adopted into status.active), and one status write through the status
// subresource when the status changed. Time comes only from the injected
// clock. Errors follow the controller package's retry contract.
//
// # Caller's duties
//
//  1. Build it with New(cc) (the controller package's Constructor); New only
//     registers informers and handlers on cc.Informers and starts nothing.
//  2. Start the informer factory after every controller is built, then call
//     Run(ctx, workers); it blocks until ctx ends.
package cronjob
