package scheduler

import (
	"reflect"

	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	"github.com/skiff-sh/skiff/internal/scheduler/plugins"
	v1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
)

// noNodes marks pods that failed because the cluster had no nodes; only a node being added helps them.
const noNodes = "NoNodes"

// Which rejections each kind of cluster event may undo. The queue moves an unschedulable pod only on an
// event whose set meets the filters that rejected it (nil means every pod).
var (
	// A node added may fit anything.
	eventNodeAdd sets.Set[string]
	// A pod bound somewhere may satisfy affinity or change the spread.
	eventAssignedPodAdd = sets.New(plugins.InterPodAffinityName, plugins.PodTopologySpreadName)
	// A pod gone frees resources and ports, and changes affinity and spread.
	eventAssignedPodDelete = sets.New(plugins.NodeResourcesFitName, plugins.NodePortsName,
		plugins.InterPodAffinityName, plugins.PodTopologySpreadName)
)

// nodeUpdateEvent returns the filters a node update may now satisfy (empty: none, e.g. a heartbeat).
func nodeUpdateEvent(old, cur *v1.Node) sets.Set[string] {
	s := sets.New[string]()
	if old.Spec.Unschedulable != cur.Spec.Unschedulable {
		s.Insert(plugins.NodeUnschedulableName)
	}
	if !reflect.DeepEqual(old.Labels, cur.Labels) {
		s.Insert(plugins.NodeAffinityName, plugins.PodTopologySpreadName, plugins.InterPodAffinityName)
	}
	if !reflect.DeepEqual(old.Spec.Taints, cur.Spec.Taints) {
		s.Insert(plugins.TaintTolerationName)
	}
	if !reflect.DeepEqual(old.Status.Allocatable, cur.Status.Allocatable) {
		s.Insert(plugins.NodeResourcesFitName)
	}
	return s
}

// assignedPodUpdateEvent returns the filters an update of a bound pod may now satisfy.
func assignedPodUpdateEvent(old, cur *v1.Pod) sets.Set[string] {
	s := sets.New[string]()
	if !reflect.DeepEqual(old.Labels, cur.Labels) {
		s.Insert(plugins.InterPodAffinityName, plugins.PodTopologySpreadName)
	}
	if old.DeletionTimestamp == nil && cur.DeletionTimestamp != nil {
		// Terminating pods no longer count for spreading.
		s.Insert(plugins.PodTopologySpreadName)
	}
	o, c := framework.PodRequests(old, false), framework.PodRequests(cur, false)
	if c.MilliCPU < o.MilliCPU || c.Memory < o.Memory || c.EphemeralStorage < o.EphemeralStorage {
		s.Insert(plugins.NodeResourcesFitName)
	}
	return s
}
