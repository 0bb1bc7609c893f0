package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCopyTarballs(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "images")
	for name, body := range map[string]string{"pause.tar": "p", "testapp.tar": "t", "notes.txt": "n"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyTarballs(src, dst); err != nil {
		t.Fatal(err)
	}
	got, _ := filepath.Glob(filepath.Join(dst, "*"))
	if len(got) != 2 {
		t.Fatalf("copied %v, want the two tarballs only", got)
	}
	if b, _ := os.ReadFile(filepath.Join(dst, "testapp.tar")); string(b) != "t" {
		t.Errorf("testapp.tar = %q", b)
	}
	if err := copyTarballs(t.TempDir(), dst); err == nil {
		t.Error("a directory without tarballs was accepted")
	}
	if err := copyTarballs("", dst); err != nil {
		t.Errorf("no images dir: %v", err)
	}
}
