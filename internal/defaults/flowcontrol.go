package defaults

import (
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
)

// The defaults of pkg/apis/flowcontrol/v1/defaults.go (flowcontrol.apiserver.k8s.io/v1).
const (
	flowSchemaDefaultMatchingPrecedence   int32 = 1000
	priorityLevelDefaultHandSize          int32 = 8
	priorityLevelDefaultQueues            int32 = 64
	priorityLevelDefaultQueueLengthLimit  int32 = 50
	priorityLevelDefaultConcurrencyShares int32 = 30
)

// defaultFlowSchema gives a FlowSchema without matchingPrecedence the value 1000.
func defaultFlowSchema(fs *flowcontrolv1.FlowSchema) {
	if fs.Spec.MatchingPrecedence == 0 {
		fs.Spec.MatchingPrecedence = flowSchemaDefaultMatchingPrecedence
	}
}

// defaultPriorityLevelConfiguration fills in shares, lendablePercent and queuing parameters; in v1 an explicit nominalConcurrencyShares of 0 is kept.
func defaultPriorityLevelConfiguration(pl *flowcontrolv1.PriorityLevelConfiguration) {
	if l := pl.Spec.Limited; l != nil {
		if l.NominalConcurrencyShares == nil {
			l.NominalConcurrencyShares = ptrTo(priorityLevelDefaultConcurrencyShares)
		}
		if l.LendablePercent == nil {
			l.LendablePercent = ptrTo(int32(0))
		}
		if q := l.LimitResponse.Queuing; q != nil {
			if q.HandSize == 0 {
				q.HandSize = priorityLevelDefaultHandSize
			}
			if q.Queues == 0 {
				q.Queues = priorityLevelDefaultQueues
			}
			if q.QueueLengthLimit == 0 {
				q.QueueLengthLimit = priorityLevelDefaultQueueLengthLimit
			}
		}
	}
	if e := pl.Spec.Exempt; e != nil {
		if e.NominalConcurrencyShares == nil {
			e.NominalConcurrencyShares = ptrTo(int32(0))
		}
		if e.LendablePercent == nil {
			e.LendablePercent = ptrTo(int32(0))
		}
	}
}
