package kubelet

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Volumes live under DATA/agent/pods/<uid>/volumes/<plugin>/<name>; configMap, secret, downwardAPI and projected
// volumes are written with the kubelet's atomic layout (files are symlinks into ..data, which is swapped in one
// rename), so that updates reach running containers without torn reads.

func (w *podWorker) volumeDir(pod *corev1.Pod, plugin, name string) string {
	return filepath.Join(w.k.podDir(pod.UID), "volumes", plugin, name)
}

// prepareVolumes creates or refreshes every volume of the pod.
func (w *podWorker) prepareVolumes(ctx context.Context, pod *corev1.Pod) error {
	paths := map[string]string{}
	for _, v := range pod.Spec.Volumes {
		p, err := w.prepareVolume(ctx, pod, v)
		if err != nil {
			return fmt.Errorf("MountVolume.SetUp failed for volume %q : %v", v.Name, err)
		}
		paths[v.Name] = p
	}
	w.volumes = paths
	w.lastVolSync = w.k.clock.Now()
	return nil
}

func (w *podWorker) prepareVolume(ctx context.Context, pod *corev1.Pod, v corev1.Volume) (string, error) {
	switch {
	case v.HostPath != nil:
		p := v.HostPath.Path
		t := corev1.HostPathUnset
		if v.HostPath.Type != nil {
			t = *v.HostPath.Type
		}
		switch t {
		case corev1.HostPathDirectoryOrCreate:
			if err := os.MkdirAll(p, 0o755); err != nil {
				return "", err
			}
		case corev1.HostPathFileOrCreate:
			if _, err := os.Stat(p); os.IsNotExist(err) {
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					return "", err
				}
				f, err := os.OpenFile(p, os.O_CREATE, 0o644)
				if err != nil {
					return "", err
				}
				f.Close()
			}
		case corev1.HostPathDirectory, corev1.HostPathFile, corev1.HostPathSocket, corev1.HostPathCharDev, corev1.HostPathBlockDev:
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("hostPath type check failed: %s does not exist", p)
			}
		}
		return p, nil
	case v.EmptyDir != nil:
		dir := w.volumeDir(pod, "kubernetes.io~empty-dir", v.Name)
		if err := os.MkdirAll(dir, 0o777); err != nil {
			return "", err
		}
		_ = os.Chmod(dir, 0o777)
		if v.EmptyDir.Medium == corev1.StorageMediumMemory && !isMountPoint(dir) {
			opts := "mode=0777"
			if v.EmptyDir.SizeLimit != nil && !v.EmptyDir.SizeLimit.IsZero() {
				opts += ",size=" + strconv.FormatInt(v.EmptyDir.SizeLimit.Value(), 10)
			}
			if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, opts); err != nil {
				return "", fmt.Errorf("mount tmpfs: %w", err)
			}
		}
		if gid := podFSGroup(pod); gid != nil {
			// The pod's fsGroup owns the directory and, through setgid, what its containers create in it (the
			// kubelet's SetVolumeOwnership for a writable volume).
			_ = os.Chown(dir, -1, int(*gid))
			_ = os.Chmod(dir, 0o777|os.ModeSetgid)
		}
		return dir, nil
	case v.ConfigMap != nil:
		files, err := w.configMapFiles(pod, v.ConfigMap.Name, v.ConfigMap.Items, v.ConfigMap.Optional, v.ConfigMap.DefaultMode)
		if err != nil {
			return "", err
		}
		dir := w.volumeDir(pod, "kubernetes.io~configmap", v.Name)
		return dir, writeAtomic(dir, files, podFSGroup(pod))
	case v.Secret != nil:
		files, err := w.secretFiles(pod, v.Secret.SecretName, v.Secret.Items, v.Secret.Optional, v.Secret.DefaultMode)
		if err != nil {
			return "", err
		}
		dir := w.volumeDir(pod, "kubernetes.io~secret", v.Name)
		return dir, writeAtomic(dir, files, podFSGroup(pod))
	case v.DownwardAPI != nil:
		files, err := w.downwardFiles(pod, v.DownwardAPI.Items, v.DownwardAPI.DefaultMode)
		if err != nil {
			return "", err
		}
		dir := w.volumeDir(pod, "kubernetes.io~downward-api", v.Name)
		return dir, writeAtomic(dir, files, podFSGroup(pod))
	case v.Projected != nil:
		all := map[string]fileContent{}
		for _, src := range v.Projected.Sources {
			var files map[string]fileContent
			var err error
			switch {
			case src.ConfigMap != nil:
				files, err = w.configMapFiles(pod, src.ConfigMap.Name, src.ConfigMap.Items, src.ConfigMap.Optional, v.Projected.DefaultMode)
			case src.Secret != nil:
				files, err = w.secretFiles(pod, src.Secret.Name, src.Secret.Items, src.Secret.Optional, v.Projected.DefaultMode)
			case src.DownwardAPI != nil:
				files, err = w.downwardFiles(pod, src.DownwardAPI.Items, v.Projected.DefaultMode)
			case src.ServiceAccountToken != nil:
				files = map[string]fileContent{src.ServiceAccountToken.Path: {data: w.serviceAccountToken(ctx, pod, src.ServiceAccountToken), mode: 0o644}}
			}
			if err != nil {
				return "", err
			}
			for k, f := range files {
				all[k] = f
			}
		}
		dir := w.volumeDir(pod, "kubernetes.io~projected", v.Name)
		return dir, writeAtomic(dir, all, podFSGroup(pod))
	}
	// Unsupported volume types get an empty directory so that the pod can still run.
	dir := w.volumeDir(pod, "kubernetes.io~unsupported", v.Name)
	return dir, os.MkdirAll(dir, 0o777)
}

// tokenKey identifies one projected service-account token of a pod.
type tokenKey struct {
	serviceAccount, audience string
	expirationSeconds        int64
}

// cachedToken is a token the kubelet was issued and when it must ask for a new one.
type cachedToken struct {
	token     []byte
	refreshAt time.Time
}

// tokenRefreshAt is when the kubelet's token manager replaces a token issued at issued and expiring at expires:
// after 80% of its lifetime, or 24 hours, whichever comes first (upstream's requiresRefresh).
func tokenRefreshAt(issued, expires time.Time) time.Time {
	at := issued.Add(expires.Sub(issued) * 8 / 10)
	if max := issued.Add(24 * time.Hour); at.After(max) {
		at = max
	}
	return at
}

// serviceAccountToken returns a bound token for the projection: the one issued before until it is due for
// refresh (tokenRefreshAt), else a new one from the API; the previous one, or an empty token, when that fails.
func (w *podWorker) serviceAccountToken(ctx context.Context, pod *corev1.Pod, src *corev1.ServiceAccountTokenProjection) []byte {
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	key := tokenKey{serviceAccount: sa, audience: src.Audience}
	if src.ExpirationSeconds != nil {
		key.expirationSeconds = *src.ExpirationSeconds
	}
	now := w.k.clock.Now()
	cached, ok := w.tokens[key]
	if ok && now.Before(cached.refreshAt) {
		return cached.token
	}
	req := &authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{
		Audiences: nil, ExpirationSeconds: src.ExpirationSeconds,
		BoundObjectRef: &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
	}}
	if src.Audience != "" {
		req.Spec.Audiences = []string{src.Audience}
	}
	out, err := w.k.cs.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, req, metav1.CreateOptions{})
	if err != nil {
		return cached.token
	}
	if w.tokens == nil {
		w.tokens = map[tokenKey]cachedToken{}
	}
	tok := []byte(out.Status.Token)
	w.tokens[key] = cachedToken{token: tok, refreshAt: tokenRefreshAt(now, out.Status.ExpirationTimestamp.Time)}
	return tok
}

type fileContent struct {
	data []byte
	mode int32
}

func modeOf(item *int32, def *int32) int32 {
	if item != nil {
		return *item
	}
	if def != nil {
		return *def
	}
	return 0o644
}

func (w *podWorker) configMapFiles(pod *corev1.Pod, name string, items []corev1.KeyToPath, optional *bool, defMode *int32) (map[string]fileContent, error) {
	cm, err := w.k.cmLister.ConfigMaps(pod.Namespace).Get(name)
	if err != nil {
		if optional != nil && *optional {
			return map[string]fileContent{}, nil
		}
		return nil, fmt.Errorf("configmap %q not found", name)
	}
	data := map[string][]byte{}
	for k, v := range cm.Data {
		data[k] = []byte(v)
	}
	for k, v := range cm.BinaryData {
		data[k] = v
	}
	return keyFiles(data, items, defMode, optional, "configmap "+name)
}

func (w *podWorker) secretFiles(pod *corev1.Pod, name string, items []corev1.KeyToPath, optional *bool, defMode *int32) (map[string]fileContent, error) {
	s, err := w.k.secLister.Secrets(pod.Namespace).Get(name)
	if err != nil {
		if optional != nil && *optional {
			return map[string]fileContent{}, nil
		}
		return nil, fmt.Errorf("secret %q not found", name)
	}
	return keyFiles(secretData(s), items, defMode, optional, "secret "+name)
}

func keyFiles(data map[string][]byte, items []corev1.KeyToPath, defMode *int32, optional *bool, what string) (map[string]fileContent, error) {
	out := map[string]fileContent{}
	if len(items) == 0 {
		for k, v := range data {
			out[k] = fileContent{data: v, mode: modeOf(nil, defMode)}
		}
		return out, nil
	}
	for _, it := range items {
		v, ok := data[it.Key]
		if !ok {
			if optional != nil && *optional {
				continue
			}
			return nil, fmt.Errorf("%s has no key %q", what, it.Key)
		}
		out[it.Path] = fileContent{data: v, mode: modeOf(it.Mode, defMode)}
	}
	return out, nil
}

func (w *podWorker) downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, defMode *int32) (map[string]fileContent, error) {
	out := map[string]fileContent{}
	for _, it := range items {
		var v string
		var err error
		switch {
		case it.FieldRef != nil:
			v, err = w.k.fieldRef(pod, it.FieldRef.FieldPath, pod.Status.PodIP)
		case it.ResourceFieldRef != nil:
			c := &corev1.Container{}
			if len(pod.Spec.Containers) > 0 {
				c = &pod.Spec.Containers[0]
			}
			v, err = w.k.resourceFieldRef(pod, c, it.ResourceFieldRef)
		}
		if err != nil {
			return nil, err
		}
		out[it.Path] = fileContent{data: []byte(v), mode: modeOf(it.Mode, defMode)}
	}
	return out, nil
}

// podFSGroup is the pod's securityContext.fsGroup, or nil.
func podFSGroup(pod *corev1.Pod) *int64 {
	if sc := pod.Spec.SecurityContext; sc != nil {
		return sc.FSGroup
	}
	return nil
}

// writeAtomic writes files into dir with the kubelet's AtomicWriter layout; it does nothing when the content is
// unchanged. With an fsGroup, the files belong to that group and are at least group-readable, as the kubelet's
// SetVolumeOwnership makes them for its read-only volume types.
func writeAtomic(dir string, files map[string]fileContent, fsGroup *int64) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if fsGroup != nil {
		owned := make(map[string]fileContent, len(files))
		for k, f := range files {
			f.mode |= 0o440
			owned[k] = f
		}
		files = owned
	}
	dataLink := filepath.Join(dir, "..data")
	if cur, err := os.Readlink(dataLink); err == nil && sameContent(filepath.Join(dir, cur), files) {
		return nil
	}
	tsDir, err := os.MkdirTemp(dir, "..tmp_")
	if err != nil {
		return err
	}
	for rel, f := range files {
		p := filepath.Join(tsDir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, os.FileMode(f.mode)&0o777); err != nil {
			return err
		}
		_ = os.Chmod(p, os.FileMode(f.mode)&0o777)
		if fsGroup != nil {
			_ = os.Chown(p, -1, int(*fsGroup))
			for d := filepath.Dir(p); d != tsDir && strings.HasPrefix(d, tsDir); d = filepath.Dir(d) {
				_ = os.Chown(d, -1, int(*fsGroup))
			}
		}
	}
	_ = os.Chmod(tsDir, 0o755)
	if fsGroup != nil {
		_ = os.Chown(tsDir, -1, int(*fsGroup))
	}
	tmpLink := filepath.Join(dir, "..data_tmp")
	_ = os.Remove(tmpLink)
	if err := os.Symlink(filepath.Base(tsDir), tmpLink); err != nil {
		return err
	}
	old, _ := os.Readlink(dataLink)
	if err := os.Rename(tmpLink, dataLink); err != nil {
		return err
	}
	// Top-level entries point into ..data.
	tops := map[string]bool{}
	for rel := range files {
		tops[strings.SplitN(rel, "/", 2)[0]] = true
	}
	for top := range tops {
		link := filepath.Join(dir, top)
		if t, err := os.Readlink(link); err == nil && t == filepath.Join("..data", top) {
			continue
		}
		_ = os.RemoveAll(link)
		if err := os.Symlink(filepath.Join("..data", top), link); err != nil {
			return err
		}
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		n := e.Name()
		if strings.HasPrefix(n, "..") {
			continue
		}
		if !tops[n] {
			_ = os.RemoveAll(filepath.Join(dir, n))
		}
	}
	if old != "" && old != filepath.Base(tsDir) {
		_ = os.RemoveAll(filepath.Join(dir, old))
	}
	return nil
}

func sameContent(dir string, files map[string]fileContent) bool {
	n := 0
	err := filepath.Walk(dir, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		if info.IsDir() {
			return nil
		}
		n++
		rel, _ := filepath.Rel(dir, p)
		f, ok := files[rel]
		if !ok {
			return fmt.Errorf("extra")
		}
		b, err := os.ReadFile(p)
		if err != nil || string(b) != string(f.data) || int32(info.Mode().Perm()) != f.mode&0o777 {
			return fmt.Errorf("differs")
		}
		return nil
	})
	return err == nil && n == len(files)
}

// subPath is a volumeMount's subPath, or its subPathExpr expanded with the container's environment, checked as the
// kubelet checks it: every referenced variable must have a value, and the result must be relative without "..".
func subPath(vm corev1.VolumeMount, vars map[string]string) (string, error) {
	sub := vm.SubPath
	if vm.SubPathExpr != "" {
		var missing []string
		sub = expandFunc(vm.SubPathExpr, func(name string) (string, bool) {
			v, ok := vars[name]
			if !ok || v == "" {
				missing = append(missing, name)
			}
			return v, true
		})
		if len(missing) > 0 {
			slices.Sort(missing)
			return "", fmt.Errorf("missing value for %s", strings.Join(slices.Compact(missing), ", "))
		}
	}
	if filepath.IsAbs(sub) {
		return "", fmt.Errorf("error SubPath `%s` must not be an absolute path", sub)
	}
	for _, part := range strings.Split(filepath.ToSlash(sub), "/") {
		if part == ".." {
			return "", fmt.Errorf("unable to provision SubPath `%s`: must not contain '..'", sub)
		}
	}
	return sub, nil
}

// mounts returns the CRI mounts of a container: its volumeMounts, /etc/hosts and the termination message file;
// vars is the container's environment, for subPathExpr.
func (w *podWorker) mounts(pod *corev1.Pod, c *corev1.Container, attempt uint32, vars map[string]string) ([]*runtimeapi.Mount, error) {
	var out []*runtimeapi.Mount
	hasHosts := false
	for _, vm := range c.VolumeMounts {
		host, ok := w.volumes[vm.Name]
		if !ok {
			return nil, fmt.Errorf("volume %q not found for volumeMount", vm.Name)
		}
		if vm.SubPath != "" || vm.SubPathExpr != "" {
			sub, err := subPath(vm, vars)
			if err != nil {
				return nil, err
			}
			host = filepath.Join(host, sub)
			if _, err := os.Stat(host); os.IsNotExist(err) {
				if err := os.MkdirAll(host, 0o777); err != nil {
					return nil, err
				}
			}
			// Resolve the atomic-writer symlink so that the file itself is bound.
			if r, err := filepath.EvalSymlinks(host); err == nil {
				host = r
			}
		}
		m := &runtimeapi.Mount{ContainerPath: vm.MountPath, HostPath: host, Readonly: vm.ReadOnly}
		if vm.MountPropagation != nil {
			switch *vm.MountPropagation {
			case corev1.MountPropagationHostToContainer:
				m.Propagation = runtimeapi.MountPropagation_PROPAGATION_HOST_TO_CONTAINER
			case corev1.MountPropagationBidirectional:
				m.Propagation = runtimeapi.MountPropagation_PROPAGATION_BIDIRECTIONAL
			}
		}
		if vm.MountPath == "/etc/hosts" {
			hasHosts = true
		}
		out = append(out, m)
	}
	dir := w.k.podDir(pod.UID)
	if !hasHosts && !pod.Spec.HostNetwork {
		out = append(out, &runtimeapi.Mount{ContainerPath: "/etc/hosts", HostPath: filepath.Join(dir, "etc-hosts")})
	}
	if tp := c.TerminationMessagePath; tp != "" {
		cdir := filepath.Join(dir, "containers", c.Name)
		if err := os.MkdirAll(cdir, 0o755); err != nil {
			return nil, err
		}
		f := filepath.Join(cdir, fmt.Sprintf("termination-log-%d", attempt))
		if err := os.WriteFile(f, nil, 0o666); err != nil {
			return nil, err
		}
		_ = os.Chmod(f, 0o666)
		out = append(out, &runtimeapi.Mount{ContainerPath: tp, HostPath: f})
	}
	return out, nil
}

// terminationMessage reads what a container wrote to its termination message file (at most 4 KiB).
func (k *Kubelet) terminationMessage(uid, name string, attempt uint32) string {
	b, err := os.ReadFile(filepath.Join(k.podsDir, uid, "containers", name, fmt.Sprintf("termination-log-%d", attempt)))
	if err != nil {
		return ""
	}
	if len(b) > 4096 {
		b = b[:4096]
	}
	return string(b)
}

func isMountPoint(p string) bool {
	for _, m := range mountPoints() {
		if m == p {
			return true
		}
	}
	return false
}

func mountPoints() []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 4 {
			out = append(out, fs[4])
		}
	}
	return out
}

// unmountUnder unmounts every mount below dir, deepest first.
func unmountUnder(dir string) {
	var ms []string
	for _, m := range mountPoints() {
		if strings.HasPrefix(m, dir+"/") {
			ms = append(ms, m)
		}
	}
	sort.Sort(sort.Reverse(sort.StringSlice(ms)))
	for _, m := range ms {
		_ = syscall.Unmount(m, syscall.MNT_DETACH)
	}
}
