// Package flowcontrol holds kube-apiserver's API Priority and Fairness configuration objects and the pure rules that maintain them.
//
// skiff stores flowcontrol.apiserver.k8s.io/v1 FlowSchemas and
// PriorityLevelConfigurations as kube-apiserver does, but does not queue or
// reject requests by them. This package supplies what the API server needs so
// that the stored objects look and behave as on a real cluster; it has no
// goroutines, no I/O and no clock (callers pass the time).
//
// # Contract
//
//   - Bootstrap returns the mandatory and suggested objects of
//     k8s.io/apiserver v0.37.2 (pkg/apis/flowcontrol/bootstrap), copied
//     here, in upstream's order: names, specs and the
//     apf.kubernetes.io/autoupdate-spec: "true" annotation are upstream's,
//     and specs are already in their defaulted form (the defaults package
//     leaves them unchanged). Mandatory and Suggested return the two halves;
//     MandatoryFlowSchema and MandatoryPriorityLevel look one up by name
//     (validation uses them: a mandatory object's spec is fixed). Every call
//     returns fresh objects the caller may modify.
//   - At start-up the API server should do what kube-apiserver's ensurer
//     does: create each bootstrap object that is missing; update each
//     existing one for which ReviseFlowSchema or RevisePriorityLevel returns
//     non-nil (mandatory=true for the Mandatory half); and delete the stored
//     objects of the same kind for which Unwanted is true. Revising gives a
//     mandatory object its bootstrap spec back; a suggested one only while
//     its autoupdate annotation is "true" (or, lacking a boolean annotation,
//     while its generation is 1); the annotation is then set to say which
//     applies. The exempt level's spec.exempt is the operator's to change.
//     Unwanted is true for an object that is not a bootstrap object and whose
//     autoupdate annotation parses as true (a retired bootstrap object).
//   - Dangling computes the Dangling condition kube-apiserver's APF
//     configuration controller keeps on every FlowSchema: status False,
//     reason Found when a level of the referenced name exists, otherwise
//     True, NotFound, with upstream's messages. When fs already has that
//     status, reason and message it returns fs's condition and false;
//     otherwise a condition with lastTransitionTime now and true, which the
//     caller writes to the status subresource (upstream applies it with
//     field manager api-priority-and-fairness-config-consumer-v1);
//     SetFlowSchemaCondition puts a condition in place by type.
package flowcontrol
