package kubelet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/clock"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/utils/ptr"
)

func TestTokenRefreshAt(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name    string
		expires time.Duration
		want    time.Duration
	}{
		{"one hour: at 80%", time.Hour, 48 * time.Minute},
		{"ten minutes", 10 * time.Minute, 8 * time.Minute},
		{"a year (extended pod token): after 24h", 365 * 24 * time.Hour, 24 * time.Hour},
	} {
		if got := tokenRefreshAt(start, start.Add(tc.expires)); !got.Equal(start.Add(tc.want)) {
			t.Errorf("%s: refresh at %v, want %v", tc.name, got.Sub(start), tc.want)
		}
	}
}

// TestServiceAccountTokenReused checks that a projected token is asked for once and reused until it is due for
// refresh, and that a failed refresh keeps the previous token.
func TestServiceAccountTokenReused(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clk := clock.NewFake(start)
	cs := fake.NewSimpleClientset()
	issued, fail := 0, false
	cs.PrependReactor("create", "serviceaccounts", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "token" {
			return false, nil, nil
		}
		if fail {
			return true, nil, errors.New("apiserver down")
		}
		issued++
		req := a.(k8stesting.CreateAction).GetObject().(*authenticationv1.TokenRequest)
		exp := clk.Now().Add(time.Duration(*req.Spec.ExpirationSeconds) * time.Second)
		return true, &authenticationv1.TokenRequest{Status: authenticationv1.TokenRequestStatus{
			Token: fmt.Sprintf("token-%d", issued), ExpirationTimestamp: metav1.NewTime(exp)}}, nil
	})
	k := &Kubelet{cs: cs, clock: clk, log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	w := &podWorker{k: k}
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Namespace: "ns", UID: "u1"}}
	src := &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To(int64(3600))}
	get := func() string { return string(w.serviceAccountToken(context.Background(), pod, src)) }

	steps := []struct {
		advance time.Duration
		fail    bool
		want    string
	}{
		{0, false, "token-1"},
		{30 * time.Minute, false, "token-1"},
		{17 * time.Minute, false, "token-1"}, // 47 min: before 80% of the hour
		{2 * time.Minute, true, "token-1"},   // 49 min: due, but the API fails: keep the old one
		{time.Minute, false, "token-2"},      // 50 min: due, issued anew
		{time.Minute, false, "token-2"},
	}
	for i, s := range steps {
		clk.Step(s.advance)
		fail = s.fail
		if got := get(); got != s.want {
			t.Fatalf("step %d (%v): token %q, want %q", i, clk.Now().Sub(start), got, s.want)
		}
	}
	if issued != 2 {
		t.Errorf("issued %d tokens, want 2", issued)
	}
	// Another audience is another token.
	src2 := &corev1.ServiceAccountTokenProjection{Path: "vault", Audience: "vault", ExpirationSeconds: ptr.To(int64(3600))}
	if got := string(w.serviceAccountToken(context.Background(), pod, src2)); got != "token-3" {
		t.Errorf("token for another audience = %q, want token-3", got)
	}
}
