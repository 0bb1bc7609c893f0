package framework

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Code says how a filter failed.
type Code int

const (
	// Success: the pod fits the node (as far as this filter is concerned).
	Success Code = iota
	// Unschedulable: the pod does not fit, but preempting pods on the node might make it fit.
	Unschedulable
	// UnschedulableAndUnresolvable: the pod does not fit and preemption cannot help.
	UnschedulableAndUnresolvable
	// Error: the filter could not decide (an internal problem).
	Error
)

// Status is a filter's verdict on one node. A nil *Status is Success. Statuses may be shared between nodes
// and must not be changed once returned.
type Status struct {
	Code Code
	// Reasons are Kubernetes' failure reasons ("Insufficient cpu"); each is counted once per node in a FitError.
	Reasons []string
	// Plugin names the filter that failed; the queue uses it to decide which cluster events may help.
	Plugin string
}

// NewStatus returns a Status.
func NewStatus(plugin string, code Code, reasons ...string) *Status {
	return &Status{Code: code, Reasons: reasons, Plugin: plugin}
}

// IsSuccess reports whether s is nil or Success.
func (s *Status) IsSuccess() bool { return s == nil || s.Code == Success }

// Message joins the reasons.
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.Reasons, ", ")
}

// Messages Kubernetes uses.
const (
	// NoNodeAvailableMsg begins every FitError.
	NoNodeAvailableMsg = "0/%v nodes are available"
	// PreemptionNotHelpful is the per-node preemption reason for nodes whose failure preemption cannot fix.
	PreemptionNotHelpful = "Preemption is not helpful for scheduling"
	// NoPreemptionVictims is the reason for a node on which no pod has a lower priority.
	NoPreemptionVictims = "No preemption victims found for incoming pod"
)

// ErrNoNodesAvailable is returned when the cluster has no nodes at all.
var ErrNoNodesAvailable = errors.New("no nodes available to schedule pods")

// Diagnosis records why each node was rejected.
type Diagnosis struct {
	// NodeToStatus holds the failing status of each rejected node.
	NodeToStatus map[string]*Status
	// UnschedulablePlugins are the filters that rejected at least one node.
	UnschedulablePlugins map[string]struct{}
	// PreFilterMsg, if set, is a reason that applies to the pod as a whole (every node).
	PreFilterMsg string
	// PostFilterMsg is what preemption found, e.g. "preemption: 0/3 nodes are available: ...".
	PostFilterMsg string
}

// FitError is returned when a pod fits no node.
type FitError struct {
	NumAllNodes int
	Diagnosis   Diagnosis
}

// Error renders the reasons as Kubernetes does: "0/N nodes are available: " then each distinct reason
// prefixed with the number of nodes that gave it, sorted as strings, joined by ", " and ended by ".", then
// the preemption result.
func (f *FitError) Error() string {
	msg := fmt.Sprintf(NoNodeAvailableMsg+":", f.NumAllNodes)
	if f.Diagnosis.PreFilterMsg != "" {
		msg += " " + f.Diagnosis.PreFilterMsg + "."
	} else if h := ReasonHistogram(f.Diagnosis.NodeToStatus); len(h) > 0 {
		msg += " " + strings.Join(h, ", ") + "."
	}
	if f.Diagnosis.PostFilterMsg != "" {
		msg += " " + f.Diagnosis.PostFilterMsg
	}
	return msg
}

// ReasonHistogram counts each reason over the nodes and returns "N reason" strings sorted as strings (so
// "10 x" sorts before "2 y", as in Kubernetes).
func ReasonHistogram(nodeToStatus map[string]*Status) []string {
	counts := map[string]int{}
	for _, st := range nodeToStatus {
		if st == nil {
			continue
		}
		for _, r := range st.Reasons {
			counts[r]++
		}
	}
	out := make([]string, 0, len(counts))
	for r, n := range counts {
		out = append(out, fmt.Sprintf("%d %s", n, r))
	}
	sort.Strings(out)
	return out
}

// MaxNodeScore is the highest score a scoring rule gives a node.
const MaxNodeScore int64 = 100
