package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/csv"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

const (
	// reloadInterval is the least time between two stats of the token file.
	reloadInterval = time.Second
	// racyWindow: a file modified this recently before it was read may
	// have been rewritten within the same mtime tick, so it is read again.
	racyWindow = 2 * time.Second
)

var errInvalidToken = errors.New("invalid bearer token")

// LoadTokenFile reads a kube-apiserver static token file (CSV:
// token,user,uid,"group1,group2"; comments and blank lines allowed) and
// returns an Authenticator for `Authorization: Bearer <token>`; it reloads
// when the file changes (mtime check, at most once per second).
func LoadTokenFile(path string) (Authenticator, error) {
	return newTokenFile(path, time.Now)
}

type tokenEntry struct {
	token string
	user  *User
}

type tokenSet map[[sha256.Size]byte]tokenEntry

type tokenFile struct {
	path string
	now  func() time.Time

	tokens    atomic.Pointer[tokenSet]
	lastCheck atomic.Int64 // UnixNano of the last stat

	mu       sync.Mutex // guards reloading and the fields below
	loadedAt time.Time
	modTime  time.Time
	size     int64
	missing  bool
}

func newTokenFile(path string, now func() time.Time) (*tokenFile, error) {
	f := &tokenFile{path: path, now: now}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	set, err := readTokenFile(path)
	if err != nil {
		return nil, err
	}
	f.tokens.Store(&set)
	t := now()
	f.lastCheck.Store(t.UnixNano())
	f.loadedAt, f.modTime, f.size = t, fi.ModTime(), fi.Size()
	return f, nil
}

func (f *tokenFile) AuthenticateRequest(r *http.Request) (*User, bool, error) {
	token, ok := bearerToken(r)
	if !ok {
		return nil, false, nil
	}
	f.maybeReload()
	set := *f.tokens.Load()
	e, found := set[sha256.Sum256([]byte(token))]
	if !found || subtle.ConstantTimeCompare([]byte(e.token), []byte(token)) != 1 {
		return nil, false, errInvalidToken
	}
	// Do not let the token travel further (proxies, logs).
	r.Header.Del("Authorization")
	return e.user.Clone(), true, nil
}

// maybeReload re-reads the file if it changed, at most once per
// reloadInterval.
func (f *tokenFile) maybeReload() {
	if !f.due() {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.due() { // another request checked meanwhile
		return
	}
	t := f.now()
	f.lastCheck.Store(t.UnixNano())

	fi, err := os.Stat(f.path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			if !f.missing {
				slog.Warn("auth: token file removed; no token is accepted until it returns", "path", f.path)
				f.missing = true
				f.modTime, f.size = time.Time{}, -1
				empty := tokenSet{}
				f.tokens.Store(&empty)
			}
			return
		}
		slog.Error("auth: checking token file; keeping previous tokens", "path", f.path, "err", err)
		return
	}
	changed := f.missing || !fi.ModTime().Equal(f.modTime) || fi.Size() != f.size
	racy := !fi.ModTime().Before(f.loadedAt.Add(-racyWindow))
	if !changed && !racy {
		return
	}
	set, err := readTokenFile(f.path)
	if err != nil {
		// Leave modTime alone so the next check retries.
		slog.Error("auth: reloading token file; keeping previous tokens", "path", f.path, "err", err)
		return
	}
	f.tokens.Store(&set)
	f.loadedAt, f.modTime, f.size, f.missing = t, fi.ModTime(), fi.Size(), false
	if changed {
		slog.Info("auth: reloaded token file", "path", f.path, "tokens", len(set))
	}
}

func (f *tokenFile) due() bool {
	d := f.now().UnixNano() - f.lastCheck.Load()
	return d >= int64(reloadInterval) || d < 0
}

// readTokenFile parses a static token file.
func readTokenFile(path string) (tokenSet, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("token file: %w", err)
	}
	set := tokenSet{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		rd := csv.NewReader(strings.NewReader(line))
		rd.FieldsPerRecord = -1
		rd.TrimLeadingSpace = true
		rec, err := rd.Read()
		if err != nil {
			return nil, fmt.Errorf("token file %s line %d: %w", path, lineNo, err)
		}
		if len(rec) < 3 {
			return nil, fmt.Errorf("token file %s line %d: need at least 3 columns (token, user name, user uid), found %d", path, lineNo, len(rec))
		}
		token, name, uid := strings.TrimSpace(rec[0]), strings.TrimSpace(rec[1]), strings.TrimSpace(rec[2])
		if token == "" {
			slog.Warn("auth: empty token in token file, skipped", "path", path, "line", lineNo)
			continue
		}
		if name == "" {
			return nil, fmt.Errorf("token file %s line %d: empty user name", path, lineNo)
		}
		u := &User{Name: name, UID: uid}
		if len(rec) >= 4 {
			for g := range strings.SplitSeq(rec[3], ",") {
				if g = strings.TrimSpace(g); g != "" {
					u.Groups = append(u.Groups, g)
				}
			}
		}
		key := sha256.Sum256([]byte(token))
		if _, dup := set[key]; dup {
			slog.Warn("auth: duplicate token in token file, last one wins", "path", path, "line", lineNo)
		}
		set[key] = tokenEntry{token: token, user: u}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("token file %s: %w", path, err)
	}
	return set, nil
}

// bearerToken extracts the token from "Authorization: Bearer <token>"
// (scheme case-insensitive; like upstream, the first word after it).
func bearerToken(r *http.Request) (string, bool) {
	f := strings.Fields(r.Header.Get("Authorization"))
	if len(f) < 2 || !strings.EqualFold(f[0], "bearer") {
		return "", false
	}
	return f[1], true
}
