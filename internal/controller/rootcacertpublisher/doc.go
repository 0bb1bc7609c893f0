// Package rootcacertpublisher is kube-controller-manager's root CA certificate publisher: every namespace has a
// ConfigMap "kube-root-ca.crt" holding the cluster CA that pods use to verify the API server.
//
// Contract. The controller is built with the cluster CA PEM (controller.Context.RootCA). A sync of namespace N:
//
//   - does nothing when the namespace cache shows N being deleted (deletionTimestamp set or phase Terminating);
//   - creates ConfigMap N/kube-root-ca.crt with data {"ca.crt": <CA PEM>} and the annotation
//     kubernetes.io/description (upstream's text, Description) when the cache shows none; NotFound and the API
//     server's refusal to create in a terminating namespace count as success;
//   - otherwise, when the ConfigMap's data is not exactly {"ca.crt": <CA PEM>} (binaryData is left alone, as
//     upstream) or the description annotation is empty, updates it so that data is exactly that and the
//     annotation holds Description, keeping its other annotations and labels.
//
// N is queued when a namespace is added, when an Active namespace is updated, and when a ConfigMap named
// kube-root-ca.crt is updated or deleted, so a deleted ConfigMap is recreated and an edited one restored. Other
// errors are retried with back-off. With no CA (an empty RootCA) the controller publishes nothing and says so
// once in the log.
package rootcacertpublisher
