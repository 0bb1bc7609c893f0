package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// firstPods times, FirstPodRuns times on one data directory (the first start fresh, then restarts), process start →
// the first pod Running on the server's own node: the whole single-machine cluster coming up, as a user who runs
// `skiff server` and then `kubectl run` sees it. The server runs with its agent (kubelet, containerd), so the
// configured ExtraArgs must not disable it; image tarballs from ImagesDir are put in the data directory's air-gap
// directory before the first start.
func firstPods(ctx context.Context, cfg ColdStartConfig, dir string, rec *Recorder) error {
	if err := copyTarballs(cfg.ImagesDir, filepath.Join(dir, "images")); err != nil {
		return err
	}
	for i := range cfg.FirstPodRuns {
		op := "first-pod-running-restart"
		if i == 0 {
			op = "first-pod-running-fresh"
		}
		d, err := firstPod(ctx, cfg, dir, fmt.Sprintf("first-pod-%02d", i))
		if err != nil {
			return fmt.Errorf("first pod, run %d: %w", i, err)
		}
		rec.Add(op, 0, d, nil)
	}
	return nil
}

// firstPod starts the server on dir, creates pod name in the default namespace and returns process start → the pod
// Running. It deletes the pod (and waits for it to go) before stopping the server, so no container outlives the run.
func firstPod(ctx context.Context, cfg ColdStartConfig, dir, name string) (time.Duration, error) {
	srv, err := startServer(ctx, cfg, dir)
	if err != nil {
		return 0, err
	}
	defer func() { _ = srv.stop() }()
	rc, err := clientcmd.BuildConfigFromFlags("", filepath.Join(dir, "admin.kubeconfig"))
	if err != nil {
		return 0, fmt.Errorf("admin kubeconfig: %w", err)
	}
	cs, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return 0, err
	}
	clk := cfg.Clock
	pods := cs.CoreV1().Pods(metav1.NamespaceDefault)
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name}, Spec: podSpec(cfg.Image, 0)}
	deadline := srv.started.Add(cfg.Timeout)
	poll := func(what string, done func() (bool, error)) error {
		for {
			ok, err := done()
			if err != nil {
				return err
			}
			if ok {
				return nil
			}
			if clk.Now().After(deadline) {
				return fmt.Errorf("%s: not within %s of process start", what, cfg.Timeout)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-clk.After(10 * time.Millisecond):
			}
		}
	}
	// The default namespace is made right after the server becomes ready; retry until it exists.
	err = poll("create pod", func() (bool, error) {
		_, err := pods.Create(ctx, pod, metav1.CreateOptions{})
		if apierrors.IsNotFound(err) {
			return false, nil
		}
		return err == nil, err
	})
	if err != nil {
		return 0, err
	}
	var running time.Duration
	err = poll("pod Running", func() (bool, error) {
		p, err := pods.Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		if p.Status.Phase == corev1.PodFailed {
			return false, fmt.Errorf("pod failed: %s %s", p.Status.Reason, p.Status.Message)
		}
		if p.Status.Phase == corev1.PodRunning {
			running = clk.Since(srv.started)
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return 0, err
	}
	zero := int64(0)
	if err := pods.Delete(ctx, name, metav1.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !apierrors.IsNotFound(err) {
		return running, fmt.Errorf("delete pod: %w", err)
	}
	deadline = clk.Now().Add(60 * time.Second)
	err = poll("pod deleted", func() (bool, error) {
		_, err := pods.Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return true, nil
		}
		return false, err
	})
	return running, err
}

// copyTarballs copies the *.tar files of src into dst (created if missing); an empty src copies nothing.
func copyTarballs(src, dst string) error {
	if src == "" {
		return nil
	}
	files, err := filepath.Glob(filepath.Join(src, "*.tar"))
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return errors.New("bench: no image tarballs (*.tar) in " + src)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	for _, f := range files {
		if err := copyFile(f, filepath.Join(dst, filepath.Base(f))); err != nil {
			return fmt.Errorf("copy image %s: %w", f, err)
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
