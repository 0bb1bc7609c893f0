package apiextensions

import (
	"errors"
	"reflect"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func TestSetDefaults(t *testing.T) {
	crd := &apiextv1.CustomResourceDefinition{Spec: apiextv1.CustomResourceDefinitionSpec{
		Names: apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Kind: "BigWidget"},
		Versions: []apiextv1.CustomResourceDefinitionVersion{
			{Name: "v1beta1", Served: true},
			{Name: "v1", Served: true, Storage: true, Schema: &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
				Type: "object",
				Properties: map[string]apiextv1.JSONSchemaProps{
					"spec": {Type: "object", Default: &apiextv1.JSON{Raw: []byte("null")}, Properties: map[string]apiextv1.JSONSchemaProps{
						"size": {Type: "integer", Default: &apiextv1.JSON{Raw: []byte("3")}, Example: &apiextv1.JSON{Raw: []byte(" null")}},
						"mode": {Type: "object", Default: &apiextv1.JSON{Raw: []byte(`{ "b": 1.0, "a": 1234567890123456789 }`)},
							Enum: []apiextv1.JSON{{Raw: []byte(`{"b": 1, "a": 2}`)}, {Raw: []byte("null")}}},
					}},
				},
			}}},
		},
	}}
	SetDefaults(crd)
	if got, want := crd.Spec.Names, (apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Singular: "bigwidget", Kind: "BigWidget", ListKind: "BigWidgetList"}); !reflect.DeepEqual(got, want) {
		t.Errorf("names = %+v, want %+v", got, want)
	}
	if got, want := crd.Spec.Conversion, (&apiextv1.CustomResourceConversion{Strategy: apiextv1.NoneConverter}); !reflect.DeepEqual(got, want) {
		t.Errorf("conversion = %+v, want %+v", got, want)
	}
	if got, want := crd.Status.StoredVersions, []string{"v1"}; !reflect.DeepEqual(got, want) {
		t.Errorf("storedVersions = %v, want %v", got, want)
	}
	spec := crd.Spec.Versions[1].Schema.OpenAPIV3Schema.Properties["spec"]
	if spec.Default != nil {
		t.Errorf("default: null kept: %s", spec.Default.Raw)
	}
	size := spec.Properties["size"]
	if size.Example != nil || size.Default == nil || string(size.Default.Raw) != "3" {
		t.Errorf("size = default %v example %v, want default 3 and no example", size.Default, size.Example)
	}

	mode := spec.Properties["mode"]
	if got, want := string(mode.Default.Raw), `{"a":1234567890123456789,"b":1}`; got != want {
		t.Errorf("mode default = %s, want %s", got, want)
	}
	if got, want := mode.Enum, []apiextv1.JSON{{Raw: []byte(`{"a":2,"b":1}`)}, {}}; !reflect.DeepEqual(got, want) {
		t.Errorf("mode enum = %v, want %v", got, want)
	}

	again := crd.DeepCopy()
	SetDefaults(again)
	if !reflect.DeepEqual(again, crd) {
		t.Errorf("SetDefaults is not idempotent")
	}

	// Explicit values are kept, and a webhook service gets port 443.
	crd = &apiextv1.CustomResourceDefinition{Spec: apiextv1.CustomResourceDefinitionSpec{
		Names: apiextv1.CustomResourceDefinitionNames{Kind: "Widget", Singular: "wid", ListKind: "Widgets"},
		Conversion: &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig: &apiextv1.WebhookClientConfig{Service: &apiextv1.ServiceReference{Name: "conv", Namespace: "default"}},
		}},
	}, Status: apiextv1.CustomResourceDefinitionStatus{StoredVersions: []string{"v0"}}}
	SetDefaults(crd)
	if crd.Spec.Names.Singular != "wid" || crd.Spec.Names.ListKind != "Widgets" {
		t.Errorf("explicit names changed: %+v", crd.Spec.Names)
	}
	if p := crd.Spec.Conversion.Webhook.ClientConfig.Service.Port; p == nil || *p != 443 {
		t.Errorf("service port = %v, want 443", p)
	}
	if got, want := crd.Status.StoredVersions, []string{"v0"}; !reflect.DeepEqual(got, want) {
		t.Errorf("storedVersions = %v, want %v kept", got, want)
	}
}

func TestPrepareForCreate(t *testing.T) {
	crd := validCRD("v1", "v2")
	crd.Generation = 7
	crd.Status = apiextv1.CustomResourceDefinitionStatus{
		StoredVersions: []string{"v0"},
		AcceptedNames:  apiextv1.CustomResourceDefinitionNames{Plural: "x"},
		Conditions:     []apiextv1.CustomResourceDefinitionCondition{{Type: apiextv1.Established, Status: apiextv1.ConditionTrue}},
	}
	PrepareForCreate(crd)
	if crd.Generation != 1 {
		t.Errorf("generation = %d, want 1", crd.Generation)
	}
	if want := (apiextv1.CustomResourceDefinitionStatus{StoredVersions: []string{"v1"}}); !reflect.DeepEqual(crd.Status, want) {
		t.Errorf("status = %+v, want %+v", crd.Status, want)
	}
}

func TestPrepareForUpdate(t *testing.T) {
	old := validCRD("v1", "v2")
	old.ResourceVersion = "1"
	old.Status = NamingStatus(old, nil, metav1.Unix(5, 0))
	crd := old.DeepCopy()
	crd.Status = apiextv1.CustomResourceDefinitionStatus{StoredVersions: []string{"forged"}}
	crd.Spec.Versions[0].Storage, crd.Spec.Versions[1].Storage = false, true
	PrepareForUpdate(crd, old)
	want := *old.Status.DeepCopy()
	want.StoredVersions = []string{"v1", "v2"}
	if !reflect.DeepEqual(crd.Status, want) {
		t.Errorf("status = %+v, want %+v", crd.Status, want)
	}
	if !reflect.DeepEqual(old.Status.StoredVersions, []string{"v1"}) {
		t.Errorf("old storedVersions changed: %v", old.Status.StoredVersions)
	}
	if errs := ValidateUpdate(crd, old); errs != nil {
		t.Errorf("ValidateUpdate after moving the storage version: %v", errs)
	}

	// Storage moved back: nothing is added twice.
	again := crd.DeepCopy()
	again.Spec.Versions[0].Storage, again.Spec.Versions[1].Storage = true, false
	PrepareForUpdate(again, crd)
	if got := again.Status.StoredVersions; !reflect.DeepEqual(got, []string{"v1", "v2"}) {
		t.Errorf("storedVersions = %v, want [v1 v2]", got)
	}
}

func TestHelpers(t *testing.T) {
	crd := validCRD("v1alpha1", "v2", "v1", "foo", "v1beta1", "v10")
	crd.Spec.Versions[1].Served = false
	if got, want := ServedVersions(crd), []string{"v10", "v1", "v1beta1", "v1alpha1", "foo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("ServedVersions = %v, want %v", got, want)
	}
	if v, err := StorageVersion(crd); err != nil || v != "v1alpha1" {
		t.Errorf("StorageVersion = %q, %v; want v1alpha1", v, err)
	}
	if !HasServedVersion(crd, "v1") || HasServedVersion(crd, "v2") || HasServedVersion(crd, "v3") {
		t.Errorf("HasServedVersion wrong")
	}
	crd.Spec.Versions[0].Storage = false
	if _, err := StorageVersion(crd); !errors.Is(err, ErrNoStorageVersion) {
		t.Errorf("StorageVersion without storage: err = %v, want ErrNoStorageVersion", err)
	}

	if IsConditionTrue(crd, apiextv1.Established) {
		t.Errorf("IsConditionTrue(Established) before naming")
	}
	crd.Status = NamingStatus(crd, nil, metav1.Unix(1, 0))
	if !IsConditionTrue(crd, apiextv1.Established) || !IsConditionTrue(crd, apiextv1.NamesAccepted) || IsConditionTrue(crd, apiextv1.Terminating) {
		t.Errorf("conditions after naming: %+v", crd.Status.Conditions)
	}
}

func TestPrinterColumns(t *testing.T) {
	age := apiextv1.CustomResourceColumnDefinition{
		Name: "Age", Type: "date", JSONPath: ".metadata.creationTimestamp",
		Description: "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
	}
	color := apiextv1.CustomResourceColumnDefinition{Name: "Color", Type: "string", JSONPath: ".spec.color"}
	crd := validCRD("v1", "v2")
	crd.Spec.Versions[1].AdditionalPrinterColumns = []apiextv1.CustomResourceColumnDefinition{color}
	crd.Spec.Versions[1].Subresources = &apiextv1.CustomResourceSubresources{Scale: &apiextv1.CustomResourceSubresourceScale{SpecReplicasPath: ".spec.size", StatusReplicasPath: ".status.size"}}

	if got, err := PrinterColumns(crd, "v1"); err != nil || !reflect.DeepEqual(got, []apiextv1.CustomResourceColumnDefinition{age}) {
		t.Errorf("PrinterColumns(v1) = %+v, %v; want Age only", got, err)
	}
	if got, err := PrinterColumns(crd, "v2"); err != nil || !reflect.DeepEqual(got, []apiextv1.CustomResourceColumnDefinition{color}) {
		t.Errorf("PrinterColumns(v2) = %+v, %v; want Color only", got, err)
	}
	if _, err := PrinterColumns(crd, "v3"); !errors.Is(err, ErrVersionNotFound) {
		t.Errorf("PrinterColumns(v3) err = %v, want ErrVersionNotFound", err)
	}
	if got, _ := ScaleColumns(crd, "v1"); !reflect.DeepEqual(got, []apiextv1.CustomResourceColumnDefinition{age}) {
		t.Errorf("ScaleColumns(v1) = %+v", got)
	}
	want := []apiextv1.CustomResourceColumnDefinition{
		{Name: "Desired", Type: "integer", Description: "Number of desired replicas", JSONPath: ".spec.replicas"},
		{Name: "Available", Type: "integer", Description: "Number of actual replicas", JSONPath: ".status.replicas"},
		age,
	}
	if got, _ := ScaleColumns(crd, "v2"); !reflect.DeepEqual(got, want) {
		t.Errorf("ScaleColumns(v2) = %+v, want %+v", got, want)
	}
	if CleanupFinalizer != "customresourcecleanup.apiextensions.k8s.io" {
		t.Errorf("CleanupFinalizer = %q", CleanupFinalizer)
	}
}
