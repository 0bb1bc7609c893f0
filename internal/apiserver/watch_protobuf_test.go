package apiserver

import (
	"context"
	"net/http"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// protobufClient is a clientset that asks for protobuf, as Kubernetes' own components do.
func protobufClient(t *testing.T, ts *testServer) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(&rest.Config{Host: ts.http.URL, ContentConfig: rest.ContentConfig{
		ContentType:        mediaProtobuf,
		AcceptContentTypes: mediaProtobuf + ",application/json",
	}})
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func nextEvent(t *testing.T, w watch.Interface) watch.Event {
	t.Helper()
	select {
	case ev, ok := <-w.ResultChan():
		if !ok {
			t.Fatal("watch closed")
		}
		return ev
	case <-time.After(10 * time.Second):
		t.Fatal("no watch event within 10s")
	}
	return watch.Event{}
}

func TestProtobufWatchStream(t *testing.T) {
	ts := newTestServer(t)
	ctx := context.Background()

	// The stream's content type is protobuf's stream=watch form.
	req, _ := http.NewRequest("GET", ts.http.URL+"/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1", nil)
	req.Header.Set("Accept", "application/vnd.kubernetes.protobuf;stream=watch")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/vnd.kubernetes.protobuf;stream=watch" {
		t.Fatalf("Content-Type %q, want application/vnd.kubernetes.protobuf;stream=watch", ct)
	}

	cs := protobufClient(t, ts)
	cms := cs.CoreV1().ConfigMaps("default")
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "p1"}, Data: map[string]string{"k": "v"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	send := true
	w, err := cms.Watch(ctx, metav1.ListOptions{SendInitialEvents: &send, ResourceVersionMatch: metav1.ResourceVersionMatchNotOlderThan, AllowWatchBookmarks: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Stop()
	if ev := nextEvent(t, w); ev.Type != watch.Added || ev.Object.(*corev1.ConfigMap).Data["k"] != "v" {
		t.Fatalf("initial event: %v %#v", ev.Type, ev.Object)
	}
	if ev := nextEvent(t, w); ev.Type != watch.Bookmark || ev.Object.(*corev1.ConfigMap).Annotations[metav1.InitialEventsAnnotationKey] != "true" {
		t.Fatalf("initial-events-end bookmark: %v %#v", ev.Type, ev.Object)
	}
	if _, err := cms.Update(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "p1"}, Data: map[string]string{"k": "v2"}}, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Type != watch.Modified || ev.Object.(*corev1.ConfigMap).Data["k"] != "v2" {
		t.Fatalf("after update: %v %#v", ev.Type, ev.Object)
	}
	if err := cms.Delete(ctx, "p1", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if ev := nextEvent(t, w); ev.Type != watch.Deleted || ev.Object.(*corev1.ConfigMap).Name != "p1" {
		t.Fatalf("after delete: %v %#v", ev.Type, ev.Object)
	}

	// A watch from a compacted revision gets the 410 Expired Status as an ERROR event.
	old, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "p2"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cms.Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "p3"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rev, err := ts.etcd.Get(ctx, "/registry/", clientv3.WithPrefix(), clientv3.WithCountOnly())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.etcd.Compact(ctx, rev.Header.Revision); err != nil {
		t.Fatal(err)
	}
	w2, err := cms.Watch(ctx, metav1.ListOptions{ResourceVersion: old.ResourceVersion})
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Stop()
	ev := nextEvent(t, w2)
	st, ok := ev.Object.(*metav1.Status)
	if ev.Type != watch.Error || !ok || st.Code != 410 || st.Reason != metav1.StatusReasonExpired {
		t.Fatalf("watch from a compacted revision: %v %#v", ev.Type, ev.Object)
	}
}
