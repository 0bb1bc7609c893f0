package images

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// readTar returns the entries of a tar stream by name.
func readTar(t *testing.T, r io.Reader) map[string]*tar.Header {
	t.Helper()
	out := map[string]*tar.Header{}
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		out[h.Name] = h
	}
}

func TestWriteDockerArchive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.tar")
	spec := TestAppSpec([]byte("agnhost"), []byte("busybox"), []string{"sh", "ls", "/usr/bin/wget"})
	if err := WriteDockerArchive(path, spec); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	tr := tar.NewReader(bytes.NewReader(b))
	files := map[string][]byte{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		files[h.Name] = data
	}
	if err := json.Unmarshal(files["manifest.json"], &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || !slices.Equal(manifest[0].RepoTags, []string{TestAppImage, TestAppImageV2}) || len(manifest[0].Layers) != 1 {
		t.Fatalf("manifest %+v", manifest)
	}
	var cfg struct {
		Config struct{ Entrypoint, Cmd []string }
		RootFS struct {
			DiffIDs []string `json:"diff_ids"`
		} `json:"rootfs"`
	}
	if err := json.Unmarshal(files[manifest[0].Config], &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Config.Entrypoint[0] != "/agnhost" || cfg.Config.Cmd[0] != "pause" || len(cfg.RootFS.DiffIDs) != 1 {
		t.Fatalf("config %+v", cfg)
	}
	layer := readTar(t, bytes.NewReader(files[manifest[0].Layers[0]]))
	for name, link := range map[string]string{"bin/sh": "/bin/busybox", "bin/ls": "/bin/busybox", "usr/bin/wget": "/bin/busybox"} {
		h := layer[name]
		if h == nil || h.Typeflag != tar.TypeSymlink || h.Linkname != link {
			t.Errorf("%s: %+v", name, h)
		}
	}
	if h := layer["agnhost"]; h == nil || h.Mode&0o111 == 0 {
		t.Errorf("agnhost not executable: %+v", h)
	}
	if h := layer["localhost.crt"]; h == nil || h.Size == 0 {
		t.Errorf("localhost.crt (served by agnhost test-webserver): %+v", h)
	}
	if h := layer["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp: %+v", h)
	}
}

func TestArchiveImagesAndSkip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "app.tar")
	spec := TestAppSpec([]byte("agnhost"), []byte("busybox"), []string{"sh"})
	if err := WriteDockerArchive(path, spec); err != nil {
		t.Fatal(err)
	}
	imgs, err := ArchiveImages(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || !slices.Contains(imgs[0].Tags, TestAppImage) || !slices.Contains(imgs[0].Tags, TestAppImageV2) {
		t.Fatalf("images %+v, want one with tags %s and %s", imgs, TestAppImage, TestAppImageV2)
	}
	if id := imgs[0].ID; len(id) != len("sha256:")+64 || id[:7] != "sha256:" {
		t.Fatalf("ID %q, want sha256:<64 hex>", id)
	}
	// Everything present: nothing is imported (no containerd is needed to find that out).
	done, skipped, err := ImportDir(t.Context(), "/nonexistent.sock", dir, func(img ArchiveImage) bool { return img.ID == imgs[0].ID })
	if err != nil || len(done) != 0 || len(skipped) != 1 {
		t.Fatalf("ImportDir with every image present = %v, skipped %v, %v; want nothing imported, app.tar skipped", done, skipped, err)
	}
	// One missing: the import is attempted (and fails here, without a containerd).
	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond) // ctr would wait for the socket
	defer cancel()
	if _, _, err := ImportDir(ctx, "/nonexistent.sock", dir, func(ArchiveImage) bool { return false }); err == nil {
		t.Fatal("ImportDir with a missing image did not try to import")
	}
	if _, err := ArchiveImages(filepath.Join(dir, "missing.tar")); err == nil {
		t.Fatal("ArchiveImages of a missing file succeeded")
	}
}
