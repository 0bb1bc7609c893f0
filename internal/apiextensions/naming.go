package apiextensions

import (
	"fmt"
	"slices"
	"strings"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/api/equality"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/transport"
)

// NamingStatus returns crd's status with the names it may use accepted and its NamesAccepted and Established conditions set.
//
// It is upstream's naming controller followed by its establishing
// controller. A requested name (plural, singular, short names; kind and
// listKind separately) is accepted when it equals the name already accepted
// for that field or no CRD of the same group has accepted it (others are the
// other CRDs, their status.acceptedNames counting; crd's own accepted names
// count too). A conflicting name keeps the previously accepted one and sets
// NamesAccepted False with reason PluralConflict, SingularConflict,
// ShortNamesConflict, KindConflict or ListKindConflict. Established turns True
// (InitialNamesAccepted) once all names are accepted, unless a conversion
// webhook's caBundle is unusable (False, InvalidCABundle); once True it stays
// True. Conditions that change get now as lastTransitionTime. crd is not
// modified.
func NamingStatus(crd *apiextv1.CustomResourceDefinition, others []*apiextv1.CustomResourceDefinition, now metav1.Time) apiextv1.CustomResourceDefinitionStatus {
	status := *crd.Status.DeepCopy()
	resources, kinds := acceptedNamesInGroup(crd, others)

	namesAccepted := apiextv1.CustomResourceDefinitionCondition{Type: apiextv1.NamesAccepted, Status: apiextv1.ConditionUnknown, LastTransitionTime: now}
	conflict := func(reason string, err error) {
		namesAccepted.Status = apiextv1.ConditionFalse
		namesAccepted.Reason = reason
		namesAccepted.Message = err.Error()
	}
	requested, accepted := crd.Spec.Names, crd.Status.AcceptedNames
	names := *accepted.DeepCopy()

	if err := equalToAcceptedOrFresh(requested.Plural, accepted.Plural, resources); err != nil {
		conflict("PluralConflict", err)
	} else {
		names.Plural = requested.Plural
	}
	if err := equalToAcceptedOrFresh(requested.Singular, accepted.Singular, resources); err != nil {
		conflict("SingularConflict", err)
	} else {
		names.Singular = requested.Singular
	}
	if !equality.Semantic.DeepEqual(requested.ShortNames, accepted.ShortNames) {
		var msgs []string
		for _, short := range requested.ShortNames {
			if slices.Contains(accepted.ShortNames, short) {
				continue
			}
			if err := equalToAcceptedOrFresh(short, "", resources); err != nil {
				msgs = append(msgs, err.Error())
			}
		}
		if len(msgs) > 0 {
			conflict("ShortNamesConflict", aggregateError(msgs))
		} else {
			names.ShortNames = requested.ShortNames
		}
	}
	if err := equalToAcceptedOrFresh(requested.Kind, accepted.Kind, kinds); err != nil {
		conflict("KindConflict", err)
	} else {
		names.Kind = requested.Kind
	}
	if err := equalToAcceptedOrFresh(requested.ListKind, accepted.ListKind, kinds); err != nil {
		conflict("ListKindConflict", err)
	} else {
		names.ListKind = requested.ListKind
	}
	names.Categories = requested.Categories
	if namesAccepted.Status == apiextv1.ConditionUnknown {
		namesAccepted.Status = apiextv1.ConditionTrue
		namesAccepted.Reason = "NoConflicts"
		namesAccepted.Message = "no conflicts found"
	}

	established := apiextv1.CustomResourceDefinitionCondition{
		Type: apiextv1.Established, Status: apiextv1.ConditionFalse,
		Reason: "NotAccepted", Message: "not all names are accepted", LastTransitionTime: now,
	}
	if old := FindCondition(&status, apiextv1.Established); old != nil {
		established = *old
	}
	if established.Status != apiextv1.ConditionTrue && namesAccepted.Status == apiextv1.ConditionTrue {
		established = apiextv1.CustomResourceDefinitionCondition{
			Type: apiextv1.Established, Status: apiextv1.ConditionTrue,
			Reason: "InitialNamesAccepted", Message: "the initial names have been accepted", LastTransitionTime: now,
		}
		if !validCABundle(crd) {
			established.Status = apiextv1.ConditionFalse
			established.Reason = "InvalidCABundle"
			established.Message = "The conversion webhook CABundle is invalid"
		}
	}

	status.AcceptedNames = names
	SetCondition(&status, namesAccepted)
	SetCondition(&status, established)
	return status
}

// acceptedNamesInGroup collects the resource names and kinds accepted by CRDs of crd's group, crd included.
func acceptedNamesInGroup(crd *apiextv1.CustomResourceDefinition, others []*apiextv1.CustomResourceDefinition) (resources, kinds map[string]bool) {
	resources, kinds = map[string]bool{}, map[string]bool{}
	add := func(n apiextv1.CustomResourceDefinitionNames) {
		resources[n.Plural] = true
		resources[n.Singular] = true
		for _, s := range n.ShortNames {
			resources[s] = true
		}
		kinds[n.Kind] = true
		kinds[n.ListKind] = true
	}
	add(crd.Status.AcceptedNames)
	for _, o := range others {
		if o == nil || o.Name == crd.Name || o.Spec.Group != crd.Spec.Group {
			continue
		}
		add(o.Status.AcceptedNames)
	}
	return resources, kinds
}

func equalToAcceptedOrFresh(requested, accepted string, used map[string]bool) error {
	if requested == accepted || !used[requested] {
		return nil
	}
	return fmt.Errorf("%q is already in use", requested)
}

// aggregateError joins messages as k8s.io/apimachinery's error aggregate prints them.
func aggregateError(msgs []string) error {
	if len(msgs) == 1 {
		return fmt.Errorf("%s", msgs[0])
	}
	return fmt.Errorf("[%s]", strings.Join(msgs, ", "))
}

// validCABundle reports whether a conversion webhook's caBundle, if any, holds usable certificates.
func validCABundle(crd *apiextv1.CustomResourceDefinition) bool {
	c := crd.Spec.Conversion
	if c == nil || c.Webhook == nil || c.Webhook.ClientConfig == nil {
		return true
	}
	return caBundleError(c.Webhook.ClientConfig.CABundle) == nil
}

// caBundleError returns why a caBundle cannot be used as a TLS client's roots, as the webhook client would fail.
func caBundleError(caBundle []byte) error {
	_, err := transport.TLSConfigFor(&transport.Config{TLS: transport.TLSConfig{CAData: caBundle}})
	return err
}
