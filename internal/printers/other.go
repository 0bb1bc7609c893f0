package printers

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	autoscalingv1 "k8s.io/api/autoscaling/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	coordinationv1 "k8s.io/api/coordination/v1"
	corev1 "k8s.io/api/core/v1"
	discoveryv1 "k8s.io/api/discovery/v1"
	eventsv1 "k8s.io/api/events/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func init() {
	register[*coordinationv1.Lease, *coordinationv1.LeaseList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Holder", Type: "string", Description: coordinationv1.LeaseSpec{}.SwaggerDoc()["holderIdentity"]},
		ageColumn,
	}, printLease)

	register[*discoveryv1.EndpointSlice, *discoveryv1.EndpointSliceList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "AddressType", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["addressType"]},
		{Name: "Ports", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["ports"]},
		{Name: "Endpoints", Type: "string", Description: discoveryv1.EndpointSlice{}.SwaggerDoc()["endpoints"]},
		ageColumn,
	}, printEndpointSlice)

	// events.k8s.io Events are stored and printed as core Events.
	register[*eventsv1.Event, *eventsv1.EventList](eventColumns, printEventsV1Event)

	register[*policyv1.PodDisruptionBudget, *policyv1.PodDisruptionBudgetList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Min Available", Type: "string", Description: "The minimum number of pods that must be available."},
		{Name: "Max Unavailable", Type: "string", Description: "The maximum number of pods that may be unavailable."},
		{Name: "Allowed Disruptions", Type: "integer", Description: "Calculated number of pods that may be disrupted at this time."},
		ageColumn,
	}, printPodDisruptionBudget)

	hpaColumns := []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Reference", Type: "string", Description: autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["scaleTargetRef"]},
		{Name: "Targets", Type: "string", Description: autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["metrics"]},
		{Name: "MinPods", Type: "string", Description: autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["minReplicas"]},
		{Name: "MaxPods", Type: "string", Description: autoscalingv2.HorizontalPodAutoscalerSpec{}.SwaggerDoc()["maxReplicas"]},
		{Name: "Replicas", Type: "string", Description: autoscalingv2.HorizontalPodAutoscalerStatus{}.SwaggerDoc()["currentReplicas"]},
		ageColumn,
	}
	register[*autoscalingv2.HorizontalPodAutoscaler, *autoscalingv2.HorizontalPodAutoscalerList](hpaColumns, printHorizontalPodAutoscaler)
	// The same resource read through autoscaling/v1 prints the same table.
	register[*autoscalingv1.HorizontalPodAutoscaler, *autoscalingv1.HorizontalPodAutoscalerList](hpaColumns, printHorizontalPodAutoscalerV1)
}

func printLease(obj *coordinationv1.Lease, now time.Time) []interface{} {
	var holderIdentity string
	if obj.Spec.HolderIdentity != nil {
		holderIdentity = *obj.Spec.HolderIdentity
	}
	return []interface{}{obj.Name, holderIdentity, translateTimestampSince(obj.CreationTimestamp, now)}
}

func formatDiscoveryPorts(ports []discoveryv1.EndpointPort) string {
	list := []string{}
	maxItems := 3
	more := false
	count := 0
	for _, port := range ports {
		if len(list) < maxItems {
			portNum := "*"
			if port.Port != nil {
				portNum = strconv.Itoa(int(*port.Port))
			} else if port.Name != nil {
				portNum = *port.Name
			}
			list = append(list, portNum)
		} else if len(list) == maxItems {
			more = true
		}
		count++
	}
	return listWithMoreString(list, more, count, maxItems)
}

func formatDiscoveryEndpoints(endpoints []discoveryv1.Endpoint) string {
	list := []string{}
	maxItems := 3
	more := false
	count := 0
	for _, endpoint := range endpoints {
		for _, address := range endpoint.Addresses {
			if len(list) < maxItems {
				list = append(list, address)
			} else if len(list) == maxItems {
				more = true
			}
			count++
		}
	}
	return listWithMoreString(list, more, count, maxItems)
}

func printEndpointSlice(obj *discoveryv1.EndpointSlice, now time.Time) []interface{} {
	return []interface{}{
		obj.Name, string(obj.AddressType), formatDiscoveryPorts(obj.Ports), formatDiscoveryEndpoints(obj.Endpoints),
		translateTimestampSince(obj.CreationTimestamp, now),
	}
}

// printEventsV1Event converts an events.k8s.io/v1 Event the way the apiserver
// does (to a core Event) and prints that.
func printEventsV1Event(obj *eventsv1.Event, now time.Time) []interface{} {
	ev := &corev1.Event{
		ObjectMeta:          obj.ObjectMeta,
		InvolvedObject:      obj.Regarding,
		Reason:              obj.Reason,
		Message:             obj.Note,
		Source:              obj.DeprecatedSource,
		FirstTimestamp:      obj.DeprecatedFirstTimestamp,
		LastTimestamp:       obj.DeprecatedLastTimestamp,
		Count:               obj.DeprecatedCount,
		Type:                obj.Type,
		EventTime:           obj.EventTime,
		Action:              obj.Action,
		Related:             obj.Related,
		ReportingController: obj.ReportingController,
		ReportingInstance:   obj.ReportingInstance,
	}
	if obj.Series != nil {
		ev.Series = &corev1.EventSeries{Count: obj.Series.Count, LastObservedTime: obj.Series.LastObservedTime}
	}
	return printEvent(ev, now)
}

func printPodDisruptionBudget(obj *policyv1.PodDisruptionBudget, now time.Time) []interface{} {
	minAvailable := "N/A"
	if obj.Spec.MinAvailable != nil {
		minAvailable = obj.Spec.MinAvailable.String()
	}
	maxUnavailable := "N/A"
	if obj.Spec.MaxUnavailable != nil {
		maxUnavailable = obj.Spec.MaxUnavailable.String()
	}
	return []interface{}{obj.Name, minAvailable, maxUnavailable, int64(obj.Status.DisruptionsAllowed), translateTimestampSince(obj.CreationTimestamp, now)}
}

// formatHPAMetrics renders at most two "current/target" pairs. Upstream
// prints validated internal objects; a spec whose source is missing for its
// type prints as "<unknown type>" here instead of panicking.
func formatHPAMetrics(specs []autoscalingv2.MetricSpec, statuses []autoscalingv2.MetricStatus) string {
	if len(specs) == 0 {
		return "<none>"
	}
	list := []string{}
	maxItems := 2
	more := false
	count := 0
	for i, spec := range specs {
		switch {
		case spec.Type == autoscalingv2.ExternalMetricSourceType && spec.External != nil:
			if spec.External.Target.AverageValue != nil {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].External != nil && statuses[i].External.Current.AverageValue != nil {
					current = statuses[i].External.Current.AverageValue.String()
				}
				list = append(list, fmt.Sprintf("%s/%s (avg)", current, spec.External.Target.AverageValue.String()))
			} else {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].External != nil {
					current = statuses[i].External.Current.Value.String()
				}
				list = append(list, fmt.Sprintf("%s/%s", current, spec.External.Target.Value.String()))
			}
		case spec.Type == autoscalingv2.PodsMetricSourceType && spec.Pods != nil:
			current := "<unknown>"
			if len(statuses) > i && statuses[i].Pods != nil {
				current = statuses[i].Pods.Current.AverageValue.String()
			}
			list = append(list, fmt.Sprintf("%s/%s", current, spec.Pods.Target.AverageValue.String()))
		case spec.Type == autoscalingv2.ObjectMetricSourceType && spec.Object != nil:
			if spec.Object.Target.AverageValue != nil {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].Object != nil && statuses[i].Object.Current.AverageValue != nil {
					current = statuses[i].Object.Current.AverageValue.String()
				}
				list = append(list, fmt.Sprintf("%s/%s (avg)", current, spec.Object.Target.AverageValue.String()))
			} else {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].Object != nil {
					current = statuses[i].Object.Current.Value.String()
				}
				list = append(list, fmt.Sprintf("%s/%s", current, spec.Object.Target.Value.String()))
			}
		case spec.Type == autoscalingv2.ResourceMetricSourceType && spec.Resource != nil:
			if spec.Resource.Target.AverageValue != nil {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].Resource != nil {
					current = statuses[i].Resource.Current.AverageValue.String()
				}
				list = append(list, fmt.Sprintf("%s: %s/%s", spec.Resource.Name.String(), current, spec.Resource.Target.AverageValue.String()))
			} else {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].Resource != nil && statuses[i].Resource.Current.AverageUtilization != nil {
					current = fmt.Sprintf("%d%%", *statuses[i].Resource.Current.AverageUtilization)
				}
				target := "<auto>"
				if spec.Resource.Target.AverageUtilization != nil {
					target = fmt.Sprintf("%d%%", *spec.Resource.Target.AverageUtilization)
				}
				list = append(list, fmt.Sprintf("%s: %s/%s", spec.Resource.Name.String(), current, target))
			}
		case spec.Type == autoscalingv2.ContainerResourceMetricSourceType && spec.ContainerResource != nil:
			if spec.ContainerResource.Target.AverageValue != nil {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].ContainerResource != nil {
					current = statuses[i].ContainerResource.Current.AverageValue.String()
				}
				list = append(list, fmt.Sprintf("%s: %s/%s", spec.ContainerResource.Name.String(), current, spec.ContainerResource.Target.AverageValue.String()))
			} else {
				current := "<unknown>"
				if len(statuses) > i && statuses[i].ContainerResource != nil && statuses[i].ContainerResource.Current.AverageUtilization != nil {
					current = fmt.Sprintf("%d%%", *statuses[i].ContainerResource.Current.AverageUtilization)
				}
				target := "<auto>"
				if spec.ContainerResource.Target.AverageUtilization != nil {
					target = fmt.Sprintf("%d%%", *spec.ContainerResource.Target.AverageUtilization)
				}
				list = append(list, fmt.Sprintf("%s: %s/%s", spec.ContainerResource.Name.String(), current, target))
			}
		default:
			list = append(list, "<unknown type>")
		}
		count++
	}

	if count > maxItems {
		list = list[:maxItems]
		more = true
	}

	ret := strings.Join(list, ", ")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-maxItems)
	}
	return ret
}

func printHPA(name string, ref autoscalingv2.CrossVersionObjectReference, minReplicas *int32, maxReplicas, currentReplicas int32, metrics string, created metav1.Time, now time.Time) []interface{} {
	reference := fmt.Sprintf("%s/%s", ref.Kind, ref.Name)
	minPods := "<unset>"
	if minReplicas != nil {
		minPods = fmt.Sprintf("%d", *minReplicas)
	}
	return []interface{}{name, reference, metrics, minPods, int64(maxReplicas), int64(currentReplicas), translateTimestampSince(created, now)}
}

func printHorizontalPodAutoscaler(obj *autoscalingv2.HorizontalPodAutoscaler, now time.Time) []interface{} {
	return printHPA(obj.Name, obj.Spec.ScaleTargetRef, obj.Spec.MinReplicas, obj.Spec.MaxReplicas, obj.Status.CurrentReplicas,
		formatHPAMetrics(obj.Spec.Metrics, obj.Status.CurrentMetrics), obj.CreationTimestamp, now)
}

// printHorizontalPodAutoscalerV1 prints an autoscaling/v1 HPA as its v2 form:
// the CPU utilization target becomes a cpu Resource metric. (Metrics kept in
// the legacy autoscaling.alpha.kubernetes.io annotations are not decoded.)
func printHorizontalPodAutoscalerV1(obj *autoscalingv1.HorizontalPodAutoscaler, now time.Time) []interface{} {
	var specs []autoscalingv2.MetricSpec
	var statuses []autoscalingv2.MetricStatus
	if obj.Spec.TargetCPUUtilizationPercentage != nil {
		specs = append(specs, autoscalingv2.MetricSpec{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricSource{
				Name:   corev1.ResourceCPU,
				Target: autoscalingv2.MetricTarget{Type: autoscalingv2.UtilizationMetricType, AverageUtilization: obj.Spec.TargetCPUUtilizationPercentage},
			},
		})
	}
	if obj.Status.CurrentCPUUtilizationPercentage != nil {
		statuses = append(statuses, autoscalingv2.MetricStatus{
			Type: autoscalingv2.ResourceMetricSourceType,
			Resource: &autoscalingv2.ResourceMetricStatus{
				Name:    corev1.ResourceCPU,
				Current: autoscalingv2.MetricValueStatus{AverageUtilization: obj.Status.CurrentCPUUtilizationPercentage},
			},
		})
	}
	ref := autoscalingv2.CrossVersionObjectReference{Kind: obj.Spec.ScaleTargetRef.Kind, Name: obj.Spec.ScaleTargetRef.Name, APIVersion: obj.Spec.ScaleTargetRef.APIVersion}
	return printHPA(obj.Name, ref, obj.Spec.MinReplicas, obj.Spec.MaxReplicas, obj.Status.CurrentReplicas,
		formatHPAMetrics(specs, statuses), obj.CreationTimestamp, now)
}
