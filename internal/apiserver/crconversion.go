package apiserver

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Versions of a custom resource: objects are stored in the version they were written in (the storage version of
// the time) and converted when read in another, by changing apiVersion (strategy None) or by the CRD's conversion
// webhook (strategy Webhook, a ConversionReview as kube-apiserver sends it).

// crConverter converts custom resources of one CRD between its versions.
type crConverter struct {
	kind    string
	webhook *apiextv1.WebhookConversion // nil: strategy None
	post    func(ctx context.Context, cc admissionregistrationv1.WebhookClientConfig, body []byte) ([]byte, error)
}

// convert returns obj in version gv (obj itself when it is already there).
func (c *crConverter) convert(obj runtime.Object, gv schema.GroupVersion) (runtime.Object, error) {
	u, ok := obj.(*unstructured.Unstructured)
	want := gv.String()
	if !ok || u.GetAPIVersion() == want {
		return obj, nil
	}
	if c.webhook == nil {
		out := u.DeepCopy()
		out.SetAPIVersion(want)
		return out, nil
	}
	return c.viaWebhook(u, gv)
}

// viaWebhook asks the conversion webhook, with upstream's checks of the answer: same uid, one object back per
// object sent, in the desired version, and only labels and annotations changed in metadata.
func (c *crConverter) viaWebhook(u *unstructured.Unstructured, gv schema.GroupVersion) (runtime.Object, error) {
	fail := func(err error) error {
		return apierrors.NewInternalError(fmt.Errorf("conversion webhook for %s failed: %w", u.GroupVersionKind(), err))
	}
	if c.webhook.ClientConfig == nil {
		return nil, fail(fmt.Errorf("no webhook client config"))
	}
	reviewVersion := "v1"
	for _, v := range c.webhook.ConversionReviewVersions {
		if v == "v1" || v == "v1beta1" {
			reviewVersion = v
			break
		}
	}
	uid := uuid.NewString()
	review := map[string]any{
		"apiVersion": "apiextensions.k8s.io/" + reviewVersion, "kind": "ConversionReview",
		"request": map[string]any{"uid": uid, "desiredAPIVersion": gv.String(), "objects": []any{u.Object}},
	}
	body, err := json.Marshal(review)
	if err != nil {
		return nil, fail(err)
	}
	cc := admissionregistrationv1.WebhookClientConfig{URL: c.webhook.ClientConfig.URL, CABundle: c.webhook.ClientConfig.CABundle}
	if s := c.webhook.ClientConfig.Service; s != nil {
		cc.Service = &admissionregistrationv1.ServiceReference{Namespace: s.Namespace, Name: s.Name, Path: s.Path, Port: s.Port}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	data, err := c.post(ctx, cc, body)
	if err != nil {
		return nil, fail(err)
	}
	var resp struct {
		Response *struct {
			UID              string                 `json:"uid"`
			ConvertedObjects []runtime.RawExtension `json:"convertedObjects"`
			Result           metav1.Status          `json:"result"`
		} `json:"response"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return nil, fail(fmt.Errorf("invalid ConversionReview: %w", err))
	}
	r := resp.Response
	switch {
	case r == nil:
		return nil, fail(fmt.Errorf("no response provided"))
	case r.UID != uid:
		return nil, fail(fmt.Errorf("expected response.uid=%q, got %q", uid, r.UID))
	case r.Result.Status != metav1.StatusSuccess:
		return nil, fail(fmt.Errorf("%s", r.Result.Message))
	case len(r.ConvertedObjects) != 1:
		return nil, fail(fmt.Errorf("expected 1 converted objects, got %d", len(r.ConvertedObjects)))
	}
	out := &unstructured.Unstructured{}
	if err := out.UnmarshalJSON(r.ConvertedObjects[0].Raw); err != nil {
		return nil, fail(fmt.Errorf("invalid converted object: %w", err))
	}
	if out.GetAPIVersion() != gv.String() {
		return nil, fail(fmt.Errorf("invalid converted object at index 0: invalid apiVersion %q, expected %q", out.GetAPIVersion(), gv.String()))
	}
	if out.GetKind() != u.GetKind() {
		return nil, fail(fmt.Errorf("invalid converted object at index 0: invalid kind %q, expected %q", out.GetKind(), u.GetKind()))
	}
	// Only labels and annotations may change; the rest of metadata is the original's.
	meta, _ := runtime.DeepCopyJSONValue(u.Object["metadata"]).(map[string]any)
	if meta == nil {
		meta = map[string]any{}
	}
	if m, ok := out.Object["metadata"].(map[string]any); ok {
		for _, k := range []string{"labels", "annotations"} {
			if v, ok := m[k]; ok {
				meta[k] = v
			} else {
				delete(meta, k)
			}
		}
	}
	out.Object["metadata"] = meta
	return out, nil
}

// newCRConverter returns the converter of crd's custom resources.
func (s *APIServer) newCRConverter(crd *apiextv1.CustomResourceDefinition) *crConverter {
	c := &crConverter{kind: crd.Spec.Names.Kind}
	if conv := crd.Spec.Conversion; conv != nil && conv.Strategy == apiextv1.WebhookConverter && conv.Webhook != nil {
		c.webhook = conv.Webhook
		c.post = s.webhooks.Post
	}
	return c
}

// fromStored returns a stored custom resource in this version, with the storage version's defaults.
func (c *crInfo) fromStored(obj runtime.Object) (runtime.Object, error) {
	out, err := c.conv.convert(obj, c.gv)
	if err != nil || c.storageDefaults == nil {
		return out, err
	}
	if out == obj {
		out = obj.DeepCopyObject()
	}
	c.storageDefaults.Default(content(out))
	return out, nil
}

// toStored returns a custom resource in the storage version.
func (c *crInfo) toStored(obj runtime.Object) (runtime.Object, error) {
	return c.conv.convert(obj, c.storeGV)
}
