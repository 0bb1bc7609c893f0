// Package bench measures a Kubernetes-compatible cluster (skiff or any other)
// through its API only: client-go and a kubeconfig, nothing internal.
//
// Scenarios:
//
//   - api: create/get/update/list/watch/delete of ConfigMaps in a fresh
//     namespace at several concurrencies; throughput and latency percentiles per
//     verb, and watch delivery latency (write acknowledged → event received).
//   - schedule: N simulated nodes (package sim, in-process) and M pods, bare or
//     from a Deployment; time from the first create until every pod is bound,
//     and create→bound latency percentiles.
//   - startup: pod startup latency (create → Running, → Ready) on real,
//     non-simulated nodes.
//   - churn: sustained create/delete at a fixed rate; API latency percentiles and
//     the server's RSS over time.
//   - coldstart: starts `skiff server` itself, time from process start to the
//     first 200 on /readyz, and its idle RSS.
//
// Every scenario returns a Result: the machine, the server's version and (when
// it runs on this machine) its peak RSS, per-operation statistics, scenario
// metrics and a time series. Results are written as JSON, printed as a table
// (WriteTable), compared (Compare) and plotted (WriteSVG).
//
// Statistics are exact: percentiles use the nearest-rank method on all sorted
// samples (Percentile), no histogram approximation. Pacing (Pacer) is
// open-loop: operation k is due at start + k/rate whatever happened to the
// previous ones, so a slow server shows up as latency and lag rather than as
// a lower offered load. Time comes from an injected clock.Clock.
package bench
