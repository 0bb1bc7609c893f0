package printers

import (
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	certificatesv1 "k8s.io/api/certificates/v1"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/duration"
	apiregistrationv1 "k8s.io/kube-aggregator/pkg/apis/apiregistration/v1"
)

func init() {
	// CRDs are printed by kube-apiserver's default table convertor: the name and the creation time as a date.
	register[*apiextv1.CustomResourceDefinition, *apiextv1.CustomResourceDefinitionList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Created At", Type: "date", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]},
	}, func(obj *apiextv1.CustomResourceDefinition, _ time.Time) []interface{} {
		return []interface{}{obj.Name, obj.CreationTimestamp.UTC().Format(time.RFC3339)}
	})
	register[*apiregistrationv1.APIService, *apiregistrationv1.APIServiceList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Service", Type: "string", Description: "The reference to the service that hosts this API endpoint."},
		{Name: "Available", Type: "string", Description: "Whether this service is available."},
		ageColumn,
	}, printAPIService)
	register[*certificatesv1.CertificateSigningRequest, *certificatesv1.CertificateSigningRequestList]([]metav1.TableColumnDefinition{
		nameColumn,
		ageColumn,
		{Name: "SignerName", Type: "string", Description: certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()["signerName"]},
		{Name: "Requestor", Type: "string", Description: certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()["request"]},
		{Name: "RequestedDuration", Type: "string", Description: certificatesv1.CertificateSigningRequestSpec{}.SwaggerDoc()["expirationSeconds"]},
		{Name: "Condition", Type: "string", Description: certificatesv1.CertificateSigningRequestStatus{}.SwaggerDoc()["conditions"]},
	}, printCSR)
	webhookColumns := []metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Webhooks", Type: "integer", Description: "Webhooks indicates the number of webhooks registered in this configuration"},
		ageColumn,
	}
	register[*admissionregistrationv1.MutatingWebhookConfiguration, *admissionregistrationv1.MutatingWebhookConfigurationList](webhookColumns,
		func(obj *admissionregistrationv1.MutatingWebhookConfiguration, now time.Time) []interface{} {
			return []interface{}{obj.Name, int64(len(obj.Webhooks)), translateTimestampSince(obj.CreationTimestamp, now)}
		})
	register[*admissionregistrationv1.ValidatingWebhookConfiguration, *admissionregistrationv1.ValidatingWebhookConfigurationList](webhookColumns,
		func(obj *admissionregistrationv1.ValidatingWebhookConfiguration, now time.Time) []interface{} {
			return []interface{}{obj.Name, int64(len(obj.Webhooks)), translateTimestampSince(obj.CreationTimestamp, now)}
		})
	register[*flowcontrolv1.FlowSchema, *flowcontrolv1.FlowSchemaList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "PriorityLevel", Type: "string", Description: flowcontrolv1.PriorityLevelConfigurationReference{}.SwaggerDoc()["name"]},
		{Name: "MatchingPrecedence", Type: "string", Description: flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["matchingPrecedence"]},
		{Name: "DistinguisherMethod", Type: "string", Description: flowcontrolv1.FlowSchemaSpec{}.SwaggerDoc()["distinguisherMethod"]},
		ageColumn,
		{Name: "MissingPL", Type: "string", Description: "references a broken or non-existent PriorityLevelConfiguration"},
	}, printFlowSchema)
	register[*flowcontrolv1.PriorityLevelConfiguration, *flowcontrolv1.PriorityLevelConfigurationList]([]metav1.TableColumnDefinition{
		nameColumn,
		{Name: "Type", Type: "string", Description: flowcontrolv1.PriorityLevelConfigurationSpec{}.SwaggerDoc()["type"]},
		{Name: "NominalConcurrencyShares", Type: "string", Description: flowcontrolv1.LimitedPriorityLevelConfiguration{}.SwaggerDoc()["nominalConcurrencyShares"]},
		{Name: "Queues", Type: "string", Description: flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queues"]},
		{Name: "HandSize", Type: "string", Description: flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["handSize"]},
		{Name: "QueueLengthLimit", Type: "string", Description: flowcontrolv1.QueuingConfiguration{}.SwaggerDoc()["queueLengthLimit"]},
		ageColumn,
	}, printPriorityLevelConfiguration)
}

func printFlowSchema(obj *flowcontrolv1.FlowSchema, now time.Time) []interface{} {
	distinguisher := "<none>"
	if obj.Spec.DistinguisherMethod != nil {
		distinguisher = string(obj.Spec.DistinguisherMethod.Type)
	}
	missing := "?"
	for _, c := range obj.Status.Conditions {
		if c.Type == flowcontrolv1.FlowSchemaConditionDangling {
			missing = string(c.Status)
			break
		}
	}
	return []interface{}{obj.Name, obj.Spec.PriorityLevelConfiguration.Name, int64(obj.Spec.MatchingPrecedence), distinguisher,
		translateTimestampSince(obj.CreationTimestamp, now), missing}
}

func printPriorityLevelConfiguration(obj *flowcontrolv1.PriorityLevelConfiguration, now time.Time) []interface{} {
	var ncs, queues, handSize, queueLengthLimit interface{} = "<none>", "<none>", "<none>", "<none>"
	if l := obj.Spec.Limited; l != nil {
		if l.NominalConcurrencyShares != nil {
			ncs = *l.NominalConcurrencyShares
		}
		if q := l.LimitResponse.Queuing; q != nil {
			queues, handSize, queueLengthLimit = q.Queues, q.HandSize, q.QueueLengthLimit
		}
	}
	return []interface{}{obj.Name, string(obj.Spec.Type), ncs, queues, handSize, queueLengthLimit, translateTimestampSince(obj.CreationTimestamp, now)}
}

func printAPIService(obj *apiregistrationv1.APIService, now time.Time) []interface{} {
	service := "Local"
	if s := obj.Spec.Service; s != nil {
		service = s.Namespace + "/" + s.Name
	}
	status := string(apiregistrationv1.ConditionUnknown)
	for _, c := range obj.Status.Conditions {
		if c.Type != apiregistrationv1.Available {
			continue
		}
		status = string(c.Status)
		if c.Status != apiregistrationv1.ConditionTrue && c.Reason != "" {
			status += " (" + c.Reason + ")"
		}
	}
	return []interface{}{obj.Name, service, status, translateTimestampSince(obj.CreationTimestamp, now)}
}

func printCSR(obj *certificatesv1.CertificateSigningRequest, now time.Time) []interface{} {
	signer := "<none>"
	if obj.Spec.SignerName != "" {
		signer = obj.Spec.SignerName
	}
	requested := "<none>"
	if obj.Spec.ExpirationSeconds != nil {
		requested = duration.HumanDuration(time.Duration(*obj.Spec.ExpirationSeconds) * time.Second)
	}
	var approved, denied, failed bool
	for _, c := range obj.Status.Conditions {
		switch c.Type {
		case certificatesv1.CertificateApproved:
			approved = true
		case certificatesv1.CertificateDenied:
			denied = true
		case certificatesv1.CertificateFailed:
			failed = true
		}
	}
	status := "Pending"
	if denied {
		status = "Denied"
	} else if approved {
		status = "Approved"
	}
	if failed {
		status += ",Failed"
	}
	if len(obj.Status.Certificate) > 0 {
		status += ",Issued"
	}
	return []interface{}{obj.Name, translateTimestampSince(obj.CreationTimestamp, now), signer, obj.Spec.Username, requested, status}
}
