package plugins

import (
	"github.com/skiff-sh/skiff/internal/scheduler/framework"
	v1 "k8s.io/api/core/v1"
)

// ImageLocality favours nodes that already hold the pod's images: the sum over the pod's containers of the
// image size scaled by the share of nodes holding it (so images present everywhere count little), clamped
// to 23 MiB..1000 MiB per container and mapped to 0..MaxNodeScore. imageNodes tells how many of the
// totalNodes hold an image.
func ImageLocality(pod *v1.Pod, node *framework.NodeInfo, imageNodes func(image string) int, totalNodes int) int64 {
	n := len(pod.Spec.InitContainers) + len(pod.Spec.Containers)
	if n == 0 || totalNodes == 0 {
		return 0
	}
	var sum int64
	if len(node.Images) > 0 {
		add := func(cs []v1.Container) {
			for i := range cs {
				name := framework.NormalizeImageName(cs[i].Image)
				if size, ok := node.Images[name]; ok {
					sum += int64(float64(size) * float64(imageNodes(name)) / float64(totalNodes))
				}
			}
		}
		add(pod.Spec.InitContainers)
		add(pod.Spec.Containers)
	}
	maxT := int64(maxContainerThreshold) * int64(n)
	sum = max(int64(minImageThreshold), min(sum, maxT))
	return MaxNodeScore * (sum - minImageThreshold) / (maxT - minImageThreshold)
}
