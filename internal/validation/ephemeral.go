package validation

import (
	"fmt"
	"reflect"
	"strings"
	"unicode"
	"unicode/utf8"

	corev1 "k8s.io/api/core/v1"
	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// allowedEphemeralContainerFields are the EphemeralContainerCommon fields an ephemeral container may set, as upstream's.
var allowedEphemeralContainerFields = map[string]bool{
	"Name": true, "Image": true, "Command": true, "Args": true, "WorkingDir": true, "EnvFrom": true, "Env": true,
	"VolumeMounts": true, "VolumeDevices": true, "TerminationMessagePath": true, "TerminationMessagePolicy": true,
	"ImagePullPolicy": true, "SecurityContext": true, "Stdin": true, "StdinOnce": true, "TTY": true,
}

// ValidatePodEphemeralContainersUpdate is kube-apiserver's check of a write through pods/ephemeralcontainers:
// newPod must be valid with its ephemeral containers, and the existing ones may be neither changed nor removed.
func ValidatePodEphemeralContainersUpdate(newPod, oldPod *corev1.Pod) field.ErrorList {
	fldPath := field.NewPath("metadata")
	allErrs := validateObjectMetaUpdate(&newPod.ObjectMeta, &oldPod.ObjectMeta, fldPath)
	specPath := field.NewPath("spec")
	rest := newPod.Spec
	rest.EphemeralContainers = nil // validated below with upstream's full rules
	allErrs = append(allErrs, validatePodSpec(&rest, specPath, podOpts{})...)
	vols, _ := validateVolumes(newPod.Spec.Volumes, specPath.Child("volumes"))
	allErrs = append(allErrs, validateEphemeralContainers(&newPod.Spec, vols, specPath.Child("ephemeralContainers"))...)
	allErrs = append(allErrs, validatePodSpecificAnnotationUpdates(newPod, oldPod, fldPath.Child("annotations"))...)

	if _, ok := oldPod.Annotations[corev1.MirrorPodAnnotationKey]; ok {
		return field.ErrorList{field.Forbidden(field.NewPath(""), "static pods do not support ephemeral containers")}
	}

	// Existing ephemeral containers may not be changed; patches do not keep the order, so each is matched by name.
	ecPath := specPath.Child("ephemeralContainers")
	byName := map[string]*corev1.EphemeralContainer{}
	for i := range newPod.Spec.EphemeralContainers {
		byName[newPod.Spec.EphemeralContainers[i].Name] = &newPod.Spec.EphemeralContainers[i]
	}
	for _, old := range oldPod.Spec.EphemeralContainers {
		if cur, ok := byName[old.Name]; !ok {
			allErrs = append(allErrs, field.Forbidden(ecPath, fmt.Sprintf("existing ephemeral containers %q may not be removed\n", old.Name)))
		} else if !apiequality.Semantic.DeepEqual(old, *cur) {
			allErrs = append(allErrs, field.Forbidden(ecPath, fmt.Sprintf("existing ephemeral containers %q may not be changed\n%v", old.Name, objectDiff("core.EphemeralContainer", old, *cur))))
		}
	}
	return allErrs
}

// validateEphemeralContainers is upstream's validateEphemeralContainers: the common container checks, names unique
// across all containers, a target that names a regular or init container, and only the allowed fields set.
func validateEphemeralContainers(spec *corev1.PodSpec, vols map[string]corev1.VolumeSource, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	otherNames, allNames := sets.Set[string]{}, sets.Set[string]{}
	for _, c := range spec.Containers {
		otherNames.Insert(c.Name)
		allNames.Insert(c.Name)
	}
	for _, c := range spec.InitContainers {
		otherNames.Insert(c.Name)
		allNames.Insert(c.Name)
	}
	for i, ec := range spec.EphemeralContainers {
		idxPath := fldPath.Index(i)
		c := (*corev1.Container)(&ec.EphemeralContainerCommon)
		allErrs = append(allErrs, validateContainerCommon(c, vols, idxPath)...)
		if len(c.Image) != len(strings.TrimSpace(c.Image)) {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("image"), c.Image, "must not have leading or trailing whitespace"))
		}
		if allNames.Has(ec.Name) {
			allErrs = append(allErrs, field.Duplicate(idxPath.Child("name"), ec.Name))
		} else {
			allNames.Insert(ec.Name)
		}
		if ec.TargetContainerName != "" && !otherNames.Has(ec.TargetContainerName) {
			allErrs = append(allErrs, field.NotFound(idxPath.Child("targetContainerName"), ec.TargetContainerName))
		}
		allErrs = append(allErrs, validateFieldAllowList(ec.EphemeralContainerCommon, allowedEphemeralContainerFields, "cannot be set for an Ephemeral Container", idxPath)...)
		for j, vm := range ec.VolumeMounts {
			if vm.SubPath != "" {
				allErrs = append(allErrs, field.Forbidden(idxPath.Child("volumeMounts").Index(j).Child("subPath"), "cannot be set for an Ephemeral Container"))
			}
			if vm.SubPathExpr != "" {
				allErrs = append(allErrs, field.Forbidden(idxPath.Child("volumeMounts").Index(j).Child("subPathExpr"), "cannot be set for an Ephemeral Container"))
			}
		}
	}
	return allErrs
}

// validateFieldAllowList forbids every field of the struct value that is set but not allowed.
func validateFieldAllowList(value any, allowed map[string]bool, errorText string, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	t, v := reflect.TypeOf(value), reflect.ValueOf(value)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if allowed[f.Name] {
			continue
		}
		if !v.Field(i).IsZero() {
			r, n := utf8.DecodeRuneInString(f.Name)
			allErrs = append(allErrs, field.Forbidden(fldPath.Child(string(unicode.ToLower(r))+f.Name[n:]), errorText))
		}
	}
	return allErrs
}
