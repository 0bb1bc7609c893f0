package validation

import (
	"fmt"
	"strings"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validate/content"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// Lease (coordination.k8s.io/v1)

func validateLease(lease *coordinationv1.Lease) field.ErrorList {
	allErrs := validateObjectMeta(&lease.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateLeaseSpec(&lease.Spec, field.NewPath("spec"))...)
}

func validateLeaseUpdate(lease, old *coordinationv1.Lease) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&lease.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	return append(allErrs, validateLeaseSpec(&lease.Spec, field.NewPath("spec"))...)
}

func validateLeaseSpec(spec *coordinationv1.LeaseSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if spec.LeaseDurationSeconds != nil && *spec.LeaseDurationSeconds <= 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("leaseDurationSeconds"), spec.LeaseDurationSeconds, "must be greater than 0"))
	}
	if spec.LeaseTransitions != nil && *spec.LeaseTransitions < 0 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("leaseTransitions"), spec.LeaseTransitions, "must be greater than or equal to 0"))
	}
	if spec.Strategy != nil {
		strategy := *spec.Strategy
		p := fldPath.Child("strategy")
		if len(strings.Split(string(strategy), "/")) == 1 {
			// Unprefixed names are reserved for Kubernetes-defined strategies.
			if strategy != coordinationv1.OldestEmulationVersion {
				allErrs = append(allErrs, field.NotSupported(p, strategy, []coordinationv1.CoordinatedLeaseStrategy{coordinationv1.OldestEmulationVersion}))
			}
		} else {
			allErrs = append(allErrs, validateQualifiedName(string(strategy), p)...)
		}
	}
	if spec.PreferredHolder != nil && *spec.PreferredHolder != "" && (spec.Strategy == nil || *spec.Strategy == "") {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("preferredHolder"), "may only be specified if `strategy` is defined"))
	}
	return allErrs
}

// EndpointSlice (discovery.k8s.io/v1)

const (
	maxEndpointSliceTopologyLabels = 16
	maxEndpointSliceAddresses      = 100
	maxEndpointSlicePorts          = 20000
	maxEndpointSliceEndpoints      = 1000
	maxEndpointSliceZoneHints      = 8
)

var supportedAddressTypes = sets.New(discoveryv1.AddressTypeIPv4, discoveryv1.AddressTypeIPv6, discoveryv1.AddressTypeFQDN)

func validateEndpointSlice(slice, old *discoveryv1.EndpointSlice) field.ErrorList {
	allErrs := validateObjectMeta(&slice.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	addrTypePath := field.NewPath("addressType")
	if slice.AddressType == "" {
		allErrs = append(allErrs, field.Required(addrTypePath, ""))
	} else if !supportedAddressTypes.Has(slice.AddressType) {
		allErrs = append(allErrs, field.NotSupported(addrTypePath, slice.AddressType, sets.List(supportedAddressTypes)))
	}
	allErrs = append(allErrs, validateSliceEndpoints(slice.Endpoints, slice.AddressType, field.NewPath("endpoints"))...)
	allErrs = append(allErrs, validateSlicePorts(slice.Ports, field.NewPath("ports"))...)
	return allErrs
}

func validateEndpointSliceUpdate(slice, old *discoveryv1.EndpointSlice) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&slice.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateEndpointSlice(slice, old)...)
	return append(allErrs, immutableField(slice.AddressType, old.AddressType, field.NewPath("addressType"))...)
}

func validateSliceEndpoints(endpoints []discoveryv1.Endpoint, addrType discoveryv1.AddressType, fldPath *field.Path) field.ErrorList {
	if len(endpoints) > maxEndpointSliceEndpoints {
		return field.ErrorList{field.TooMany(fldPath, len(endpoints), maxEndpointSliceEndpoints)}
	}
	var allErrs field.ErrorList
	for i, endpoint := range endpoints {
		idxPath := fldPath.Index(i)
		addressPath := idxPath.Child("addresses")
		if len(endpoint.Addresses) == 0 {
			allErrs = append(allErrs, field.Required(addressPath, "must contain at least 1 address"))
		} else if len(endpoint.Addresses) > maxEndpointSliceAddresses {
			allErrs = append(allErrs, field.TooMany(addressPath, len(endpoint.Addresses), maxEndpointSliceAddresses))
		}
		for j, address := range endpoint.Addresses {
			p := addressPath.Index(j)
			// Unknown address types fall through unchecked.
			switch addrType {
			case discoveryv1.AddressTypeIPv4:
				if ip := parseIPSloppy(address); ip == nil || ip.To4() == nil || strings.Contains(address, ":") {
					allErrs = append(allErrs, field.Invalid(p, address, "must be a valid IPv4 address"))
				} else {
					allErrs = append(allErrs, validateNonSpecialIP(address, p)...)
				}
			case discoveryv1.AddressTypeIPv6:
				if !isIPv6String(address) {
					allErrs = append(allErrs, field.Invalid(p, address, "must be a valid IPv6 address"))
				} else {
					allErrs = append(allErrs, validateNonSpecialIP(address, p)...)
				}
			case discoveryv1.AddressTypeFQDN:
				allErrs = append(allErrs, validation.IsFullyQualifiedDomainName(p, address)...)
			}
		}
		if endpoint.NodeName != nil {
			for _, msg := range nameIsDNSSubdomain(*endpoint.NodeName, false) {
				allErrs = append(allErrs, field.Invalid(idxPath.Child("nodeName"), *endpoint.NodeName, msg))
			}
		}
		topologyPath := idxPath.Child("deprecatedTopology")
		if len(endpoint.DeprecatedTopology) > maxEndpointSliceTopologyLabels {
			allErrs = append(allErrs, field.TooMany(topologyPath, len(endpoint.DeprecatedTopology), maxEndpointSliceTopologyLabels))
		}
		allErrs = append(allErrs, metav1validation.ValidateLabels(endpoint.DeprecatedTopology, topologyPath)...)
		if endpoint.Hostname != nil {
			allErrs = append(allErrs, validateDNS1123Label(*endpoint.Hostname, idxPath.Child("hostname"))...)
		}
		if endpoint.Hints != nil {
			fzPath := idxPath.Child("hints").Child("forZones")
			if len(endpoint.Hints.ForZones) > maxEndpointSliceZoneHints {
				allErrs = append(allErrs, field.TooMany(fzPath, len(endpoint.Hints.ForZones), maxEndpointSliceZoneHints))
				continue
			}
			zoneNames := sets.Set[string]{}
			for j, forZone := range endpoint.Hints.ForZones {
				zonePath := fzPath.Index(j).Child("name")
				if zoneNames.Has(forZone.Name) {
					allErrs = append(allErrs, field.Duplicate(zonePath, forZone.Name))
				} else {
					zoneNames.Insert(forZone.Name)
				}
				for _, msg := range validation.IsValidLabelValue(forZone.Name) {
					allErrs = append(allErrs, field.Invalid(zonePath, forZone.Name, msg))
				}
			}
		}
	}
	return allErrs
}

func validateSlicePorts(ports []discoveryv1.EndpointPort, fldPath *field.Path) field.ErrorList {
	if len(ports) > maxEndpointSlicePorts {
		return field.ErrorList{field.TooMany(fldPath, len(ports), maxEndpointSlicePorts)}
	}
	var allErrs field.ErrorList
	portNames := sets.Set[string]{}
	for i, port := range ports {
		idxPath := fldPath.Index(i)
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if len(name) > 0 {
			allErrs = append(allErrs, validateDNS1123Label(name, idxPath.Child("name"))...)
		}
		if portNames.Has(name) {
			allErrs = append(allErrs, field.Duplicate(idxPath.Child("name"), name))
		} else {
			portNames.Insert(name)
		}
		if port.Protocol == nil {
			allErrs = append(allErrs, field.Required(idxPath.Child("protocol"), ""))
		} else if !supportedPortProtocols.Has(*port.Protocol) {
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("protocol"), *port.Protocol, sets.List(supportedPortProtocols)))
		}
		if port.AppProtocol != nil {
			allErrs = append(allErrs, validateQualifiedName(*port.AppProtocol, idxPath.Child("appProtocol"))...)
		}
	}
	return allErrs
}

// Event (events.k8s.io/v1). Errors name the fields as kube-apiserver does,
// after its conversion to the internal Event (involvedObject, message, ...).

func eventsV1Fields(e *eventsv1.Event) eventFields {
	f := eventFields{
		meta: &e.ObjectMeta, involvedObject: e.Regarding, related: e.Related,
		reason: e.Reason, message: e.Note, source: e.DeprecatedSource,
		firstTimestamp: e.DeprecatedFirstTimestamp, lastTimestamp: e.DeprecatedLastTimestamp,
		count: e.DeprecatedCount, eventType: e.Type, eventTime: e.EventTime, action: e.Action,
		reportingController: e.ReportingController, reportingInstance: e.ReportingInstance,
	}
	if e.Series != nil {
		f.series = &corev1.EventSeries{Count: e.Series.Count, LastObservedTime: e.Series.LastObservedTime}
	}
	return f
}

func validateEventsV1Create(e *eventsv1.Event) field.ErrorList {
	f := eventsV1Fields(e)
	allErrs := legacyValidateEvent(f, "reportingController")
	return append(allErrs, validateStrictEvent(f)...)
}

func validateEventsV1Update(e, old *eventsv1.Event) field.ErrorList {
	f := eventsV1Fields(e)
	allErrs := legacyValidateEvent(f, "reportingController")
	return append(allErrs, validateStrictEventUpdate(f, eventsV1Fields(old))...)
}

// PodDisruptionBudget (policy/v1). As upstream, the name is only checked by
// the common path-segment rule.

var supportedUnhealthyPodEvictionPolicies = sets.New(policyv1.IfHealthyBudget, policyv1.AlwaysAllow)

func validatePodDisruptionBudget(pdb *policyv1.PodDisruptionBudget) field.ErrorList {
	fldPath := field.NewPath("spec")
	spec := pdb.Spec
	var allErrs field.ErrorList
	if spec.MinAvailable != nil && spec.MaxUnavailable != nil {
		allErrs = append(allErrs, field.Invalid(fldPath, spec, "minAvailable and maxUnavailable cannot be both set"))
	}
	if spec.MinAvailable != nil {
		allErrs = append(allErrs, validatePositiveIntOrPercent(*spec.MinAvailable, fldPath.Child("minAvailable"))...)
		allErrs = append(allErrs, isNotMoreThan100Percent(*spec.MinAvailable, fldPath.Child("minAvailable"))...)
	}
	if spec.MaxUnavailable != nil {
		allErrs = append(allErrs, validatePositiveIntOrPercent(*spec.MaxUnavailable, fldPath.Child("maxUnavailable"))...)
		allErrs = append(allErrs, isNotMoreThan100Percent(*spec.MaxUnavailable, fldPath.Child("maxUnavailable"))...)
	}
	allErrs = append(allErrs, metav1validation.ValidateLabelSelector(spec.Selector, strictSelectorOpts, fldPath.Child("selector"))...)
	if spec.UnhealthyPodEvictionPolicy != nil && !supportedUnhealthyPodEvictionPolicies.Has(*spec.UnhealthyPodEvictionPolicy) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("unhealthyPodEvictionPolicy"), *spec.UnhealthyPodEvictionPolicy, sets.List(supportedUnhealthyPodEvictionPolicies)))
	}
	return allErrs
}

func validatePodDisruptionBudgetStatusUpdate(pdb, old *policyv1.PodDisruptionBudget) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&pdb.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	fldPath := field.NewPath("status")
	s := pdb.Status
	allErrs = append(allErrs, metav1validation.ValidateConditions(s.Conditions, fldPath.Child("conditions"))...)
	allErrs = append(allErrs, validateNonnegative(int64(s.DisruptionsAllowed), fldPath.Child("disruptionsAllowed"))...)
	allErrs = append(allErrs, validateNonnegative(int64(s.CurrentHealthy), fldPath.Child("currentHealthy"))...)
	allErrs = append(allErrs, validateNonnegative(int64(s.DesiredHealthy), fldPath.Child("desiredHealthy"))...)
	allErrs = append(allErrs, validateNonnegative(int64(s.ExpectedPods), fldPath.Child("expectedPods"))...)
	return allErrs
}

// HorizontalPodAutoscaler (autoscaling/v2)

const (
	maxPeriodSeconds              = 1800
	maxStabilizationWindowSeconds = 3600
)

var (
	validMetricSourceTypes = sets.New(
		autoscalingv2.ObjectMetricSourceType, autoscalingv2.PodsMetricSourceType,
		autoscalingv2.ResourceMetricSourceType, autoscalingv2.ExternalMetricSourceType,
		autoscalingv2.ContainerResourceMetricSourceType)
	validSelectPolicyValues = sets.New(autoscalingv2.MaxChangePolicySelect, autoscalingv2.MinChangePolicySelect, autoscalingv2.DisabledPolicySelect)
	validPolicyTypes        = sets.New(autoscalingv2.PodsScalingPolicy, autoscalingv2.PercentScalingPolicy)
)

func validateHorizontalPodAutoscaler(hpa *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	allErrs := validateObjectMeta(&hpa.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	return append(allErrs, validateHPASpec(&hpa.Spec, field.NewPath("spec"), 1)...)
}

func validateHorizontalPodAutoscalerUpdate(hpa, old *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&hpa.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	// An existing minReplicas of 0 (from the HPAScaleToZero gate) is kept valid.
	lowerBound := int32(1)
	if old.Spec.MinReplicas != nil && *old.Spec.MinReplicas == 0 {
		lowerBound = 0
	}
	return append(allErrs, validateHPASpec(&hpa.Spec, field.NewPath("spec"), lowerBound)...)
}

func validateHorizontalPodAutoscalerStatusUpdate(hpa, old *autoscalingv2.HorizontalPodAutoscaler) field.ErrorList {
	allErrs := validateObjectMetaUpdate(&hpa.ObjectMeta, &old.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, validateNonnegative(int64(hpa.Status.CurrentReplicas), field.NewPath("status", "currentReplicas"))...)
	allErrs = append(allErrs, validateNonnegative(int64(hpa.Status.DesiredReplicas), field.NewPath("status", "desiredReplicas"))...)
	return allErrs
}

func validateHPASpec(spec *autoscalingv2.HorizontalPodAutoscalerSpec, fldPath *field.Path, minReplicasLowerBound int32) field.ErrorList {
	var allErrs field.ErrorList
	if spec.MinReplicas != nil && *spec.MinReplicas < minReplicasLowerBound {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("minReplicas"), *spec.MinReplicas,
			fmt.Sprintf("must be greater than or equal to %d", minReplicasLowerBound)))
	}
	if spec.MaxReplicas < 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("maxReplicas"), spec.MaxReplicas, "must be greater than 0"))
	}
	if spec.MinReplicas != nil && spec.MaxReplicas < *spec.MinReplicas {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("maxReplicas"), spec.MaxReplicas, "must be greater than or equal to `minReplicas`"))
	}
	if refErrs := validateCrossVersionObjectReference(spec.ScaleTargetRef, fldPath.Child("scaleTargetRef")); len(refErrs) > 0 {
		allErrs = append(allErrs, refErrs...)
	} else if errs := validateMetrics(spec.Metrics, fldPath.Child("metrics"), spec.MinReplicas); len(errs) > 0 {
		allErrs = append(allErrs, errs...)
	} else if spec.Behavior != nil {
		allErrs = append(allErrs, validateScalingRules(spec.Behavior.ScaleUp, fldPath.Child("behavior", "scaleUp"))...)
		allErrs = append(allErrs, validateScalingRules(spec.Behavior.ScaleDown, fldPath.Child("behavior", "scaleDown"))...)
	}
	return allErrs
}

func validateCrossVersionObjectReference(ref autoscalingv2.CrossVersionObjectReference, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(ref.Kind) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("kind"), ""))
	} else {
		for _, msg := range apimachineryvalidation.IsPathSegmentName(ref.Kind) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("kind"), ref.Kind, msg))
		}
	}
	if len(ref.Name) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), ""))
	} else {
		for _, msg := range apimachineryvalidation.IsPathSegmentName(ref.Name) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), ref.Name, msg))
		}
	}
	return allErrs
}

func validateMetrics(metrics []autoscalingv2.MetricSpec, fldPath *field.Path, minReplicas *int32) field.ErrorList {
	var allErrs field.ErrorList
	hasObjectOrExternal := false
	for i, m := range metrics {
		allErrs = append(allErrs, validateMetricSpec(m, fldPath.Index(i))...)
		if m.Type == autoscalingv2.ObjectMetricSourceType || m.Type == autoscalingv2.ExternalMetricSourceType {
			hasObjectOrExternal = true
		}
	}
	if minReplicas != nil && *minReplicas == 0 && !hasObjectOrExternal {
		allErrs = append(allErrs, field.Forbidden(fldPath, "must specify at least one Object or External metric to support scaling to zero replicas"))
	}
	return allErrs
}

func validateMetricSpec(spec autoscalingv2.MetricSpec, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(spec.Type) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("type"), "must specify a metric source type"))
	}
	if !validMetricSourceTypes.Has(spec.Type) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("type"), spec.Type, sets.List(validMetricSourceTypes)))
	}
	present := map[string]bool{}
	if spec.Object != nil {
		present["object"] = true
		if len(present) == 1 {
			allErrs = append(allErrs, validateObjectSource(spec.Object, fldPath.Child("object"))...)
		}
	}
	if spec.External != nil {
		present["external"] = true
		if len(present) == 1 {
			allErrs = append(allErrs, validateExternalSource(spec.External, fldPath.Child("external"))...)
		}
	}
	if spec.Pods != nil {
		present["pods"] = true
		if len(present) == 1 {
			allErrs = append(allErrs, validatePodsSource(spec.Pods, fldPath.Child("pods"))...)
		}
	}
	if spec.Resource != nil {
		present["resource"] = true
		if len(present) == 1 {
			allErrs = append(allErrs, validateResourceSource(spec.Resource.Name, spec.Resource.Target, fldPath.Child("resource"))...)
		}
	}
	if spec.ContainerResource != nil {
		present["containerResource"] = true
		if len(present) == 1 {
			p := fldPath.Child("containerResource")
			allErrs = append(allErrs, validateResourceSource(spec.ContainerResource.Name, spec.ContainerResource.Target, p)...)
			if len(spec.ContainerResource.Container) == 0 {
				allErrs = append(allErrs, field.Required(p.Child("container"), "must specify a container"))
			} else {
				allErrs = append(allErrs, validateDNS1123Label(spec.ContainerResource.Container, p.Child("container"))...)
			}
		}
	}
	var expected string
	required := func(name string, set bool) {
		if !set {
			allErrs = append(allErrs, field.Required(fldPath.Child(name), "must populate information for the given metric source"))
		}
		expected = name
	}
	switch spec.Type {
	case autoscalingv2.ObjectMetricSourceType:
		required("object", spec.Object != nil)
	case autoscalingv2.PodsMetricSourceType:
		required("pods", spec.Pods != nil)
	case autoscalingv2.ResourceMetricSourceType:
		required("resource", spec.Resource != nil)
	case autoscalingv2.ExternalMetricSourceType:
		required("external", spec.External != nil)
	case autoscalingv2.ContainerResourceMetricSourceType:
		required("containerResource", spec.ContainerResource != nil)
	}
	delete(present, expected)
	for _, name := range sortedKeys(present) {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child(name), "must populate the given metric source only"))
	}
	return allErrs
}

func validateMetricIdentifier(id autoscalingv2.MetricIdentifier, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(id.Name) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), "must specify a metric name"))
	} else {
		for _, msg := range apimachineryvalidation.IsPathSegmentName(id.Name) {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("name"), id.Name, msg))
		}
	}
	if id.Selector != nil {
		allErrs = append(allErrs, metav1validation.ValidateLabelSelector(id.Selector, strictSelectorOpts, fldPath.Child("selector"))...)
	}
	return allErrs
}

func validateObjectSource(src *autoscalingv2.ObjectMetricSource, fldPath *field.Path) field.ErrorList {
	allErrs := validateCrossVersionObjectReference(src.DescribedObject, fldPath.Child("describedObject"))
	allErrs = append(allErrs, validateMetricIdentifier(src.Metric, fldPath.Child("metric"))...)
	allErrs = append(allErrs, validateMetricTarget(src.Target, fldPath.Child("target"))...)
	if src.Target.Value == nil && src.Target.AverageValue == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("target").Child("averageValue"), "must set either a target value or averageValue"))
	}
	return allErrs
}

func validateExternalSource(src *autoscalingv2.ExternalMetricSource, fldPath *field.Path) field.ErrorList {
	allErrs := validateMetricIdentifier(src.Metric, fldPath.Child("metric"))
	allErrs = append(allErrs, validateMetricTarget(src.Target, fldPath.Child("target"))...)
	if src.Target.Value == nil && src.Target.AverageValue == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("target").Child("averageValue"), "must set either a target value for metric or a per-pod target"))
	}
	if src.Target.Value != nil && src.Target.AverageValue != nil {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("target").Child("value"), "may not set both a target value for metric and a per-pod target"))
	}
	return allErrs
}

func validatePodsSource(src *autoscalingv2.PodsMetricSource, fldPath *field.Path) field.ErrorList {
	allErrs := validateMetricIdentifier(src.Metric, fldPath.Child("metric"))
	allErrs = append(allErrs, validateMetricTarget(src.Target, fldPath.Child("target"))...)
	if src.Target.AverageValue == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("target").Child("averageValue"), "must specify a positive target averageValue"))
	}
	return allErrs
}

func validateResourceSource(name corev1.ResourceName, target autoscalingv2.MetricTarget, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(name) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("name"), "must specify a resource name"))
	} else {
		allErrs = append(allErrs, validateContainerResourceName(name, fldPath.Child("name"))...)
	}
	allErrs = append(allErrs, validateMetricTarget(target, fldPath.Child("target"))...)
	if target.AverageUtilization == nil && target.AverageValue == nil {
		allErrs = append(allErrs, field.Required(fldPath.Child("target").Child("averageUtilization"), "must set either a target raw value or a target utilization"))
	}
	if target.AverageUtilization != nil && target.AverageValue != nil {
		allErrs = append(allErrs, field.Forbidden(fldPath.Child("target").Child("averageValue"), "may not set both a target raw value and a target utilization"))
	}
	return allErrs
}

func validateMetricTarget(mt autoscalingv2.MetricTarget, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList
	if len(mt.Type) == 0 {
		allErrs = append(allErrs, field.Required(fldPath.Child("type"), "must specify a metric target type"))
	}
	if mt.Type != autoscalingv2.UtilizationMetricType && mt.Type != autoscalingv2.ValueMetricType && mt.Type != autoscalingv2.AverageValueMetricType {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("type"), mt.Type, "must be either Utilization, Value, or AverageValue"))
	}
	if mt.Value != nil && mt.Value.Sign() != 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("value"), mt.Value, "must be positive"))
	}
	if mt.AverageValue != nil && mt.AverageValue.Sign() != 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("averageValue"), mt.AverageValue, "must be positive"))
	}
	if mt.AverageUtilization != nil && *mt.AverageUtilization < 1 {
		allErrs = append(allErrs, field.Invalid(fldPath.Child("averageUtilization"), mt.AverageUtilization, "must be greater than 0"))
	}
	return allErrs
}

func validateScalingRules(rules *autoscalingv2.HPAScalingRules, fldPath *field.Path) field.ErrorList {
	if rules == nil {
		return nil
	}
	var allErrs field.ErrorList
	if w := rules.StabilizationWindowSeconds; w != nil {
		if *w < 0 {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("stabilizationWindowSeconds"), w, "must be greater than or equal to zero"))
		}
		if *w > maxStabilizationWindowSeconds {
			allErrs = append(allErrs, field.Invalid(fldPath.Child("stabilizationWindowSeconds"), w, fmt.Sprintf("must be less than or equal to %v", maxStabilizationWindowSeconds)))
		}
	}
	if rules.SelectPolicy != nil && !validSelectPolicyValues.Has(*rules.SelectPolicy) {
		allErrs = append(allErrs, field.NotSupported(fldPath.Child("selectPolicy"), rules.SelectPolicy, sets.List(validSelectPolicyValues)))
	}
	policiesPath := fldPath.Child("policies")
	if len(rules.Policies) == 0 {
		allErrs = append(allErrs, field.Required(policiesPath, "must specify at least one Policy"))
	}
	for i, policy := range rules.Policies {
		idxPath := policiesPath.Index(i)
		if !validPolicyTypes.Has(policy.Type) {
			allErrs = append(allErrs, field.NotSupported(idxPath.Child("type"), policy.Type, sets.List(validPolicyTypes)))
		}
		if policy.Value <= 0 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("value"), policy.Value, "must be greater than zero"))
		}
		if policy.PeriodSeconds <= 0 {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("periodSeconds"), policy.PeriodSeconds, "must be greater than zero"))
		}
		if policy.PeriodSeconds > maxPeriodSeconds {
			allErrs = append(allErrs, field.Invalid(idxPath.Child("periodSeconds"), policy.PeriodSeconds, fmt.Sprintf("must be less than or equal to %v", maxPeriodSeconds)))
		}
	}
	return allErrs
}

// Scale (autoscaling/v1), the body of the /scale subresource.

func validateScale(scale *autoscalingv1.Scale) field.ErrorList {
	allErrs := validateObjectMeta(&scale.ObjectMeta, true, nameIsDNSSubdomain, field.NewPath("metadata"))
	if scale.Spec.Replicas < 0 {
		allErrs = append(allErrs, field.Invalid(field.NewPath("spec", "replicas"), scale.Spec.Replicas, "must be greater than or equal to 0"))
	}
	return allErrs
}
