package kubelet

import (
	"os"
	"path/filepath"
	"strings"
)

// cgroupV1Root is where the v1 hierarchies are mounted.
const cgroupV1Root = "/sys/fs/cgroup"

// removePodCgroups removes ROOT/pod<uid> in every cgroup hierarchy (containerd leaves them behind). Only empty
// cgroups can be removed, so a live pod's cgroups are never touched.
func removePodCgroups(root, uid string) {
	ents, err := os.ReadDir(cgroupV1Root)
	if err != nil {
		return
	}
	for _, e := range ents {
		dir := filepath.Join(cgroupV1Root, e.Name(), root, "pod"+uid)
		removeCgroupTree(dir)
	}
}

// removeCgroupTree rmdirs dir and its children, deepest first.
func removeCgroupTree(dir string) {
	subs, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, s := range subs {
		if s.IsDir() {
			removeCgroupTree(filepath.Join(dir, s.Name()))
		}
	}
	_ = os.Remove(dir)
}

// leakedPodCgroups lists the pod UIDs that have a cgroup under ROOT in some hierarchy.
func leakedPodCgroups(root string) map[string]bool {
	out := map[string]bool{}
	ents, err := os.ReadDir(cgroupV1Root)
	if err != nil {
		return out
	}
	for _, e := range ents {
		subs, err := os.ReadDir(filepath.Join(cgroupV1Root, e.Name(), root))
		if err != nil {
			continue
		}
		for _, s := range subs {
			if uid, ok := strings.CutPrefix(s.Name(), "pod"); ok && s.IsDir() {
				out[uid] = true
			}
		}
	}
	return out
}
