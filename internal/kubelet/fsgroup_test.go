package kubelet

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestWriteAtomicFSGroup(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	dir := t.TempDir()
	gid := int64(1001)
	files := map[string]fileContent{"data-1": {data: []byte("value-1"), mode: 0o400}, "sub/data-2": {data: []byte("v2"), mode: 0o600}}
	if err := writeAtomic(dir, files, &gid); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]os.FileMode{"data-1": 0o440, "sub/data-2": 0o640} {
		fi, err := os.Stat(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		st := fi.Sys().(*syscall.Stat_t)
		if fi.Mode().Perm() != want || st.Gid != uint32(gid) {
			t.Errorf("%s: mode %v gid %d, want %v gid %d", rel, fi.Mode().Perm(), st.Gid, want, gid)
		}
	}
	// Without an fsGroup the modes are as given and root's group keeps the files.
	plain := t.TempDir()
	if err := writeAtomic(plain, files, nil); err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(filepath.Join(plain, "data-1"))
	if fi.Mode().Perm() != 0o400 || fi.Sys().(*syscall.Stat_t).Gid != 0 {
		t.Errorf("without fsGroup: mode %v gid %d", fi.Mode().Perm(), fi.Sys().(*syscall.Stat_t).Gid)
	}
}
