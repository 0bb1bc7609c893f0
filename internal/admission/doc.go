// Package admission holds kube-apiserver's admission plugins whose core is pure: quota (ResourceQuota usage,
// scopes and the admission decision) and limitranger (LimitRanger defaults and constraints).
package admission
