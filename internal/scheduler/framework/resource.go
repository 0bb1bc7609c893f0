package framework

import (
	v1 "k8s.io/api/core/v1"
)

// Defaults that scoring assumes for a container that requests no cpu or memory, as Kubernetes does, so
// that best-effort pods still spread (they never affect filtering).
const (
	DefaultMilliCPURequest int64 = 100               // 0.1 core
	DefaultMemoryRequest   int64 = 200 * 1024 * 1024 // 200 MiB
)

// Resource is an amount of each schedulable resource: cpu in millicores, memory and ephemeral storage in
// bytes, the pod count, and every other (extended, hugepages) resource by name in its integer units.
type Resource struct {
	MilliCPU         int64
	Memory           int64
	EphemeralStorage int64
	AllowedPodNumber int64
	Scalar           map[v1.ResourceName]int64
}

// IsZero reports whether r asks for nothing (the pod count aside).
func (r *Resource) IsZero() bool {
	if r.MilliCPU != 0 || r.Memory != 0 || r.EphemeralStorage != 0 {
		return false
	}
	for _, v := range r.Scalar {
		if v != 0 {
			return false
		}
	}
	return true
}

// Add adds o to r.
func (r *Resource) Add(o *Resource) {
	r.MilliCPU += o.MilliCPU
	r.Memory += o.Memory
	r.EphemeralStorage += o.EphemeralStorage
	r.AllowedPodNumber += o.AllowedPodNumber
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[v1.ResourceName]int64, len(o.Scalar))
		}
		r.Scalar[k] += v
	}
}

// Sub subtracts o from r.
func (r *Resource) Sub(o *Resource) {
	r.MilliCPU -= o.MilliCPU
	r.Memory -= o.Memory
	r.EphemeralStorage -= o.EphemeralStorage
	r.AllowedPodNumber -= o.AllowedPodNumber
	for k, v := range o.Scalar {
		if r.Scalar == nil {
			r.Scalar = make(map[v1.ResourceName]int64, len(o.Scalar))
		}
		r.Scalar[k] -= v
	}
}

// Clone returns a deep copy of r.
func (r Resource) Clone() Resource {
	if r.Scalar != nil {
		s := make(map[v1.ResourceName]int64, len(r.Scalar))
		for k, v := range r.Scalar {
			s[k] = v
		}
		r.Scalar = s
	}
	return r
}

// Get returns the amount of one resource by name.
func (r *Resource) Get(name v1.ResourceName) int64 {
	switch name {
	case v1.ResourceCPU:
		return r.MilliCPU
	case v1.ResourceMemory:
		return r.Memory
	case v1.ResourceEphemeralStorage:
		return r.EphemeralStorage
	case v1.ResourcePods:
		return r.AllowedPodNumber
	}
	return r.Scalar[name]
}

func (r *Resource) setMax(name v1.ResourceName, v int64) {
	if r.Get(name) < v {
		r.set(name, v)
	}
}

func (r *Resource) set(name v1.ResourceName, v int64) {
	switch name {
	case v1.ResourceCPU:
		r.MilliCPU = v
	case v1.ResourceMemory:
		r.Memory = v
	case v1.ResourceEphemeralStorage:
		r.EphemeralStorage = v
	case v1.ResourcePods:
		r.AllowedPodNumber = v
	default:
		if r.Scalar == nil {
			r.Scalar = map[v1.ResourceName]int64{}
		}
		r.Scalar[name] = v
	}
}

// NewResource converts a ResourceList (cpu to millicores, everything else to its integer value).
func NewResource(rl v1.ResourceList) Resource {
	var r Resource
	r.AddList(rl)
	return r
}

// AddList adds a ResourceList to r.
func (r *Resource) AddList(rl v1.ResourceList) {
	for name, q := range rl {
		switch name {
		case v1.ResourceCPU:
			r.MilliCPU += q.MilliValue()
		case v1.ResourceMemory:
			r.Memory += q.Value()
		case v1.ResourceEphemeralStorage:
			r.EphemeralStorage += q.Value()
		case v1.ResourcePods:
			r.AllowedPodNumber += q.Value()
		default:
			if r.Scalar == nil {
				r.Scalar = map[v1.ResourceName]int64{}
			}
			r.Scalar[name] += q.Value()
		}
	}
}

func (r *Resource) maxWith(o *Resource) {
	r.setMax(v1.ResourceCPU, o.MilliCPU)
	r.setMax(v1.ResourceMemory, o.Memory)
	r.setMax(v1.ResourceEphemeralStorage, o.EphemeralStorage)
	for k, v := range o.Scalar {
		r.setMax(k, v)
	}
}

// PodRequests computes what a pod asks the node for, as Kubernetes counts it: the sum of its containers and
// of its restartable (sidecar) init containers, or, if larger, for each resource the largest of the regular
// init containers (each plus the sidecars started before it), plus the pod overhead. Pod-level requests
// (spec.resources) replace the container sum for cpu and memory. With nonZero, a container that requests
// no cpu or memory counts DefaultMilliCPURequest and DefaultMemoryRequest instead (for scoring only).
func PodRequests(pod *v1.Pod, nonZero bool) Resource {
	var reqs Resource
	containerReq := func(c *v1.Container) Resource {
		r := NewResource(c.Resources.Requests)
		if nonZero {
			if _, ok := c.Resources.Requests[v1.ResourceCPU]; !ok {
				r.MilliCPU = DefaultMilliCPURequest
			}
			if _, ok := c.Resources.Requests[v1.ResourceMemory]; !ok {
				r.Memory = DefaultMemoryRequest
			}
		}
		return r
	}
	for i := range pod.Spec.Containers {
		c := containerReq(&pod.Spec.Containers[i])
		reqs.Add(&c)
	}
	var sidecars, initMax Resource
	for i := range pod.Spec.InitContainers {
		ic := &pod.Spec.InitContainers[i]
		c := containerReq(ic)
		if ic.RestartPolicy != nil && *ic.RestartPolicy == v1.ContainerRestartPolicyAlways {
			reqs.Add(&c)
			sidecars.Add(&c)
			initMax.maxWith(&sidecars)
			continue
		}
		c.Add(&sidecars)
		initMax.maxWith(&c)
	}
	reqs.maxWith(&initMax)
	if pl := pod.Spec.Resources; pl != nil {
		if q, ok := pl.Requests[v1.ResourceCPU]; ok {
			reqs.MilliCPU = q.MilliValue()
		}
		if q, ok := pl.Requests[v1.ResourceMemory]; ok {
			reqs.Memory = q.Value()
		}
	}
	if pod.Spec.Overhead != nil {
		o := NewResource(pod.Spec.Overhead)
		reqs.Add(&o)
	}
	reqs.AllowedPodNumber = 0
	return reqs
}
