package apiserver

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"

	"github.com/skiff-sh/skiff/internal/admission/webhook"
	"github.com/skiff-sh/skiff/internal/auth"
	"github.com/skiff-sh/skiff/internal/defaults"
	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Dynamic admission: the MutatingAdmissionWebhook and ValidatingAdmissionWebhook plugins of kube-apiserver,
// with the webhook configurations read from the watch caches. Requests made by the API server itself (its
// bootstrap, repair and CRD loops, which carry no user) are not sent to webhooks, as upstream's loopback
// writes to storage are not.

var (
	validatingWebhooksGVR = admissionregistrationv1.SchemeGroupVersion.WithResource("validatingwebhookconfigurations")
	mutatingWebhooksGVR   = admissionregistrationv1.SchemeGroupVersion.WithResource("mutatingwebhookconfigurations")
)

// webhookSource is the dispatcher's view of the cluster, from the watch caches.
type webhookSource struct{ s *APIServer }

func (w webhookSource) ValidatingWebhooks() []*admissionregistrationv1.ValidatingWebhookConfiguration {
	res := w.s.byGVR[validatingWebhooksGVR]
	objs, _ := res.cacher.List(res.keys.Prefix(""), nil)
	out := make([]*admissionregistrationv1.ValidatingWebhookConfiguration, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*admissionregistrationv1.ValidatingWebhookConfiguration))
	}
	return out
}

func (w webhookSource) MutatingWebhooks() []*admissionregistrationv1.MutatingWebhookConfiguration {
	res := w.s.byGVR[mutatingWebhooksGVR]
	objs, _ := res.cacher.List(res.keys.Prefix(""), nil)
	out := make([]*admissionregistrationv1.MutatingWebhookConfiguration, 0, len(objs))
	for _, o := range objs {
		out = append(out, o.(*admissionregistrationv1.MutatingWebhookConfiguration))
	}
	return out
}

func (w webhookSource) NamespaceLabels(name string) (map[string]string, bool) {
	res := w.s.byGVR[corev1.SchemeGroupVersion.WithResource("namespaces")]
	ns, ok := res.cacher.Get(res.keys.Key("", name)).(*corev1.Namespace)
	if !ok {
		return nil, false
	}
	return ns.Labels, true
}

// ServiceAddress picks a ready endpoint of the Service port, as kube-apiserver does with endpoint routing.
func (w webhookSource) ServiceAddress(ctx context.Context, namespace, name string, port int32) (string, error) {
	s := w.s
	services := s.byGVR[corev1.SchemeGroupVersion.WithResource("services")]
	obj, err := s.store.Get(ctx, services.keys.Key(namespace, name), services.New)
	if err != nil {
		return "", toAPIError(err, services.GroupResource(), name)
	}
	svc := obj.(*corev1.Service)
	if svc.Spec.Type == corev1.ServiceTypeExternalName {
		return net.JoinHostPort(svc.Spec.ExternalName, strconv.Itoa(int(port))), nil
	}
	portName, err := serviceProxyPortName(svc, strconv.Itoa(int(port)))
	if err != nil {
		return "", err
	}
	loc, err := s.serviceEndpoint(namespace, name, "https", portName)
	if err != nil {
		return "", err
	}
	return loc.Host, nil
}

// webhookAttributes describes a write of res for the webhooks; ok is false for the API server's own writes.
func (s *APIServer) webhookAttributes(ctx context.Context, res *resource, op admissionv1.Operation, sub string, obj, old runtime.Object, dryRun bool) (*webhook.Attributes, bool) {
	u, ok := auth.UserFrom(ctx)
	if !ok || s.webhooks == nil {
		return nil, false
	}
	src := obj
	if src == nil {
		src = old
	}
	m := accessor(src)
	a := &webhook.Attributes{
		Operation: op, Kind: res.GVK(), Resource: res.GVR, SubResource: sub,
		Name: m.GetName(), Namespace: m.GetNamespace(), Object: obj, OldObject: old, DryRun: dryRun,
		UserInfo: authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups, Extra: extraOf(u)},
	}
	var dr []string
	if dryRun {
		dr = []string{metav1.DryRunAll}
	}
	switch op {
	case admissionv1.Create:
		a.Options = &metav1.CreateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "CreateOptions"}, DryRun: dr}
	case admissionv1.Update:
		a.Options = &metav1.UpdateOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "UpdateOptions"}, DryRun: dr}
	case admissionv1.Delete:
		a.Options = &metav1.DeleteOptions{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "DeleteOptions"}, DryRun: dr}
	}
	return a, true
}

func extraOf(u *auth.User) map[string]authenticationv1.ExtraValue {
	if len(u.Extra) == 0 {
		return nil
	}
	out := make(map[string]authenticationv1.ExtraValue, len(u.Extra))
	for k, v := range u.Extra {
		out[k] = v
	}
	return out
}

// mutateByWebhooks runs the mutating webhooks on *obj; a changed object gets the type's defaults again.
func (s *APIServer) mutateByWebhooks(ctx context.Context, res *resource, op admissionv1.Operation, sub string, obj *runtime.Object, old runtime.Object, dryRun bool) error {
	a, ok := s.webhookAttributes(ctx, res, op, sub, *obj, old, dryRun)
	if !ok {
		return nil
	}
	warnings, err := s.webhooks.Mutate(ctx, a, obj)
	addContextWarnings(ctx, warnings)
	if err != nil {
		return err
	}
	// As kube-apiserver decodes a patched object with the type's defaulting, fields a webhook added get defaults.
	defaults.Apply(*obj)
	if res.cr != nil {
		res.cr.prepare(*obj)
	}
	return nil
}

// validateByWebhooks runs the validating webhooks.
func (s *APIServer) validateByWebhooks(ctx context.Context, res *resource, op admissionv1.Operation, sub string, obj, old runtime.Object, dryRun bool) error {
	a, ok := s.webhookAttributes(ctx, res, op, sub, obj, old, dryRun)
	if !ok {
		return nil
	}
	warnings, err := s.webhooks.Validate(ctx, a)
	addContextWarnings(ctx, warnings)
	return err
}

// warningsKey carries the response's headers in a request context, for Warning headers added deep in a write.
type warningsKey struct{}

func withWarnings(ctx context.Context, h http.Header) context.Context {
	return context.WithValue(ctx, warningsKey{}, h)
}

func addContextWarnings(ctx context.Context, warnings []string) {
	h, ok := ctx.Value(warningsKey{}).(http.Header)
	if !ok {
		return
	}
	for _, w := range warnings {
		h.Add("Warning", fmt.Sprintf("299 - %q", w))
	}
}

// admitConnect sends a pods/exec, pods/attach or pods/portforward request to the validating webhooks as the
// CONNECT operation on its options object, as kube-apiserver's connect handler does.
func (s *APIServer) admitConnect(ctx context.Context, ns, name, sub string, opts runtime.Object) error {
	u, ok := auth.UserFrom(ctx)
	if !ok || len(webhookSource{s}.ValidatingWebhooks()) == 0 {
		return nil
	}
	gvks, _, err := s.scheme.ObjectKinds(opts)
	if err != nil {
		return err
	}
	a := &webhook.Attributes{
		Operation: admissionv1.Connect, Kind: gvks[0], Resource: corev1.SchemeGroupVersion.WithResource("pods"), SubResource: sub,
		Name: name, Namespace: ns, Object: opts,
		UserInfo: authenticationv1.UserInfo{Username: u.Name, UID: u.UID, Groups: u.Groups, Extra: extraOf(u)},
	}
	warnings, err := s.webhooks.Validate(ctx, a)
	addContextWarnings(ctx, warnings)
	return err
}

// connectOptions is the options object of a connect request, read from its query.
func connectOptions(sub string, q url.Values, container string) runtime.Object {
	b := func(k string) bool { v := q.Get(k); return v == "true" || v == "1" }
	switch sub {
	case "exec":
		return &corev1.PodExecOptions{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodExecOptions"}, Container: container,
			Stdin: b("stdin"), Stdout: b("stdout"), Stderr: b("stderr"), TTY: b("tty"), Command: q["command"]}
	case "attach":
		return &corev1.PodAttachOptions{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodAttachOptions"}, Container: container,
			Stdin: b("stdin"), Stdout: b("stdout"), Stderr: b("stderr"), TTY: b("tty")}
	}
	opts := &corev1.PodPortForwardOptions{TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "PodPortForwardOptions"}}
	for _, p := range q["ports"] {
		if n, err := strconv.ParseInt(p, 10, 32); err == nil {
			opts.Ports = append(opts.Ports, int32(n))
		}
	}
	return opts
}
