package apiserver

import (
	"context"
	"fmt"
	"net/http"

	"github.com/skiff-sh/skiff/internal/validation"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func (s *APIServer) serveSubresource(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) {
	gr := res.GroupResource()
	var err error
	switch {
	case ri.Subresource == "status" && res.Status:
		switch ri.Verb {
		case "get":
			err = s.get(w, r, ri, res)
		case "update":
			err = s.updateStatus(w, r, ri, res)
		case "patch":
			err = s.patch(w, r, ri, res, "status")
		default:
			err = apierrors.NewMethodNotSupported(gr, r.Method)
		}
	case ri.Subresource == "scale" && res.Scale:
		switch ri.Verb {
		case "get":
			err = s.getScale(w, r, ri, res)
		case "update":
			err = s.updateScale(w, r, ri, res)
		case "patch":
			err = s.patchScale(w, r, ri, res)
		default:
			err = apierrors.NewMethodNotSupported(gr, r.Method)
		}
	case ri.Subresource == "binding" && res.Kind == "Pod" && ri.Verb == "create":
		err = s.bindPod(w, r, ri.Namespace, ri.Name)
	case ri.Subresource == "eviction" && res.Kind == "Pod" && ri.Verb == "create":
		err = s.evictPod(w, r, ri, res)
	case ri.Subresource == "finalize" && res.Kind == "Namespace" && ri.Verb == "update":
		err = s.finalizeNamespace(w, r, ri, res)
	default:
		err = apierrors.NewNotFound(gr, ri.Name)
		if hook := s.subresourceHook; hook != nil && hook(w, r, ri) {
			return
		}
	}
	if err != nil {
		s.writeError(w, r, err, gr, ri.Name)
	}
}

func (s *APIServer) updateStatus(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(w, r, data, res.New(), res.GVK())
	if err != nil {
		return err
	}
	if m := accessor(obj); m.GetName() != ri.Name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), ri.Name)
	}
	out, err := s.updateObject(r.Context(), res, ri.Namespace, ri.Name, "status", wo, func(cur runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	})
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
}

// scaleOf returns the autoscaling/v1 Scale view of a scalable object.
func scaleOf(obj runtime.Object) (*autoscalingv1.Scale, error) {
	var replicas, statusReplicas int32
	var sel *metav1.LabelSelector
	switch o := obj.(type) {
	case *appsv1.Deployment:
		replicas, statusReplicas, sel = deref(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector
	case *appsv1.ReplicaSet:
		replicas, statusReplicas, sel = deref(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector
	case *appsv1.StatefulSet:
		replicas, statusReplicas, sel = deref(o.Spec.Replicas), o.Status.Replicas, o.Spec.Selector
	case *corev1.ReplicationController:
		replicas, statusReplicas = deref(o.Spec.Replicas), o.Status.Replicas
		sel = &metav1.LabelSelector{MatchLabels: o.Spec.Selector}
	default:
		return nil, fmt.Errorf("%T has no scale subresource", obj)
	}
	m := accessor(obj)
	selector := ""
	if sel != nil {
		if ls, err := metav1.LabelSelectorAsSelector(sel); err == nil {
			selector = ls.String()
		}
	}
	return &autoscalingv1.Scale{
		TypeMeta: metav1.TypeMeta{APIVersion: "autoscaling/v1", Kind: "Scale"},
		ObjectMeta: metav1.ObjectMeta{
			Name: m.GetName(), Namespace: m.GetNamespace(), UID: m.GetUID(),
			ResourceVersion: m.GetResourceVersion(), CreationTimestamp: m.GetCreationTimestamp(),
		},
		Spec:   autoscalingv1.ScaleSpec{Replicas: replicas},
		Status: autoscalingv1.ScaleStatus{Replicas: statusReplicas, Selector: selector},
	}, nil
}

func setReplicas(obj runtime.Object, n int32) {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		o.Spec.Replicas = &n
	case *appsv1.ReplicaSet:
		o.Spec.Replicas = &n
	case *appsv1.StatefulSet:
		o.Spec.Replicas = &n
	case *corev1.ReplicationController:
		o.Spec.Replicas = &n
	}
}

func deref(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func (s *APIServer) getScale(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	obj, err := s.store.Get(r.Context(), res.keys.Key(ri.Namespace, ri.Name), res.New)
	if err != nil {
		return err
	}
	sc, err := scaleOf(obj)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, sc)
	return nil
}

var scaleGVK = autoscalingv1.SchemeGroupVersion.WithKind("Scale")

func (s *APIServer) updateScale(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(w, r, data, &autoscalingv1.Scale{}, scaleGVK)
	if err != nil {
		return err
	}
	sc := obj.(*autoscalingv1.Scale)
	return s.applyScale(w, r, ri, res, wo, func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error) { return sc, nil })
}

func (s *APIServer) applyScale(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource, wo writeOptions, change func(cur *autoscalingv1.Scale) (*autoscalingv1.Scale, error)) error {
	out, err := s.updateObject(r.Context(), res, ri.Namespace, ri.Name, "scale", wo, func(cur runtime.Object) (runtime.Object, error) {
		curScale, err := scaleOf(cur)
		if err != nil {
			return nil, err
		}
		sc, err := change(curScale)
		if err != nil {
			return nil, err
		}
		if errs := validation.ValidateCreate(sc); len(errs) > 0 {
			return nil, apierrors.NewInvalid(scaleGVK.GroupKind(), ri.Name, errs)
		}
		if sc.ResourceVersion != "" && sc.ResourceVersion != accessor(cur).GetResourceVersion() {
			return nil, apierrors.NewConflict(res.GroupResource(), ri.Name, fmt.Errorf("%s", optimisticLockMsg))
		}
		setReplicas(cur, sc.Spec.Replicas)
		return cur, nil
	})
	if err != nil {
		return err
	}
	sc, err := scaleOf(out)
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusOK, sc)
	return nil
}

// bindPod assigns a pod to a node, once.
func (s *APIServer) bindPod(w http.ResponseWriter, r *http.Request, ns, name string) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(w, r, data, &corev1.Binding{}, corev1.SchemeGroupVersion.WithKind("Binding"))
	if err != nil {
		return err
	}
	b := obj.(*corev1.Binding)
	if b.Name == "" {
		b.Name = name
	}
	if name != "" && b.Name != name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", b.Name, name)
	}
	if b.Target.Name == "" {
		return apierrors.NewInvalid(schema.GroupKind{Kind: "Binding"}, b.Name, nil)
	}
	pods := s.byGVR[corev1.SchemeGroupVersion.WithResource("pods")]
	_, err = s.updateObject(r.Context(), pods, ns, b.Name, "binding", wo, func(cur runtime.Object) (runtime.Object, error) {
		pod := cur.(*corev1.Pod)
		if pod.DeletionTimestamp != nil {
			return nil, apierrors.NewConflict(pods.GroupResource(), pod.Name, fmt.Errorf("pod %s is being deleted, cannot be assigned to a host", pod.Name))
		}
		if pod.Spec.NodeName != "" {
			return nil, apierrors.NewConflict(pods.GroupResource(), pod.Name, fmt.Errorf("pod %s is already assigned to node %q", pod.Name, pod.Spec.NodeName))
		}
		if b.UID != "" && b.UID != pod.UID {
			return nil, apierrors.NewConflict(pods.GroupResource(), pod.Name, fmt.Errorf("Precondition failed: UID in precondition: %v, UID in object meta: %v", b.UID, pod.UID))
		}
		pod.Spec.NodeName = b.Target.Name
		for k, v := range b.Annotations {
			if pod.Annotations == nil {
				pod.Annotations = map[string]string{}
			}
			pod.Annotations[k] = v
		}
		setPodCondition(&pod.Status, corev1.PodCondition{Type: corev1.PodScheduled, Status: corev1.ConditionTrue, LastTransitionTime: metav1.NewTime(s.clock.Now().Truncate(1e9))})
		return pod, nil
	})
	if err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusCreated, statusSuccess(http.StatusCreated, nil))
	return nil
}

func (s *APIServer) serveBindingCollection(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	if err := s.bindPod(w, r, ri.Namespace, ""); err != nil {
		s.writeError(w, r, err, schema.GroupResource{Resource: "pods"}, "")
	}
}

func setPodCondition(st *corev1.PodStatus, c corev1.PodCondition) {
	for i := range st.Conditions {
		if st.Conditions[i].Type == c.Type {
			if st.Conditions[i].Status == c.Status {
				c.LastTransitionTime = st.Conditions[i].LastTransitionTime
			}
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// evictPod deletes a pod unless a PodDisruptionBudget forbids it (429).
func (s *APIServer) evictPod(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(w, r, data, &policyv1.Eviction{}, policyv1.SchemeGroupVersion.WithKind("Eviction"))
	if err != nil {
		return err
	}
	ev := obj.(*policyv1.Eviction)
	if ev.Name != "" && ev.Name != ri.Name {
		return badRequest("name in URL does not match name in Eviction object")
	}
	ctx := r.Context()
	cur, err := s.store.Get(ctx, res.keys.Key(ri.Namespace, ri.Name), res.New)
	if err != nil {
		return err
	}
	pod := cur.(*corev1.Pod)
	opts := ev.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	// Pods that are finished or already being deleted are not protected by budgets.
	if pod.Status.Phase != corev1.PodSucceeded && pod.Status.Phase != corev1.PodFailed && pod.DeletionTimestamp == nil && pod.Status.Phase != corev1.PodPending {
		if err := s.checkDisruptionBudgets(ctx, pod, len(opts.DryRun) > 0); err != nil {
			return err
		}
	}
	if _, err := s.deleteObject(ctx, res, ri.Namespace, ri.Name, opts); err != nil {
		return err
	}
	s.writeObject(w, r, http.StatusCreated, statusSuccess(http.StatusCreated, nil))
	return nil
}

func (s *APIServer) checkDisruptionBudgets(ctx context.Context, pod *corev1.Pod, dryRun bool) error {
	pdbs := s.byGVR[policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")]
	items, _ := pdbs.cacher.List(pdbs.keys.Prefix(pod.Namespace), nil)
	var matching []*policyv1.PodDisruptionBudget
	for _, o := range items {
		pdb := o.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || sel.Empty() || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		matching = append(matching, pdb)
	}
	if len(matching) > 1 {
		return apierrors.NewInternalError(fmt.Errorf("This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."))
	}
	if len(matching) == 0 {
		return nil
	}
	pdb := matching[0]
	tooMany := func(msg string) error {
		err := apierrors.NewTooManyRequests(msg, 10)
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: "DisruptionBudget", Message: fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)})
		return err
	}
	if pdb.Status.ObservedGeneration < pdb.Generation {
		return tooMany("Cannot evict pod as it would violate the pod's disruption budget.")
	}
	if pdb.Status.DisruptionsAllowed <= 0 {
		return tooMany("Cannot evict pod as it would violate the pod's disruption budget.")
	}
	if dryRun {
		return nil
	}
	// Take one disruption from the budget before deleting, as kube-apiserver does.
	_, err := s.updateObject(ctx, pdbs, pdb.Namespace, pdb.Name, "status", writeOptions{manager: "kube-apiserver"}, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*policyv1.PodDisruptionBudget)
		if p.Status.DisruptionsAllowed <= 0 {
			return nil, tooMany("Cannot evict pod as it would violate the pod's disruption budget.")
		}
		p.Status.DisruptionsAllowed--
		if p.Status.DisruptedPods == nil {
			p.Status.DisruptedPods = map[string]metav1.Time{}
		}
		p.Status.DisruptedPods[pod.Name] = metav1.NewTime(s.clock.Now().Truncate(1e9))
		return p, nil
	})
	return err
}

// finalizeNamespace writes spec.finalizers and deletes the namespace once nothing holds it.
func (s *APIServer) finalizeNamespace(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.codecs.decodeBody(w, r, data, &corev1.Namespace{}, corev1.SchemeGroupVersion.WithKind("Namespace"))
	if err != nil {
		return err
	}
	want := obj.(*corev1.Namespace).Spec.Finalizers
	out, err := s.updateObject(r.Context(), res, "", ri.Name, "finalize", wo, func(cur runtime.Object) (runtime.Object, error) {
		ns := cur.(*corev1.Namespace)
		ns.Spec.Finalizers = want
		return ns, nil
	})
	if err != nil {
		return err
	}
	ns := out.(*corev1.Namespace)
	if ns.DeletionTimestamp != nil && len(ns.Spec.Finalizers) == 0 && len(ns.Finalizers) == 0 && !wo.dryRun {
		if del, err := s.deleteObject(r.Context(), res, "", ri.Name, &metav1.DeleteOptions{}); err == nil {
			out = del
		}
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
}
