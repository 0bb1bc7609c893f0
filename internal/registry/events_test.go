package registry

import (
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestEventConversionMapsFieldsAndRoundTrips(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	core := &corev1.Event{
		ObjectMeta:          metav1.ObjectMeta{Name: "e", Namespace: "default", Labels: map[string]string{"a": "b"}, ResourceVersion: "7"},
		InvolvedObject:      corev1.ObjectReference{Kind: "Pod", Namespace: "default", Name: "web", UID: "u"},
		Reason:              "Pulled",
		Message:             "pulled",
		Source:              corev1.EventSource{Component: "kubelet", Host: "n1"},
		FirstTimestamp:      metav1.NewTime(now),
		LastTimestamp:       metav1.NewTime(now.Add(time.Minute)),
		Count:               3,
		Type:                corev1.EventTypeWarning,
		EventTime:           metav1.NewMicroTime(now),
		Series:              &corev1.EventSeries{Count: 2, LastObservedTime: metav1.NewMicroTime(now)},
		Action:              "Pulling",
		Related:             &corev1.ObjectReference{Kind: "Node", Name: "n1"},
		ReportingController: "kubelet",
		ReportingInstance:   "n1",
	}
	v1 := EventToV1(core).(*eventsv1.Event)
	want := &eventsv1.Event{
		ObjectMeta: core.ObjectMeta, EventTime: core.EventTime, ReportingController: "kubelet", ReportingInstance: "n1",
		Action: "Pulling", Reason: "Pulled", Regarding: core.InvolvedObject, Related: core.Related, Note: "pulled",
		Type: corev1.EventTypeWarning, DeprecatedSource: core.Source, DeprecatedFirstTimestamp: core.FirstTimestamp,
		DeprecatedLastTimestamp: core.LastTimestamp, DeprecatedCount: 3,
		Series: &eventsv1.EventSeries{Count: 2, LastObservedTime: core.Series.LastObservedTime},
	}
	if !equality.Semantic.DeepEqual(v1, want) {
		t.Fatalf("EventToV1:\n got %+v\nwant %+v", v1, want)
	}
	if back := EventFromV1(v1); !equality.Semantic.DeepEqual(back, core) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", back, core)
	}
	v1.Labels["a"] = "changed"
	if core.Labels["a"] != "b" {
		t.Fatal("EventToV1 shares maps with its input")
	}
}
