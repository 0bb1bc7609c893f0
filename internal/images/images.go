// Package images writes the container images skiff needs as docker-archive tarballs, from files built by the repo's
// own code (no registry is needed), and imports tarballs into a containerd.
//
//   - PauseImage: the pod sandbox image (containerd's sandbox_image), one static binary /pause.
//   - TestAppImage: skiff.local/testapp:dev, agnhost-compatible (/agnhost) plus busybox-static for a POSIX shell and the
//     common utilities (/bin/sh, ls, cat, wget, sleep, ...). The same image is also tagged TestAppImageV2
//     (skiff.local/testapp:v2), so that `kubectl set image` has a second name to roll a Deployment to.
//
// `make images` builds both into DATA/images (the air-gap directory); the kubelet imports every *.tar found there at
// start.
package images

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Image names.
const (
	PauseImage   = "skiff.local/pause:3.10"
	TestAppImage = "skiff.local/testapp:dev"
	// TestAppImageV2 is a second tag of the test image (same content), for rolling updates.
	TestAppImageV2 = "skiff.local/testapp:v2"
)

// File is one entry of an image layer.
type File struct {
	Path string // absolute path inside the image
	Mode int64  // permission bits; with Dir or Link ignored
	Data []byte
	// Dir makes a directory; Link makes a symlink to Link.
	Dir  bool
	Link string
}

// Spec describes a single-layer image.
type Spec struct {
	Name       string   // repo:tag
	ExtraTags  []string // further repo:tag names of the same image
	Entrypoint []string
	Cmd        []string
	Env        []string
	User       string
	WorkingDir string
	Files      []File
}

// created is fixed so that a build is reproducible.
var created = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// layerTar returns the uncompressed layer for files.
func layerTar(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Path < files[j].Path })
	dirs := map[string]bool{}
	var mkdirs func(p string) error
	mkdirs = func(p string) error {
		if p == "/" || p == "." || dirs[p] {
			return nil
		}
		if err := mkdirs(filepath.Dir(p)); err != nil {
			return err
		}
		dirs[p] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(p, "/") + "/", Mode: 0o755, ModTime: created})
	}
	for _, f := range files {
		name := strings.TrimPrefix(filepath.Clean(f.Path), "/")
		if err := mkdirs(filepath.Dir("/" + name)); err != nil {
			return nil, err
		}
		h := &tar.Header{Name: name, Mode: f.Mode, ModTime: created}
		switch {
		case f.Dir:
			if dirs["/"+name] {
				continue
			}
			dirs["/"+name] = true
			h.Typeflag, h.Name = tar.TypeDir, name+"/"
			if h.Mode == 0 {
				h.Mode = 0o755
			}
		case f.Link != "":
			h.Typeflag, h.Linkname, h.Mode = tar.TypeSymlink, f.Link, 0o777
		default:
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Typeflag == tar.TypeReg {
			if _, err := tw.Write(f.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func digest(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// WriteDockerArchive writes spec as a docker-archive tarball (the format of `docker save`) at path.
func WriteDockerArchive(path string, spec Spec) error {
	layer, err := layerTar(spec.Files)
	if err != nil {
		return fmt.Errorf("images: layer: %w", err)
	}
	layerID := digest(layer)
	env := spec.Env
	if len(env) == 0 {
		env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
	}
	config := map[string]any{
		"architecture": "amd64",
		"os":           "linux",
		"created":      created.Format(time.RFC3339),
		"config": map[string]any{
			"Entrypoint": spec.Entrypoint, "Cmd": spec.Cmd, "Env": env, "User": spec.User, "WorkingDir": spec.WorkingDir,
		},
		"rootfs":  map[string]any{"type": "layers", "diff_ids": []string{"sha256:" + layerID}},
		"history": []map[string]any{{"created": created.Format(time.RFC3339), "created_by": "skiff images build"}},
	}
	cfgJSON, err := json.Marshal(config)
	if err != nil {
		return err
	}
	cfgName := digest(cfgJSON) + ".json"
	manifest, err := json.Marshal([]map[string]any{{
		"Config": cfgName, "RepoTags": append([]string{spec.Name}, spec.ExtraTags...), "Layers": []string{layerID + "/layer.tar"},
	}})
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("images: %w", err)
	}
	tw := tar.NewWriter(f)
	for _, e := range []struct {
		name string
		data []byte
	}{{layerID + "/layer.tar", layer}, {cfgName, cfgJSON}, {"manifest.json", manifest}} {
		if dir := filepath.Dir(e.name); dir != "." {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: dir + "/", Mode: 0o755, ModTime: created}); err != nil {
				f.Close()
				return err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: int64(len(e.data)), Mode: 0o644, ModTime: created}); err != nil {
			f.Close()
			return err
		}
		if _, err := tw.Write(e.data); err != nil {
			f.Close()
			return err
		}
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// PauseSpec is the sandbox image around the static binary pauseBin (cmd/skiff-pause).
func PauseSpec(pauseBin []byte) Spec {
	return Spec{
		Name: PauseImage, Entrypoint: []string{"/pause"}, User: "65535:65535",
		Files: []File{{Path: "/pause", Mode: 0o755, Data: pauseBin}},
	}
}

// localhostCrt and localhostKey are agnhost's /localhost.crt and /localhost.key (test/images/agnhost/porter), which
// `agnhost test-webserver` serves, e.g. to the StatefulSet e2e readiness probe GET :80/localhost.crt.
var (
	//go:embed testapp/localhost.crt
	localhostCrt []byte
	//go:embed testapp/localhost.key
	localhostKey []byte
)

// TestAppSpec is skiff.local/testapp:dev (also tagged :v2): /agnhost (cmd/skiff-testapp), busybox with one symlink
// per applet in applets, agnhost's /localhost.crt and /localhost.key, and a minimal /etc.
func TestAppSpec(agnhost, busybox []byte, applets []string) Spec {
	files := []File{
		{Path: "/agnhost", Mode: 0o755, Data: agnhost},
		{Path: "/localhost.crt", Mode: 0o644, Data: localhostCrt},
		{Path: "/localhost.key", Mode: 0o644, Data: localhostKey},
		{Path: "/bin/busybox", Mode: 0o755, Data: busybox},
		{Path: "/etc/passwd", Mode: 0o644, Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")},
		{Path: "/etc/group", Mode: 0o644, Data: []byte("root:x:0:\nnogroup:x:65534:\n")},
		{Path: "/etc/hosts", Mode: 0o644, Data: []byte("127.0.0.1 localhost\n")},
		{Path: "/tmp", Dir: true, Mode: 0o1777},
		{Path: "/root", Dir: true, Mode: 0o700},
		{Path: "/var", Dir: true},
		{Path: "/usr/bin", Dir: true},
	}
	seen := map[string]bool{"/bin/busybox": true}
	for _, a := range applets {
		a = strings.TrimSpace(a)
		if a == "" || strings.Contains(a, "..") {
			continue
		}
		p := a
		if !strings.HasPrefix(p, "/") {
			p = "/bin/" + p
		}
		if seen[p] {
			continue
		}
		seen[p] = true
		files = append(files, File{Path: p, Link: "/bin/busybox"})
	}
	return Spec{Name: TestAppImage, ExtraTags: []string{TestAppImageV2}, Entrypoint: []string{"/agnhost"}, Cmd: []string{"pause"}, Files: files}
}

// BusyboxApplets lists the applets of the busybox binary at path (`busybox --list-full` when supported).
func BusyboxApplets(ctx context.Context, path string) ([]string, error) {
	out, err := exec.CommandContext(ctx, path, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("images: %s --list: %w", path, err)
	}
	return strings.Fields(string(out)), nil
}

// BuildConfig names the inputs of Build.
type BuildConfig struct {
	PauseBin, TestAppBin, Busybox string // paths to static binaries
	OutDir                        string
}

// Build writes pause.tar and testapp.tar into cfg.OutDir.
func Build(ctx context.Context, cfg BuildConfig) ([]string, error) {
	if cfg.Busybox == "" {
		cfg.Busybox = "/bin/busybox"
	}
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return nil, fmt.Errorf("images: %w", err)
	}
	pause, err := os.ReadFile(cfg.PauseBin)
	if err != nil {
		return nil, fmt.Errorf("images: pause binary: %w", err)
	}
	app, err := os.ReadFile(cfg.TestAppBin)
	if err != nil {
		return nil, fmt.Errorf("images: testapp binary: %w", err)
	}
	bb, err := os.ReadFile(cfg.Busybox)
	if err != nil {
		return nil, fmt.Errorf("images: busybox (apt-get install busybox-static): %w", err)
	}
	applets, err := BusyboxApplets(ctx, cfg.Busybox)
	if err != nil {
		return nil, err
	}
	out := []string{filepath.Join(cfg.OutDir, "pause.tar"), filepath.Join(cfg.OutDir, "testapp.tar")}
	if err := WriteDockerArchive(out[0], PauseSpec(pause)); err != nil {
		return nil, err
	}
	if err := WriteDockerArchive(out[1], TestAppSpec(app, bb, applets)); err != nil {
		return nil, err
	}
	return out, nil
}

// Import loads the image tarball file into the k8s.io namespace of the containerd at socket (through `ctr`, since
// CRI has no import call).
func Import(ctx context.Context, socket, file string) error {
	out, err := exec.CommandContext(ctx, "ctr", "-n", "k8s.io", "--address", socket, "images", "import", file).CombinedOutput()
	if err != nil {
		return fmt.Errorf("images: import %s: %v: %s", file, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ArchiveImage is one image of a docker-archive tarball: its ID (the digest of its config, as containerd's CRI
// reports it) and its tags.
type ArchiveImage struct {
	ID   string
	Tags []string
}

// ArchiveImages reads the images a docker-archive tarball holds from its manifest.json.
func ArchiveImages(file string) ([]ArchiveImage, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("images: %s: no manifest.json: %w", file, err)
		}
		if h.Name != "manifest.json" {
			continue
		}
		var manifest []struct {
			Config   string
			RepoTags []string
		}
		if err := json.NewDecoder(tr).Decode(&manifest); err != nil {
			return nil, fmt.Errorf("images: %s: manifest.json: %w", file, err)
		}
		out := make([]ArchiveImage, 0, len(manifest))
		for _, m := range manifest {
			id := strings.TrimSuffix(filepath.Base(m.Config), ".json")
			out = append(out, ArchiveImage{ID: "sha256:" + id, Tags: m.RepoTags})
		}
		return out, nil
	}
}

// ImportDir imports every *.tar in dir (missing dir: nothing to do), all at once, and returns the files imported and
// the files skipped. A tarball whose every image present reports as already there (same ID under each of its tags) is
// skipped, so a restart does not import the air-gap images again; a nil present imports everything. The error is the
// first import's that failed; the others still ran.
func ImportDir(ctx context.Context, socket, dir string, present func(ArchiveImage) bool) (imported, skipped []string, err error) {
	matches, _ := filepath.Glob(filepath.Join(dir, "*.tar"))
	var todo []string
	for _, m := range matches {
		if present != nil && allPresent(m, present) {
			skipped = append(skipped, m)
		} else {
			todo = append(todo, m)
		}
	}
	errs := make([]error, len(todo))
	var wg sync.WaitGroup
	for i, m := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = Import(ctx, socket, m)
		}()
	}
	wg.Wait()
	for i, m := range todo {
		if errs[i] == nil {
			imported = append(imported, m)
		} else if err == nil {
			err = errs[i]
		}
	}
	return imported, skipped, err
}

// allPresent reports whether the tarball file's images are all present; an unreadable tarball is not.
func allPresent(file string, present func(ArchiveImage) bool) bool {
	imgs, err := ArchiveImages(file)
	if err != nil || len(imgs) == 0 {
		return false
	}
	for _, img := range imgs {
		if !present(img) {
			return false
		}
	}
	return true
}
