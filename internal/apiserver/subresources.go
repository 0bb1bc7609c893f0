package apiserver

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"

	"github.com/skiff-sh/skiff/internal/validation"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	apimeta "k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func (s *APIServer) serveSubresource(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource) {
	gr := res.GroupResource()
	var err error
	switch {
	case ri.Subresource == "status" && res.Status,
		ri.Subresource == "approval" && res.Kind == "CertificateSigningRequest" && res.GVR.Group == "certificates.k8s.io":
		// Whole-object subresources: the sub strategy in updateObject decides what of the body is kept.
		switch ri.Verb {
		case "get":
			err = s.get(w, r, ri, res)
		case "update":
			err = s.updateSubresource(w, r, ri, res, ri.Subresource)
		case "patch":
			err = s.patch(w, r, ri, res, ri.Subresource)
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
	case ri.Subresource == subEphemeral && res.Kind == "Pod" && res.GVR.Group == "":
		err = s.serveEphemeralContainers(w, r, ri, res)
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

// updateSubresource is a PUT through a subresource that takes a whole object (status, ephemeralcontainers): the
// object is decoded and handed to updateObject, whose sub strategy decides what of it is kept.
func (s *APIServer) updateSubresource(w http.ResponseWriter, r *http.Request, ri requestInfo, res *resource, sub string) error {
	wo, err := parseWriteOptions(r)
	if err != nil {
		return err
	}
	data, err := readBody(r)
	if err != nil {
		return err
	}
	obj, err := s.decodeResource(w, r, data, res)
	if err != nil {
		return err
	}
	if m := accessor(obj); m.GetName() != ri.Name {
		return badRequest("the name of the object (%s) does not match the name on the URL (%s)", m.GetName(), ri.Name)
	}
	out, err := s.updateObject(r.Context(), res, ri.Namespace, ri.Name, sub, wo, func(runtime.Object) (runtime.Object, error) {
		return obj.DeepCopyObject(), nil
	})
	if err != nil {
		return err
	}
	return s.respondObject(w, r, res, http.StatusOK, out)
}

// scaleFor returns the Scale of an object of res.
func scaleFor(res *resource, obj runtime.Object) (*autoscalingv1.Scale, error) {
	if res.cr != nil {
		return res.cr.scaleOf(obj)
	}
	return scaleOf(obj)
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
	if obj, err = res.external(obj); err != nil {
		return err
	}
	sc, err := scaleFor(res, obj)
	if err != nil {
		return err
	}
	return s.respondScale(w, r, sc)
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
		curScale, err := scaleFor(res, cur)
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
		if res.cr != nil {
			res.cr.setReplicas(cur, sc.Spec.Replicas)
		} else {
			setReplicas(cur, sc.Spec.Replicas)
		}
		return cur, nil
	})
	if err != nil {
		return err
	}
	sc, err := scaleFor(res, out)
	if err != nil {
		return err
	}
	return s.respondScale(w, r, sc)
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

// evictPod deletes a pod unless a PodDisruptionBudget forbids it (429), as kube-apiserver's eviction subresource
// (pkg/registry/core/pod/storage/eviction.go): terminal, pending and terminating pods are deleted without a budget
// check; an unready pod is deleted without taking from the budget under unhealthyPodEvictionPolicy AlwaysAllow, or
// under IfHealthyBudget (the default) while the budget has its desired healthy pods; otherwise one disruption is
// taken from the budget first. The pod gets the condition DisruptionTarget=True (EvictionByEvictionAPI) before the
// delete.
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
	if ev.DeleteOptions != nil && ev.DeleteOptions.IgnoreStoreReadErrorWithClusterBreakingPotential != nil && *ev.DeleteOptions.IgnoreStoreReadErrorWithClusterBreakingPotential {
		return apierrors.NewInvalid(policyv1.SchemeGroupVersion.WithKind("Eviction").GroupKind(), ri.Name, field.ErrorList{
			field.Invalid(field.NewPath("deleteOptions").Child("ignoreStoreReadErrorWithClusterBreakingPotential"), true, "can not be set for pod eviction, try after removing the option")})
	}
	opts := ev.DeleteOptions
	if opts == nil {
		opts = &metav1.DeleteOptions{}
	}
	if q := r.URL.Query()["dryRun"]; len(q) > 0 {
		if len(opts.DryRun) == 0 {
			opts.DryRun = q
		} else if !slices.Equal(opts.DryRun, q) {
			return badRequest("Non-matching dry-run options in request and content: %v and %v", q, opts.DryRun)
		}
	}
	ctx := r.Context()
	rvUnset := opts.Preconditions == nil || opts.Preconditions.ResourceVersion == nil
	var pod *corev1.Pod
	for attempt := 0; ; attempt++ {
		cur, err := s.store.Get(ctx, res.keys.Key(ri.Namespace, ri.Name), res.New)
		if err != nil {
			return err
		}
		pod = cur.(*corev1.Pod)
		if !canIgnorePDB(pod) {
			break
		}
		// Evicting a pod that is terminal, pending or already terminating disrupts nothing: delete it.
		del := opts
		if rvUnset && pod.Status.Phase == corev1.PodPending && pod.DeletionTimestamp == nil {
			del = withResourceVersion(opts, pod.ResourceVersion)
		}
		err = s.addDisruptionConditionAndDelete(ctx, res, ri, del)
		if err == nil {
			s.writeObject(w, r, http.StatusCreated, statusSuccess(http.StatusCreated, nil))
			return nil
		}
		if !apierrors.IsConflict(err) || !rvUnset || attempt >= 20 {
			return err
		}
	}

	budgets := s.matchingBudgets(pod)
	if len(budgets) > 1 {
		s.writeObject(w, r, http.StatusInternalServerError, &metav1.Status{TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
			Status: metav1.StatusFailure, Code: http.StatusInternalServerError,
			Message: "This pod has more than one PodDisruptionBudget, which the eviction subresource does not support."})
		return nil
	}
	var pdb *policyv1.PodDisruptionBudget
	withRV := false
	if len(budgets) == 1 {
		pdb = budgets[0]
		unhealthyOK := false
		if !podReady(pod) {
			// An unready pod does not count towards currentHealthy: deleting it takes nothing from the budget.
			if p := pdb.Spec.UnhealthyPodEvictionPolicy; p != nil && *p == policyv1.AlwaysAllow {
				unhealthyOK = true
			} else if pdb.Status.CurrentHealthy >= pdb.Status.DesiredHealthy && pdb.Status.DesiredHealthy > 0 {
				unhealthyOK = true
			}
		}
		if unhealthyOK {
			withRV = true
		} else if err := s.checkDisruptionBudgets(ctx, pod, pdb, len(opts.DryRun) > 0); err != nil {
			return err
		}
	}
	del := opts
	if withRV {
		// The pod must still be the unready one the decision was made on.
		del = withResourceVersion(opts, pod.ResourceVersion)
	}
	if err := s.addDisruptionConditionAndDelete(ctx, res, ri, del); err != nil {
		if apierrors.IsConflict(err) && withRV && rvUnset {
			return evictionTooManyRequests(pdb.Name)
		}
		return err
	}
	s.writeObject(w, r, http.StatusCreated, statusSuccess(http.StatusCreated, nil))
	return nil
}

// canIgnorePDB reports whether evicting pod needs no budget check: it is terminal, pending or being deleted.
func canIgnorePDB(pod *corev1.Pod) bool {
	return pod.Status.Phase == corev1.PodSucceeded || pod.Status.Phase == corev1.PodFailed ||
		pod.Status.Phase == corev1.PodPending || pod.DeletionTimestamp != nil
}

func podReady(pod *corev1.Pod) bool {
	for _, c := range pod.Status.Conditions {
		if c.Type == corev1.PodReady {
			return c.Status == corev1.ConditionTrue
		}
	}
	return false
}

func withResourceVersion(opts *metav1.DeleteOptions, rv string) *metav1.DeleteOptions {
	out := opts.DeepCopy()
	if out.Preconditions == nil {
		out.Preconditions = &metav1.Preconditions{}
	}
	out.Preconditions.ResourceVersion = &rv
	return out
}

// addDisruptionConditionAndDelete marks the pod DisruptionTarget=True (reason EvictionByEvictionAPI), checking
// opts' preconditions against the stored pod, and deletes it with opts (its resourceVersion precondition moved
// to the marked pod). A dry run only deletes (dry).
func (s *APIServer) addDisruptionConditionAndDelete(ctx context.Context, res *resource, ri requestInfo, opts *metav1.DeleteOptions) error {
	if len(opts.DryRun) == 0 {
		out, err := s.updateObject(ctx, res, ri.Namespace, ri.Name, "status", writeOptions{manager: "kube-apiserver"}, func(cur runtime.Object) (runtime.Object, error) {
			p := cur.(*corev1.Pod)
			if pre := opts.Preconditions; pre != nil {
				if pre.UID != nil && *pre.UID != "" && *pre.UID != p.UID {
					return nil, apierrors.NewConflict(schema.GroupResource{Resource: "Pod"}, p.Name,
						fmt.Errorf("the UID in the precondition (%s) does not match the UID in record (%s). The object might have been deleted and then recreated", *pre.UID, p.UID))
				}
				if pre.ResourceVersion != nil && *pre.ResourceVersion != "" && *pre.ResourceVersion != p.ResourceVersion {
					return nil, apierrors.NewConflict(schema.GroupResource{Resource: "Pod"}, p.Name,
						fmt.Errorf("the ResourceVersion in the precondition (%s) does not match the ResourceVersion in record (%s). The object might have been modified", *pre.ResourceVersion, p.ResourceVersion))
				}
			}
			setPodCondition(&p.Status, corev1.PodCondition{Type: corev1.DisruptionTarget, Status: corev1.ConditionTrue,
				Reason: "EvictionByEvictionAPI", Message: "Eviction API: evicting", LastTransitionTime: metav1.NewTime(s.clock.Now().Truncate(1e9))})
			return p, nil
		})
		if err != nil {
			return err
		}
		if opts.Preconditions != nil && opts.Preconditions.ResourceVersion != nil {
			opts = withResourceVersion(opts, accessor(out).GetResourceVersion())
		}
	}
	_, err := s.deleteObject(ctx, res, ri.Namespace, ri.Name, opts)
	return err
}

// matchingBudgets returns the PodDisruptionBudgets in pod's namespace whose selector matches it (an empty
// selector matches every pod, as in policy/v1).
func (s *APIServer) matchingBudgets(pod *corev1.Pod) []*policyv1.PodDisruptionBudget {
	pdbs := s.byGVR[policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")]
	items, _ := pdbs.cacher.List(pdbs.keys.Prefix(pod.Namespace), nil)
	var matching []*policyv1.PodDisruptionBudget
	for _, o := range items {
		pdb := o.(*policyv1.PodDisruptionBudget)
		sel, err := metav1.LabelSelectorAsSelector(pdb.Spec.Selector)
		if err != nil || !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		matching = append(matching, pdb)
	}
	return matching
}

// evictionTooManyRequests is the 429 of a budget the disruption controller has not processed yet.
func evictionTooManyRequests(name string) error {
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 10)
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
		Message: fmt.Sprintf("The disruption budget %s is still being processed by the server.", name)})
	return err
}

// maxDisruptedPodSize bounds status.disruptedPods: evictions stop while the controller has not confirmed as many.
const maxDisruptedPodSize = 2000

// checkDisruptionBudgets takes one disruption from pdb for pod (upstream's checkAndDecrement): it re-checks the
// stored budget inside the status update, records the pod in status.disruptedPods, and refuses with 429 (or 403
// for a corrupt budget) when no disruption is allowed. A dry run only checks.
func (s *APIServer) checkDisruptionBudgets(ctx context.Context, pod *corev1.Pod, pdb *policyv1.PodDisruptionBudget, dryRun bool) error {
	if err := checkBudget(pdb); err != nil || dryRun {
		return err
	}
	pdbs := s.byGVR[policyv1.SchemeGroupVersion.WithResource("poddisruptionbudgets")]
	_, err := s.updateObject(ctx, pdbs, pdb.Namespace, pdb.Name, "status", writeOptions{manager: "kube-apiserver"}, func(cur runtime.Object) (runtime.Object, error) {
		p := cur.(*policyv1.PodDisruptionBudget)
		if err := checkBudget(p); err != nil {
			return nil, err
		}
		p.Status.DisruptionsAllowed--
		if p.Status.DisruptionsAllowed == 0 {
			setDisruptionAllowedCondition(p)
		}
		if p.Status.DisruptedPods == nil {
			p.Status.DisruptedPods = map[string]metav1.Time{}
		}
		// Tells the disruption controller the pod is about to go, so that it stops counting it as healthy.
		p.Status.DisruptedPods[pod.Name] = metav1.NewTime(s.clock.Now().Truncate(1e9))
		return p, nil
	})
	return err
}

// checkBudget returns the error refusing an eviction under pdb, or nil if it allows one.
func checkBudget(pdb *policyv1.PodDisruptionBudget) error {
	if pdb.Status.ObservedGeneration < pdb.Generation {
		return evictionTooManyRequests(pdb.Name)
	}
	forbidden := func(reason, msg string) error {
		err := apierrors.NewForbidden(policyv1.Resource("poddisruptionbudget"), pdb.Name, errors.New(reason))
		err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause,
			Message: fmt.Sprintf("The disruption budget %s does not allow evicting pods currently: %s", pdb.Name, msg)})
		return err
	}
	if pdb.Status.DisruptionsAllowed < 0 {
		return forbidden("pdb disruptions allowed is negative", "pdb disruptions allowed is negative")
	}
	if len(pdb.Status.DisruptedPods) > maxDisruptedPodSize {
		return forbidden("DisruptedPods map too big - too many evictions not confirmed by PDB controller", "too many pending evictions not confirmed by PDB controller")
	}
	if pdb.Status.DisruptionsAllowed > 0 {
		return nil
	}
	err := apierrors.NewTooManyRequests("Cannot evict pod as it would violate the pod's disruption budget.", 0)
	cond := apimeta.FindStatusCondition(pdb.Status.Conditions, policyv1.DisruptionAllowedCondition)
	var msg string
	switch {
	case cond != nil && cond.Status == metav1.ConditionFalse && cond.Message != "" && cond.Reason == policyv1.SyncFailedReason:
		msg = fmt.Sprintf("The disruption budget %s does not allow evicting pods currently because it failed sync: %s", pdb.Name, cond.Message)
	case pdb.Status.CurrentHealthy <= pdb.Status.DesiredHealthy:
		msg = fmt.Sprintf("The disruption budget %s needs %d healthy pods and has %d currently", pdb.Name, pdb.Status.DesiredHealthy, pdb.Status.CurrentHealthy)
	case cond != nil && cond.Status == metav1.ConditionFalse && cond.Message != "":
		msg = fmt.Sprintf("The disruption budget %s does not allow evicting pods currently (%s): %s", pdb.Name, cond.Reason, cond.Message)
	default:
		msg = fmt.Sprintf("The disruption budget %s does not allow evicting pods currently", pdb.Name)
	}
	err.ErrStatus.Details.Causes = append(err.ErrStatus.Details.Causes, metav1.StatusCause{Type: policyv1.DisruptionBudgetCause, Message: msg})
	return err
}

// setDisruptionAllowedCondition sets pdb's DisruptionAllowed condition from status.disruptionsAllowed, as
// upstream's pdbhelper.UpdateDisruptionAllowedCondition.
func setDisruptionAllowedCondition(pdb *policyv1.PodDisruptionBudget) {
	c := metav1.Condition{Type: policyv1.DisruptionAllowedCondition, Status: metav1.ConditionFalse,
		Reason: policyv1.InsufficientPodsReason, ObservedGeneration: pdb.Status.ObservedGeneration}
	if pdb.Status.DisruptionsAllowed > 0 {
		c.Status, c.Reason = metav1.ConditionTrue, policyv1.SufficientPodsReason
	}
	apimeta.SetStatusCondition(&pdb.Status.Conditions, c)
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
