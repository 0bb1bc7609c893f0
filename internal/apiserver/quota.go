package apiserver

import (
	"context"
	"errors"

	"github.com/skiff-sh/skiff/internal/admission/quota"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime"
)

// admitQuota is kube-apiserver's ResourceQuota (validating) admission for a create of obj: it refuses an object
// that would pass a quota of its namespace and otherwise charges the quotas' status.used, each by
// compare-and-swap against the stored quota, before the object is stored. A dry run is checked, not charged.
// On refusal it releases what allocateService reserved.
func (s *APIServer) admitQuota(ctx context.Context, res *resource, obj runtime.Object, dryRun bool) error {
	err := s.chargeQuota(ctx, res, obj, nil, dryRun)
	if err != nil {
		s.releaseAllocations(ctx, res, obj, nil)
	}
	return err
}

// admitQuotaUpdate is admitQuota for an update of cur to obj (sub names the subresource; only main-resource
// updates are charged): services and claims by their growth, pods whose Terminating scope changed.
func (s *APIServer) admitQuotaUpdate(ctx context.Context, res *resource, sub string, obj, cur runtime.Object, dryRun bool) error {
	if sub != "" {
		return nil
	}
	err := s.chargeQuota(ctx, res, obj, cur, dryRun)
	if err != nil {
		s.releaseAllocations(ctx, res, obj, cur)
	}
	return err
}

func (s *APIServer) chargeQuota(ctx context.Context, res *resource, obj, old runtime.Object, dryRun bool) error {
	ns := accessor(obj).GetNamespace()
	if !res.Namespaced || ns == "" {
		return nil
	}
	rqRes := s.byGVR[corev1.SchemeGroupVersion.WithResource("resourcequotas")]
	if rqRes == nil {
		return nil
	}
	items, _ := rqRes.cacher.List(rqRes.keys.Prefix(ns), nil)
	if len(items) == 0 {
		return nil
	}
	quotas := make([]*corev1.ResourceQuota, 0, len(items))
	for _, o := range items {
		quotas = append(quotas, o.(*corev1.ResourceQuota))
	}
	gr := res.GroupResource()
	name := accessor(obj).GetName()
	refuse := func(err error) error {
		if errors.Is(err, quota.ErrForbidden) {
			return apierrors.NewForbidden(gr, name, err)
		}
		return apierrors.NewInternalError(err)
	}
	var charges []quota.Charge
	var err error
	if old == nil {
		charges, err = quota.Admit(gr, obj, quotas, s.clock.Now())
	} else {
		charges, err = quota.AdmitUpdate(gr, obj, old, quotas, s.clock.Now())
	}
	if err != nil {
		return refuse(err)
	}
	if dryRun {
		return nil
	}
	for _, c := range charges {
		_, err := s.updateObject(ctx, rqRes, ns, c.Name, "status", writeOptions{manager: "kube-apiserver", skipFields: true}, func(cur runtime.Object) (runtime.Object, error) {
			q := cur.(*corev1.ResourceQuota)
			if err := quota.Fits(q, c.Delta); err != nil {
				return nil, refuse(err)
			}
			q.Status.Used = quota.Add(q.Status.Used, c.Delta)
			return q, nil
		})
		if apierrors.IsNotFound(err) {
			continue // deleted meanwhile: nothing left to charge
		}
		if err != nil {
			return err
		}
	}
	return nil
}
