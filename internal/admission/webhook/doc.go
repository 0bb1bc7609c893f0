// Package webhook is kube-apiserver's dynamic admission webhooks (MutatingAdmissionWebhook and
// ValidatingAdmissionWebhook) for skiff: defaulting and validation of admissionregistration.k8s.io/v1
// Mutating/ValidatingWebhookConfiguration, and a Dispatcher that calls the webhooks they register.
//
// The core is pure and table-tested: SetDefaults*, Validate* and the matching (rules with operations, groups,
// versions, resources and subresources with "*" wildcards, scope; matchPolicy; namespaceSelector; objectSelector;
// matchConditions in CEL, with github.com/google/cel-go).
// The Dispatcher is the thin shell that reads configurations from a Source, posts AdmissionReviews over TLS and
// reads the answers. It is safe for concurrent use.
//
// Contract, as upstream:
//   - Webhooks run in order of configuration name, then of position in the configuration. Mutating webhooks run
//     one after the other, each seeing the previous ones' patches; validating webhooks run in parallel and the
//     first denial or failure in that order is returned. Requests for the admission configuration kinds
//     themselves (webhook configurations, ValidatingAdmissionPolicy(Binding), MutatingAdmissionPolicy(Binding))
//     are never sent to webhooks.
//   - The request is AdmissionReview v1, or v1beta1 when the webhook lists that first; it carries uid, kind,
//     resource, subResource, requestKind/requestResource/requestSubResource, name, namespace, operation,
//     userInfo, object, oldObject, dryRun and options (meta.k8s.io/v1). A v1 response must echo the uid.
//   - A denial becomes `admission webhook "<name>" denied the request: <message>` with the webhook's status
//     code (at least 400). A failure to call (connection, TLS verification against caBundle with ServerName
//     "<svc>.<ns>.svc" for service webhooks, timeoutSeconds, non-2xx, malformed response) is ignored under
//     failurePolicy Ignore and under Fail becomes a 500 InternalError `failed calling webhook "<name>": ...`.
//   - matchConditions are evaluated after the rules and selectors match, in order, on the variables object and
//     oldObject (the objects as JSON maps; null when absent) and request (the AdmissionRequest: kind, resource,
//     subResource, requestKind, requestResource, requestSubResource, name, namespace, operation, userInfo, dryRun,
//     options). Any false condition skips the webhook; otherwise any error (evaluation, cost) skips it under
//     failurePolicy Ignore and under Fail (the default) forbids the request: `<resource> "<name>" is forbidden:
//     expression '<expr>' resulted in error: <cause>`. Each expression costs at most 1,000,000 and a webhook's
//     conditions together at most 2,500,000 (upstream's limits). Programs are compiled once per expression and
//     cached by the Dispatcher. Validation requires each expression to compile to a bool; errors read
//     `compilation failed: <CEL issues>` or `must evaluate to bool but got <type>`, Invalid on `.expression`.
//   - A dry-run request to a webhook whose sideEffects is not None or NoneOnDryRun is refused with 400
//     `admission webhook "<name>" does not support dry run`.
//   - Mutating webhooks answer with JSONPatch; the patched object is decoded into the same Go type (or
//     Unstructured), defaulted with the scheme, and replaces *obj and Attributes.Object. When a webhook changed
//     the object, webhooks with reinvocationPolicy IfNeeded that ran earlier are called once more (a single
//     reinvocation round, as upstream's).
//
// Differences from kube-apiserver, by design:
//   - matchConditions have no authorizer variable (skiff's API server has no authorizer for CEL): an expression
//     that uses it fails to compile (undeclared reference, with a note saying so). The CEL environment has
//     upstream's base options and cel-go's extension libraries (strings, sets, lists, two-variable comprehensions,
//     optional types) but not Kubernetes' own libraries (url, quantity, ip, cidr, semver, format, the k8s list
//     and regex functions), and no per-version environment switching.
//   - matchPolicy Equivalent matches a rule that names the request's group and resource in another version, but
//     skiff converts nothing: the webhook receives the object in the request's version, with kind/resource equal
//     to requestKind/requestResource. Equivalences across groups (extensions vs apps) are not known.
//   - Audit annotations returned by webhooks are dropped (skiff has no audit log).
//
// The caller's duties: apply SetDefaults* before Validate* and before storing; give the Dispatcher a Source backed
// by informer caches; call Mutate before the registry's own defaulting/validation is final and Validate after it,
// and add the returned warnings to the response.
package webhook
