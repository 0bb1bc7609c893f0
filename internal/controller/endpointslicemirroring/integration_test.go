package endpointslicemirroring_test

// Integration test of the EndpointSliceMirroring controller: the real `skiff server` (built from ./cmd/skiff, or
// $SKIFF_BIN) run with --disable-agent, whose controller manager runs the controller from its registry. It replays
// the upstream conformance spec "[sig-network] EndpointSliceMirroring should mirror a custom Endpoints resource
// through create update and delete", then checks that a Service gaining a selector loses the mirrored slice. Waits
// poll with deadlines; nothing sleeps for a fixed time.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller/controllertest"
	"github.com/skiff-sh/skiff/internal/controller/endpointslicemirroring"
	"github.com/skiff-sh/skiff/internal/controller/manager"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
)

const waitFor = 60 * time.Second

func TestMain(m *testing.M) { controllertest.Main(m) }

// eventually polls cond until it holds or waitFor passes; cond's last description and error are reported.
func eventually(t *testing.T, what string, cond func(ctx context.Context) (bool, string, error)) {
	t.Helper()
	var last string
	var lastErr error
	err := wait.PollUntilContextTimeout(context.Background(), 100*time.Millisecond, waitFor, true, func(ctx context.Context) (bool, error) {
		ok, state, err := cond(ctx)
		last, lastErr = state, err
		return err == nil && ok, nil
	})
	if err != nil {
		t.Fatalf("%s: not within %v; last seen: %s (error %v)", what, waitFor, last, lastErr)
	}
}

// slicesOf lists the slices labelled with service name svc and renders them.
func slicesOf(ctx context.Context, client kubernetes.Interface, ns, svc string) ([]discoveryv1.EndpointSlice, string, error) {
	list, err := client.DiscoveryV1().EndpointSlices(ns).List(ctx, metav1.ListOptions{LabelSelector: discoveryv1.LabelServiceName + "=" + svc})
	if err != nil {
		return nil, "", err
	}
	var out string
	for _, s := range list.Items {
		out += fmt.Sprintf("[%s %s labels=%v ports=%d endpoints=%+v] ", s.Name, s.AddressType, s.Labels, len(s.Ports), s.Endpoints)
	}
	return list.Items, out, nil
}

// mirrors reports whether slices is exactly one mirrored slice of port 80 with the single address ip.
func mirrors(slices []discoveryv1.EndpointSlice, ip string) bool {
	if len(slices) != 1 {
		return false
	}
	s := slices[0]
	return s.Labels[discoveryv1.LabelManagedBy] == endpointslicemirroring.ControllerName && s.AddressType == discoveryv1.AddressTypeIPv4 &&
		len(s.Ports) == 1 && ptr.Deref(s.Ports[0].Port, 0) == 80 &&
		len(s.Endpoints) == 1 && len(s.Endpoints[0].Addresses) == 1 && s.Endpoints[0].Addresses[0] == ip &&
		ptr.Deref(s.Endpoints[0].Conditions.Ready, false)
}

func TestMirrorCustomEndpoints(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	registered := false
	for _, r := range manager.Controllers {
		registered = registered || r.Name == endpointslicemirroring.Name
	}
	if !registered {
		t.Skip("the manager's registry lacks the endpointslicemirroring controller")
	}
	srv := controllertest.StartServer(t, controllertest.ServerOptions{})
	client := srv.Client
	ctx := context.Background()
	const ns = "mirror-it"
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	svc, err := client.CoreV1().Services(ns).Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "example-custom-endpoints"},
		Spec:       corev1.ServiceSpec{Ports: []corev1.ServicePort{{Name: "example", Port: 80, Protocol: corev1.ProtocolTCP}}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// As the conformance spec, the Endpoints object is created and then updated from the same local copy (no
	// resourceVersion: an unconditional update).
	endpoints := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: svc.Name, Labels: map[string]string{"team": "data"}},
		Subsets:    []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 80}}, Addresses: []corev1.EndpointAddress{{IP: "10.1.2.3"}}}},
	}

	t.Run("create", func(t *testing.T) {
		created, err := client.CoreV1().Endpoints(ns).Create(ctx, endpoints, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "a mirrored slice of 10.1.2.3:80", func(ctx context.Context) (bool, string, error) {
			slices, state, err := slicesOf(ctx, client, ns, svc.Name)
			return err == nil && mirrors(slices, "10.1.2.3"), state, err
		})
		slices, _, err := slicesOf(ctx, client, ns, svc.Name)
		if err != nil {
			t.Fatal(err)
		}
		s := slices[0]
		if s.Labels["team"] != "data" || s.Labels[discoveryv1.LabelServiceName] != svc.Name {
			t.Errorf("labels %v: want the Endpoints' labels and the service name", s.Labels)
		}
		if len(s.OwnerReferences) != 1 || s.OwnerReferences[0].Kind != "Endpoints" || s.OwnerReferences[0].UID != created.UID {
			t.Errorf("owner references %+v: want the Endpoints object (uid %s)", s.OwnerReferences, created.UID)
		}
		if ptr.Deref(s.Ports[0].Protocol, "") != corev1.ProtocolTCP {
			t.Errorf("port protocol %v, want the defaulted TCP", ptr.Deref(s.Ports[0].Protocol, ""))
		}
	})

	t.Run("update", func(t *testing.T) {
		endpoints.Subsets[0].Addresses = []corev1.EndpointAddress{{IP: "10.2.3.4"}}
		if _, err := client.CoreV1().Endpoints(ns).Update(ctx, endpoints, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "the slice updated to 10.2.3.4", func(ctx context.Context) (bool, string, error) {
			slices, state, err := slicesOf(ctx, client, ns, svc.Name)
			return err == nil && mirrors(slices, "10.2.3.4"), state, err
		})
	})

	t.Run("delete", func(t *testing.T) {
		if err := client.CoreV1().Endpoints(ns).Delete(ctx, endpoints.Name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "no slice left", func(ctx context.Context) (bool, string, error) {
			slices, state, err := slicesOf(ctx, client, ns, svc.Name)
			return err == nil && len(slices) == 0, state, err
		})
	})

	t.Run("Service gains a selector", func(t *testing.T) {
		eps := &corev1.Endpoints{
			ObjectMeta: metav1.ObjectMeta{Name: svc.Name},
			Subsets:    []corev1.EndpointSubset{{Ports: []corev1.EndpointPort{{Port: 80}}, Addresses: []corev1.EndpointAddress{{IP: "10.3.4.5"}}}},
		}
		if _, err := client.CoreV1().Endpoints(ns).Create(ctx, eps, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		eventually(t, "a mirrored slice of 10.3.4.5:80", func(ctx context.Context) (bool, string, error) {
			slices, state, err := slicesOf(ctx, client, ns, svc.Name)
			return err == nil && mirrors(slices, "10.3.4.5"), state, err
		})
		cur, err := client.CoreV1().Services(ns).Get(ctx, svc.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		cur.Spec.Selector = map[string]string{"app": "nothing-matches"}
		if _, err := client.CoreV1().Services(ns).Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
			t.Fatal(err)
		}
		// The EndpointSlice controller now owns the Service's slices: no mirrored one is left.
		eventually(t, "no mirrored slice left", func(ctx context.Context) (bool, string, error) {
			slices, state, err := slicesOf(ctx, client, ns, svc.Name)
			if err != nil {
				return false, state, err
			}
			for _, s := range slices {
				if s.Labels[discoveryv1.LabelManagedBy] == endpointslicemirroring.ControllerName {
					return false, state, nil
				}
			}
			return true, state, nil
		})
	})
}
