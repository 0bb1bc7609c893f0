package printers

import (
	"fmt"
	"strings"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/duration"
)

func init() {
	register[*appsv1.Deployment, *appsv1.DeploymentList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		{Name: "Up-to-date", Type: "string", Description: appsv1.DeploymentStatus{}.SwaggerDoc()["updatedReplicas"]},
		{Name: "Available", Type: "string", Description: appsv1.DeploymentStatus{}.SwaggerDoc()["availableReplicas"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: appsv1.DeploymentSpec{}.SwaggerDoc()["selector"]},
	}, printDeployment)

	register[*appsv1.ReplicaSet, *appsv1.ReplicaSetList](
		replicaSetColumns(appsv1.ReplicaSetSpec{}.SwaggerDoc(), appsv1.ReplicaSetStatus{}.SwaggerDoc()), printReplicaSet)
	register[*corev1.ReplicationController, *corev1.ReplicationControllerList](
		replicaSetColumns(corev1.ReplicationControllerSpec{}.SwaggerDoc(), corev1.ReplicationControllerStatus{}.SwaggerDoc()), printReplicationController)

	register[*appsv1.DaemonSet, *appsv1.DaemonSetList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Desired", Type: "integer", Description: appsv1.DaemonSetStatus{}.SwaggerDoc()["desiredNumberScheduled"]},
		{Name: "Current", Type: "integer", Description: appsv1.DaemonSetStatus{}.SwaggerDoc()["currentNumberScheduled"]},
		{Name: "Ready", Type: "integer", Description: appsv1.DaemonSetStatus{}.SwaggerDoc()["numberReady"]},
		{Name: "Up-to-date", Type: "integer", Description: appsv1.DaemonSetStatus{}.SwaggerDoc()["updatedNumberScheduled"]},
		{Name: "Available", Type: "integer", Description: appsv1.DaemonSetStatus{}.SwaggerDoc()["numberAvailable"]},
		{Name: "Node Selector", Type: "string", Description: corev1.PodSpec{}.SwaggerDoc()["nodeSelector"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: appsv1.DaemonSetSpec{}.SwaggerDoc()["selector"]},
	}, printDaemonSet)

	register[*appsv1.StatefulSet, *appsv1.StatefulSetList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Ready", Type: "string", Description: "Number of the pod with ready state"},
		ageColumn,
		containersColumn,
		imagesColumn,
	}, printStatefulSet)

	register[*batchv1.Job, *batchv1.JobList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Status", Type: "string", Description: "Status of the job."},
		{Name: "Completions", Type: "string", Description: batchv1.JobStatus{}.SwaggerDoc()["succeeded"]},
		{Name: "Duration", Type: "string", Description: "Time required to complete the job."},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]},
	}, printJob)

	register[*batchv1.CronJob, *batchv1.CronJobList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Schedule", Type: "string", Description: batchv1.CronJobSpec{}.SwaggerDoc()["schedule"]},
		{Name: "Timezone", Type: "string", Description: batchv1.CronJobSpec{}.SwaggerDoc()["timeZone"]},
		{Name: "Suspend", Type: "boolean", Description: batchv1.CronJobSpec{}.SwaggerDoc()["suspend"]},
		{Name: "Active", Type: "integer", Description: batchv1.CronJobStatus{}.SwaggerDoc()["active"]},
		{Name: "Last Schedule", Type: "string", Description: batchv1.CronJobStatus{}.SwaggerDoc()["lastScheduleTime"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: batchv1.JobSpec{}.SwaggerDoc()["selector"]},
	}, printCronJob)
}

// layoutContainerCells joins the names and the images of containers with ",".
func layoutContainerCells(containers []corev1.Container) (names string, images string) {
	n := make([]string, len(containers))
	im := make([]string, len(containers))
	for i, c := range containers {
		n[i], im[i] = c.Name, c.Image
	}
	return strings.Join(n, ","), strings.Join(im, ",")
}

// int32Value mirrors the v1 -> internal conversion of an optional int32
// (metav1.Convert_Pointer_int32_To_int32): nil becomes 0.
func int32Value(p *int32) int32 {
	if p == nil {
		return 0
	}
	return *p
}

func printDeployment(obj *appsv1.Deployment, now time.Time) []interface{} {
	desiredReplicas := int32Value(obj.Spec.Replicas)
	selectorString := ""
	if selector, err := metav1.LabelSelectorAsSelector(obj.Spec.Selector); err != nil {
		selectorString = "<invalid>"
	} else {
		selectorString = selector.String()
	}
	names, images := layoutContainerCells(obj.Spec.Template.Spec.Containers)
	return []interface{}{
		obj.Name,
		fmt.Sprintf("%d/%d", int64(obj.Status.ReadyReplicas), int64(desiredReplicas)),
		int64(obj.Status.UpdatedReplicas),
		int64(obj.Status.AvailableReplicas),
		translateTimestampSince(obj.CreationTimestamp, now),
		names, images, selectorString,
	}
}

// replicaSetColumns are the columns of ReplicaSets and ReplicationControllers, described by their types' field
// documentation specDoc and statusDoc.
func replicaSetColumns(specDoc, statusDoc map[string]string) []metav1.TableColumnDefinition {
	return []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Desired", Type: "integer", Description: specDoc["replicas"]},
		{Name: "Current", Type: "integer", Description: statusDoc["replicas"]},
		{Name: "Ready", Type: "integer", Description: statusDoc["readyReplicas"]},
		ageColumn,
		containersColumn,
		imagesColumn,
		{Name: "Selector", Type: "string", Priority: 1, Description: specDoc["selector"]},
	}
}

func printReplicaSet(obj *appsv1.ReplicaSet, now time.Time) []interface{} {
	return replicaSetCells(&obj.ObjectMeta, obj.Spec.Replicas, obj.Status.Replicas, obj.Status.ReadyReplicas, &obj.Spec.Template,
		metav1.FormatLabelSelector(obj.Spec.Selector), now)
}

func printReplicationController(obj *corev1.ReplicationController, now time.Time) []interface{} {
	return replicaSetCells(&obj.ObjectMeta, obj.Spec.Replicas, obj.Status.Replicas, obj.Status.ReadyReplicas, obj.Spec.Template,
		labels.FormatLabels(obj.Spec.Selector), now)
}

// replicaSetCells are the cells of replicaSetColumns; template may be nil.
func replicaSetCells(m *metav1.ObjectMeta, desired *int32, current, ready int32, template *corev1.PodTemplateSpec, selector string, now time.Time) []interface{} {
	var names, images string
	if template != nil {
		names, images = layoutContainerCells(template.Spec.Containers)
	}
	return []interface{}{
		m.Name, int64(int32Value(desired)), int64(current), int64(ready),
		translateTimestampSince(m.CreationTimestamp, now),
		names, images, selector,
	}
}

func printDaemonSet(obj *appsv1.DaemonSet, now time.Time) []interface{} {
	names, images := layoutContainerCells(obj.Spec.Template.Spec.Containers)
	return []interface{}{
		obj.Name,
		int64(obj.Status.DesiredNumberScheduled),
		int64(obj.Status.CurrentNumberScheduled),
		int64(obj.Status.NumberReady),
		int64(obj.Status.UpdatedNumberScheduled),
		int64(obj.Status.NumberAvailable),
		labels.FormatLabels(obj.Spec.Template.Spec.NodeSelector),
		translateTimestampSince(obj.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(obj.Spec.Selector),
	}
}

func printStatefulSet(obj *appsv1.StatefulSet, now time.Time) []interface{} {
	names, images := layoutContainerCells(obj.Spec.Template.Spec.Containers)
	return []interface{}{
		obj.Name,
		fmt.Sprintf("%d/%d", int64(obj.Status.ReadyReplicas), int64(int32Value(obj.Spec.Replicas))),
		translateTimestampSince(obj.CreationTimestamp, now),
		names, images,
	}
}

func hasJobCondition(conditions []batchv1.JobCondition, conditionType batchv1.JobConditionType) bool {
	for _, condition := range conditions {
		if condition.Type == conditionType {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}

func printJob(obj *batchv1.Job, now time.Time) []interface{} {
	var completions string
	if obj.Spec.Completions != nil {
		completions = fmt.Sprintf("%d/%d", obj.Status.Succeeded, *obj.Spec.Completions)
	} else {
		parallelism := int32Value(obj.Spec.Parallelism)
		if parallelism > 1 {
			completions = fmt.Sprintf("%d/1 of %d", obj.Status.Succeeded, parallelism)
		} else {
			completions = fmt.Sprintf("%d/1", obj.Status.Succeeded)
		}
	}

	var jobDuration string
	switch {
	case obj.Status.StartTime == nil:
	case obj.Status.CompletionTime == nil:
		jobDuration = duration.HumanDuration(now.Sub(obj.Status.StartTime.Time))
	default:
		jobDuration = duration.HumanDuration(obj.Status.CompletionTime.Sub(obj.Status.StartTime.Time))
	}

	var status string
	switch {
	case hasJobCondition(obj.Status.Conditions, batchv1.JobComplete):
		status = "Complete"
	case hasJobCondition(obj.Status.Conditions, batchv1.JobFailed):
		status = "Failed"
	case obj.DeletionTimestamp != nil:
		status = "Terminating"
	case hasJobCondition(obj.Status.Conditions, batchv1.JobSuspended):
		status = "Suspended"
	case hasJobCondition(obj.Status.Conditions, batchv1.JobFailureTarget):
		status = "FailureTarget"
	default:
		status = "Running"
	}

	names, images := layoutContainerCells(obj.Spec.Template.Spec.Containers)
	return []interface{}{
		obj.Name, status, completions, jobDuration, translateTimestampSince(obj.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(obj.Spec.Selector),
	}
}

func printCronJob(obj *batchv1.CronJob, now time.Time) []interface{} {
	lastScheduleTime := "<none>"
	if obj.Status.LastScheduleTime != nil {
		lastScheduleTime = translateTimestampSince(*obj.Status.LastScheduleTime, now)
	}

	timeZone := "<none>"
	if obj.Spec.TimeZone != nil {
		timeZone = *obj.Spec.TimeZone
	}

	names, images := layoutContainerCells(obj.Spec.JobTemplate.Spec.Template.Spec.Containers)
	return []interface{}{
		obj.Name, obj.Spec.Schedule, timeZone, printBoolPtr(obj.Spec.Suspend), int64(len(obj.Status.Active)), lastScheduleTime,
		translateTimestampSince(obj.CreationTimestamp, now),
		names, images, metav1.FormatLabelSelector(obj.Spec.JobTemplate.Spec.Selector),
	}
}
