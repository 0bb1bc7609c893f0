// Package limitranger is the pure core of kube-apiserver's LimitRanger admission plugin
// (plugin/pkg/admission/limitranger): DefaultPod fills a new pod's containers' missing requests and limits from
// the LimitRanges' Container defaults and records what it set in the kubernetes.io/limit-ranger annotation;
// ValidatePod and ValidatePVC check min, max and maxLimitRequestRatio of the Container, Pod and
// PersistentVolumeClaim limit types and return upstream's messages (the caller answers 403 Forbidden).
//
// Functions are synchronous and change only the object they are given; ranges are read, never changed.
// Constraints are checked in sorted resource-name order, so messages are deterministic.
package limitranger
