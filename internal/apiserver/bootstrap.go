package apiserver

import (
	"context"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// SystemNamespaces exist on every cluster.
var SystemNamespaces = []string{"default", "kube-system", "kube-public", "kube-node-lease"}

// bootstrap repairs the ClusterIP and NodePort bitmaps and creates the objects every cluster has, retrying until storage answers.
func (s *APIServer) bootstrap(ctx context.Context) error {
	var err error
	for attempt := 0; ; attempt++ {
		if err = s.bootstrapOnce(ctx); err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s.log.Warn("apiserver: bootstrap retry", "err", err)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func (s *APIServer) bootstrapOnce(ctx context.Context) error {
	svcRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("services")]
	if err := s.repairAllocations(ctx); err != nil {
		return fmt.Errorf("repair allocations: %w", err)
	}

	nsRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("namespaces")]
	wo := writeOptions{manager: "kube-apiserver"}
	for _, name := range SystemNamespaces {
		ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
		if _, err := s.store.Get(ctx, nsRes.keys.Key("", name), nsRes.New); err == nil {
			continue
		}
		if _, err := s.createObject(ctx, nsRes, "", ns, wo, false); err != nil && !isAlreadyExists(err) {
			return fmt.Errorf("namespace %s: %w", name, err)
		}
	}
	if err := s.bootstrapPriorityClasses(ctx); err != nil {
		return err
	}
	if err := s.bootstrapRBAC(ctx); err != nil {
		return err
	}
	if err := s.bootstrapFlowControl(ctx); err != nil {
		return err
	}
	port := int32(s.cfg.SecurePort)
	if port == 0 {
		port = 6443
	}
	svc := &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"component": "apiserver", "provider": "kubernetes"}},
		Spec: corev1.ServiceSpec{
			ClusterIP: s.ipAlloc.First().String(),
			Ports: []corev1.ServicePort{{Name: "https", Port: 443, Protocol: corev1.ProtocolTCP,
				TargetPort: intstr.FromInt32(port)}},
			SessionAffinity: corev1.ServiceAffinityNone,
			Type:            corev1.ServiceTypeClusterIP,
		},
	}
	if _, err := s.store.Get(ctx, svcRes.keys.Key("default", "kubernetes"), svcRes.New); err == nil {
		// exists
	} else if _, err := s.createObject(ctx, svcRes, "default", svc, wo, false); err != nil && !isAlreadyExists(err) {
		return fmt.Errorf("kubernetes service: %w", err)
	}
	if a := s.cfg.AdvertiseAddress; a != nil && !a.IsLoopback() && !a.IsUnspecified() {
		// Endpoints may not point at loopback; without a routable address the Service has no endpoints.
		if err := s.reconcileKubernetesEndpoints(ctx, port); err != nil {
			if apierrors.IsInvalid(toAPIError(err, namespacesGR, "")) {
				s.log.Warn("apiserver: kubernetes endpoints refused", "err", err)
				return nil
			}
			return err
		}
	}
	return nil
}

// reconcileKubernetesEndpoints points the kubernetes Service at this server, as kube-apiserver's endpoint reconciler does.
func (s *APIServer) reconcileKubernetesEndpoints(ctx context.Context, port int32) error {
	ip := s.cfg.AdvertiseAddress.String()
	epRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("endpoints")]
	ep := &corev1.Endpoints{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{"endpointslice.kubernetes.io/skip-mirror": "true"}},
		Subsets: []corev1.EndpointSubset{{
			Addresses: []corev1.EndpointAddress{{IP: ip}},
			Ports:     []corev1.EndpointPort{{Name: "https", Port: port, Protocol: corev1.ProtocolTCP}},
		}},
	}
	if err := s.upsert(ctx, epRes, ep, func(cur runtime.Object) runtime.Object {
		c := cur.(*corev1.Endpoints)
		c.Subsets = ep.Subsets
		return c
	}); err != nil {
		return fmt.Errorf("kubernetes endpoints: %w", err)
	}
	esRes := s.byGVR[discoveryv1.SchemeGroupVersion.WithResource("endpointslices")]
	es := &discoveryv1.EndpointSlice{
		ObjectMeta: metav1.ObjectMeta{Name: "kubernetes", Namespace: "default",
			Labels: map[string]string{discoveryv1.LabelServiceName: "kubernetes", discoveryv1.LabelManagedBy: "endpoint-controller.k8s.io"}},
		AddressType: discoveryv1.AddressTypeIPv4,
		Endpoints:   []discoveryv1.Endpoint{{Addresses: []string{ip}, Conditions: discoveryv1.EndpointConditions{Ready: ptr.To(true)}}},
		Ports:       []discoveryv1.EndpointPort{{Name: ptr.To("https"), Port: ptr.To(port), Protocol: ptr.To(corev1.ProtocolTCP)}},
	}
	if err := s.upsert(ctx, esRes, es, func(cur runtime.Object) runtime.Object {
		c := cur.(*discoveryv1.EndpointSlice)
		c.Endpoints, c.Ports = es.Endpoints, es.Ports
		return c
	}); err != nil {
		return fmt.Errorf("kubernetes endpointslice: %w", err)
	}
	return nil
}

func (s *APIServer) upsert(ctx context.Context, res *resource, obj runtime.Object, change func(cur runtime.Object) runtime.Object) error {
	m := accessor(obj)
	wo := writeOptions{manager: "kube-apiserver", skipFields: true}
	_, err := s.createObject(ctx, res, m.GetNamespace(), obj.DeepCopyObject(), wo, false)
	if err == nil || !isAlreadyExists(err) {
		return err
	}
	_, err = s.updateObject(ctx, res, m.GetNamespace(), m.GetName(), "", wo, func(cur runtime.Object) (runtime.Object, error) {
		return change(cur), nil
	})
	return err
}

func isAlreadyExists(err error) bool {
	return apierrors.IsAlreadyExists(toAPIError(err, namespacesGR, ""))
}

func isNotFound(err error) bool {
	return apierrors.IsNotFound(toAPIError(err, namespacesGR, ""))
}
