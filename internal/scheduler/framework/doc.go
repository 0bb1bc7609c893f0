// Package framework holds the scheduler's vocabulary: PodInfo and NodeInfo (a
// pod's and a node's scheduling-relevant facts, computed once), Resource, the
// Status a filter returns, and FitError, which renders why a pod fits nowhere in
// Kubernetes' wording.
//
// Everything here is plain data with no I/O and no clock. A NodeInfo is owned by
// whoever built it: the cache mutates its own copies under its lock and hands the
// scheduling cycle clones (see package cache); a PodInfo is immutable once built.
package framework
