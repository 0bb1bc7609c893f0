package auth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/skiff-sh/skiff/internal/pki"
)

const tokenFileContents = `# static tokens
  # indented comment

tok-alice,alice,uid-1,"dev,ops"
tok-bob, bob ,uid-2
tok-carol,carol,uid-3,"team-a"` + "\r\n"

func writeFile(t testing.TB, path, data string, mtime time.Time) {
	t.Helper()
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(path, mtime, mtime); err != nil {
		t.Fatal(err)
	}
}

// echo reports the user from the context as JSON, plus whether the
// Authorization header was still there.
type echoed struct {
	User       *User
	AuthHeader string
}

var echo = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u, ok := UserFrom(r.Context())
	if !ok {
		http.Error(w, "no user in context", http.StatusInternalServerError)
		return
	}
	json.NewEncoder(w).Encode(echoed{User: u, AuthHeader: r.Header.Get("Authorization")})
})

type testEnv struct {
	srv       *httptest.Server
	ca        *x509.CertPool
	admin     tls.Certificate // from the cluster CA
	foreign   tls.Certificate // from another CA, same subject
	tokenPath string
}

func newEnv(t testing.TB) *testEnv {
	t.Helper()
	dir := t.TempDir()
	b, err := pki.Ensure(pki.Config{Dir: filepath.Join(dir, "tls")})
	if err != nil {
		t.Fatal(err)
	}
	other, err := pki.Ensure(pki.Config{Dir: filepath.Join(dir, "other")})
	if err != nil {
		t.Fatal(err)
	}
	pair := func(b *pki.Bundle, d string) tls.Certificate {
		c, k, err := b.ClientCert(filepath.Join(dir, d), "admin", pki.AdminUser, []string{pki.AdminGroup})
		if err != nil {
			t.Fatal(err)
		}
		p, err := tls.X509KeyPair(c, k)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	env := &testEnv{ca: x509.NewCertPool(), tokenPath: filepath.Join(dir, "tokens.csv")}
	env.ca.AddCert(b.CA)
	env.admin = pair(b, "tls")
	env.foreign = pair(other, "other")

	writeFile(t, env.tokenPath, tokenFileContents, time.Now().Add(-time.Hour))
	tokens, err := LoadTokenFile(env.tokenPath)
	if err != nil {
		t.Fatal(err)
	}
	h := Middleware(Union(NewX509(env.ca), tokens), DefaultAnonymousPaths, echo)
	env.srv = httptest.NewUnstartedServer(h)
	env.srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{b.Serving},
		ClientAuth:   tls.RequestClientCert,
	}
	env.srv.StartTLS()
	t.Cleanup(env.srv.Close)
	return env
}

type result struct {
	code   int
	echo   echoed
	status metav1.Status
}

func (e *testEnv) do(t *testing.T, path, token string, cert *tls.Certificate) result {
	t.Helper()
	tc := &tls.Config{RootCAs: e.ca}
	if cert != nil {
		tc.Certificates = []tls.Certificate{*cert}
	}
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: tc}}
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", token)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	res := result{code: resp.StatusCode}
	switch resp.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(body, &res.echo); err != nil {
			t.Fatalf("%s: %v: %s", path, err, body)
		}
	case http.StatusUnauthorized:
		if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("401 content type %q", ct)
		}
		if err := json.Unmarshal(body, &res.status); err != nil {
			t.Fatalf("401 body is not a Status: %v: %s", err, body)
		}
	default:
		t.Fatalf("%s: unexpected %d: %s", path, resp.StatusCode, body)
	}
	return res
}

func wantUnauthorized(t *testing.T, r result, what string) {
	t.Helper()
	if r.code != http.StatusUnauthorized {
		t.Fatalf("%s: got %d (user %+v), want 401", what, r.code, r.echo.User)
	}
	s := r.status
	if s.Kind != "Status" || s.APIVersion != "v1" || s.Status != metav1.StatusFailure ||
		s.Code != 401 || s.Reason != metav1.StatusReasonUnauthorized || s.Message != "Unauthorized" {
		t.Fatalf("%s: status %+v", what, s)
	}
}

func wantUser(t *testing.T, r result, what, name, uid string, groups ...string) {
	t.Helper()
	if r.code != http.StatusOK {
		t.Fatalf("%s: got %d, want 200 as %s", what, r.code, name)
	}
	u := r.echo.User
	if u.Name != name || u.UID != uid || !slices.Equal(u.Groups, groups) {
		t.Fatalf("%s: user %+v, want %s/%s %v", what, u, name, uid, groups)
	}
}

func TestClientCertificates(t *testing.T) {
	env := newEnv(t)
	wantUser(t, env.do(t, "/api/v1/pods", "", &env.admin), "valid cert",
		"system:admin", "", "system:masters", "system:authenticated")
	wantUnauthorized(t, env.do(t, "/api/v1/pods", "", &env.foreign), "cert from another CA")
	// Invalid credentials are refused even on anonymous paths, as upstream.
	wantUnauthorized(t, env.do(t, "/healthz", "", &env.foreign), "cert from another CA on /healthz")
	// A bad certificate does not stop a good token (union goes on).
	wantUser(t, env.do(t, "/api", "Bearer tok-bob", &env.foreign), "bad cert, good token",
		"bob", "uid-2", "system:authenticated")
	// A good certificate wins over a bad token: the first success counts.
	wantUser(t, env.do(t, "/api", "Bearer nope", &env.admin), "good cert, bad token",
		"system:admin", "", "system:masters", "system:authenticated")
}

func TestTokens(t *testing.T) {
	env := newEnv(t)
	r := env.do(t, "/api/v1/pods", "Bearer tok-alice", nil)
	wantUser(t, r, "valid token", "alice", "uid-1", "dev", "ops", "system:authenticated")
	if r.echo.AuthHeader != "" {
		t.Errorf("Authorization header passed on: %q", r.echo.AuthHeader)
	}
	wantUser(t, env.do(t, "/api", "bearer   tok-bob", nil), "lower-case scheme, spaces", "bob", "uid-2", "system:authenticated")
	wantUser(t, env.do(t, "/api", "Bearer tok-carol", nil), "CRLF line", "carol", "uid-3", "team-a", "system:authenticated")
	wantUnauthorized(t, env.do(t, "/api", "Bearer tok-alicex", nil), "invalid token")
	wantUnauthorized(t, env.do(t, "/api", "Bearer tok-alic", nil), "token prefix")
	wantUnauthorized(t, env.do(t, "/api", "", nil), "missing token")
	wantUnauthorized(t, env.do(t, "/api", "Basic dXNlcjpwYXNz", nil), "basic auth")
	wantUnauthorized(t, env.do(t, "/api", "Bearer ", nil), "empty bearer")
	wantUnauthorized(t, env.do(t, "/healthz", "Bearer wrong", nil), "invalid token on /healthz")
}

func TestAnonymousPaths(t *testing.T) {
	env := newEnv(t)
	for _, p := range []string{"/healthz", "/livez", "/readyz", "/version", "/version/"} {
		wantUser(t, env.do(t, p, "", nil), p, "system:anonymous", "", "system:unauthenticated")
	}
	for _, p := range []string{"/healthz/etcd", "/readyzz", "/api", "/", "/apis/apps/v1"} {
		wantUnauthorized(t, env.do(t, p, "", nil), p)
	}
	// Credentials on an anonymous path authenticate normally.
	wantUser(t, env.do(t, "/healthz", "Bearer tok-bob", nil), "token on /healthz", "bob", "uid-2", "system:authenticated")
}

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func bearer(token string) *http.Request {
	r := httptest.NewRequest("GET", "/api", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	return r
}

func authAs(t *testing.T, a Authenticator, token string) (string, error) {
	t.Helper()
	u, ok, err := a.AuthenticateRequest(bearer(token))
	if err != nil {
		return "", err
	}
	if !ok {
		t.Fatalf("token %q: not recognised as a credential", token)
	}
	return u.Name, nil
}

func TestTokenFileReload(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens.csv")
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	writeFile(t, path, "old,olduser,1\n", base)
	clock := &fakeClock{t: time.Now()}
	a, err := newTokenFile(path, clock.now)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := authAs(t, a, "old"); err != nil || n != "olduser" {
		t.Fatalf("old token: %q %v", n, err)
	}

	// Changed file, but less than a second later: not looked at yet.
	writeFile(t, path, "new,newuser,2\n", base.Add(time.Second))
	clock.add(500 * time.Millisecond)
	if _, err := authAs(t, a, "old"); err != nil {
		t.Fatalf("reloaded within a second: %v", err)
	}

	// A second later it is reloaded: new token in, old token out.
	clock.add(600 * time.Millisecond)
	if n, err := authAs(t, a, "new"); err != nil || n != "newuser" {
		t.Fatalf("new token after reload: %q %v", n, err)
	}
	if _, err := authAs(t, a, "old"); !errors.Is(err, errInvalidToken) {
		t.Fatalf("old token after reload: %v", err)
	}

	// Same size, same mtime, different content: undetectable by design
	// once the mtime is old; but a file whose mtime is recent is re-read
	// (same-second rewrites on coarse-mtime filesystems).
	recent := clock.now()
	writeFile(t, path, "abc,abcuser,3\n", recent)
	clock.add(1100 * time.Millisecond)
	if n, err := authAs(t, a, "abc"); err != nil || n != "abcuser" {
		t.Fatalf("abc: %q %v", n, err)
	}
	writeFile(t, path, "xyz,xyzuser,3\n", recent) // same size, same mtime
	clock.add(1100 * time.Millisecond)
	if n, err := authAs(t, a, "xyz"); err != nil || n != "xyzuser" {
		t.Fatalf("same-mtime rewrite not picked up: %q %v", n, err)
	}

	// A broken file keeps the previous tokens.
	writeFile(t, path, "only-two,columns\n", base.Add(3*time.Second))
	clock.add(2 * time.Second)
	if n, err := authAs(t, a, "xyz"); err != nil || n != "xyzuser" {
		t.Fatalf("broken file dropped tokens: %q %v", n, err)
	}
	// ... and is retried once fixed, even with the same mtime.
	writeFile(t, path, "fixed,fixeduser,4\n", base.Add(3*time.Second))
	clock.add(2 * time.Second)
	if n, err := authAs(t, a, "fixed"); err != nil || n != "fixeduser" {
		t.Fatalf("fixed file not loaded: %q %v", n, err)
	}

	// A removed file accepts nothing; it comes back when the file does.
	os.Remove(path)
	clock.add(2 * time.Second)
	if _, err := authAs(t, a, "fixed"); !errors.Is(err, errInvalidToken) {
		t.Fatalf("token still accepted after file removal: %v", err)
	}
	writeFile(t, path, "fixed,fixeduser,4\n", base.Add(3*time.Second))
	clock.add(2 * time.Second)
	if n, err := authAs(t, a, "fixed"); err != nil || n != "fixeduser" {
		t.Fatalf("restored file not loaded: %q %v", n, err)
	}
}

func TestTokenFileReloadRealClock(t *testing.T) {
	if testing.Short() {
		t.Skip("sleeps")
	}
	path := filepath.Join(t.TempDir(), "tokens.csv")
	writeFile(t, path, "one,u1,1\n", time.Now().Add(-time.Minute))
	a, err := LoadTokenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("two,u2,2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1100 * time.Millisecond)
	if n, err := authAs(t, a, "two"); err != nil || n != "u2" {
		t.Fatalf("after change: %q %v", n, err)
	}
}

func TestTokenFileParsing(t *testing.T) {
	dir := t.TempDir()
	load := func(data string) (Authenticator, error) {
		p := filepath.Join(dir, "t.csv")
		writeFile(t, p, data, time.Now().Add(-time.Hour))
		return LoadTokenFile(p)
	}
	a, err := load("dup,first,1\n,empty,0\ndup,second,2,\"a, b,,c\"\n")
	if err != nil {
		t.Fatal(err)
	}
	u, ok, err := a.AuthenticateRequest(bearer("dup"))
	if err != nil || !ok || u.Name != "second" || u.UID != "2" || !slices.Equal(u.Groups, []string{"a", "b", "c"}) {
		t.Fatalf("dup: %+v %v %v", u, ok, err)
	}
	if _, ok, err := a.AuthenticateRequest(bearer("")); ok || err != nil {
		t.Fatalf("empty bearer token: ok=%v err=%v", ok, err)
	}
	// Returned users are copies.
	u.Groups[0] = "mutated"
	u2, _, _ := a.AuthenticateRequest(bearer("dup"))
	if u2.Groups[0] != "a" {
		t.Fatal("authenticator handed out shared user")
	}

	for _, bad := range []string{"tok,user\n", "tok,,uid\n", "tok,\"unterminated,uid\n"} {
		if _, err := load(bad); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
	if _, err := LoadTokenFile(filepath.Join(dir, "missing.csv")); err == nil {
		t.Error("missing file accepted")
	}
	if a, err := load("# only comments\n\n"); err != nil {
		t.Fatal(err)
	} else if _, ok, err := a.AuthenticateRequest(httptest.NewRequest("GET", "/", nil)); ok || err != nil {
		t.Fatalf("no header: ok=%v err=%v", ok, err)
	}
}

func TestMiddlewareGroups(t *testing.T) {
	shared := &User{Name: "u", Groups: []string{"g"}}
	var got *User
	capture := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { got, _ = UserFrom(r.Context()) })
	run := func(u *User) *User {
		got = nil
		a := AuthenticatorFunc(func(*http.Request) (*User, bool, error) { return u, true, nil })
		Middleware(a, nil, capture).ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))
		return got
	}
	if u := run(shared); !slices.Equal(u.Groups, []string{"g", AllAuthenticated}) {
		t.Fatalf("groups %v", u.Groups)
	}
	if !slices.Equal(shared.Groups, []string{"g"}) {
		t.Fatal("middleware mutated the authenticator's user")
	}
	if u := run(&User{Name: "v", Groups: []string{AllAuthenticated, "x"}}); !slices.Equal(u.Groups, []string{AllAuthenticated, "x"}) {
		t.Fatalf("duplicate group added: %v", u.Groups)
	}
	if u := run(&User{Name: Anonymous, Groups: []string{AllUnauthenticated}}); slices.Contains(u.Groups, AllAuthenticated) {
		t.Fatalf("anonymous got %v", u.Groups)
	}

	// Prefix patterns.
	none := AuthenticatorFunc(func(*http.Request) (*User, bool, error) { return nil, false, nil })
	h := Middleware(none, []string{"/healthz", "/livez/*"}, capture)
	for path, want := range map[string]int{"/healthz": 200, "/livez/ping": 200, "/livez": 401, "/healthz/x": 401} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		if rec.Code != want {
			t.Errorf("%s: %d, want %d", path, rec.Code, want)
		}
	}
}

func TestUnionErrors(t *testing.T) {
	e1, e2 := errors.New("one"), errors.New("two")
	fail := func(e error) Authenticator {
		return AuthenticatorFunc(func(*http.Request) (*User, bool, error) { return nil, false, e })
	}
	none := AuthenticatorFunc(func(*http.Request) (*User, bool, error) { return nil, false, nil })
	r := httptest.NewRequest("GET", "/", nil)
	if _, ok, err := Union(fail(e1), none, fail(e2)).AuthenticateRequest(r); ok || !errors.Is(err, e1) || !errors.Is(err, e2) {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if _, ok, err := Union(none, none).AuthenticateRequest(r); ok || err != nil {
		t.Fatalf("ok=%v err=%v", ok, err)
	}
	if _, ok, err := Union().AuthenticateRequest(r); ok || err != nil {
		t.Fatalf("empty union: ok=%v err=%v", ok, err)
	}
}

func TestGenerateToken(t *testing.T) {
	a, b := GenerateToken(), GenerateToken()
	if len(a) != 64 || a == b {
		t.Fatalf("tokens %q %q", a, b)
	}
	if _, err := hex.DecodeString(a); err != nil {
		t.Fatal(err)
	}
}

func TestUserContext(t *testing.T) {
	if _, ok := UserFrom(context.Background()); ok {
		t.Fatal("user in empty context")
	}
	u := &User{Name: "x", Groups: []string{"a"}, Extra: map[string][]string{"k": {"v"}}}
	got, ok := UserFrom(WithUser(context.Background(), u))
	if !ok || got != u || !got.InGroup("a") || got.InGroup("b") {
		t.Fatal("WithUser/UserFrom round trip")
	}
	c := u.Clone()
	c.Extra["k"][0] = "changed"
	if u.Extra["k"][0] != "v" {
		t.Fatal("Clone shares Extra")
	}
}
