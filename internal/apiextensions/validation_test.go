package apiextensions

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

func ptrTo[T any](v T) *T { return &v }

// objectSchema is a small structural schema with spec.replicas, spec.color and status.replicas.
func objectSchema() *apiextv1.CustomResourceValidation {
	return &apiextv1.CustomResourceValidation{OpenAPIV3Schema: &apiextv1.JSONSchemaProps{
		Type: "object",
		Properties: map[string]apiextv1.JSONSchemaProps{
			"spec": {Type: "object", Properties: map[string]apiextv1.JSONSchemaProps{
				"replicas": {Type: "integer"},
				"color":    {Type: "string"},
				"ready":    {Type: "boolean"},
				"labels":   {Type: "object", AdditionalProperties: &apiextv1.JSONSchemaPropsOrBool{Allows: true, Schema: &apiextv1.JSONSchemaProps{Type: "string"}}},
				"tags":     {Type: "array", Items: &apiextv1.JSONSchemaPropsOrArray{Schema: &apiextv1.JSONSchemaProps{Type: "string"}}},
			}},
			"status": {Type: "object", Properties: map[string]apiextv1.JSONSchemaProps{
				"replicas": {Type: "integer"},
			}},
		},
	}}
}

// validCRD returns a defaulted, prepared CRD for widgets.example.com with the given version names (the first is the storage version).
func validCRD(versions ...string) *apiextv1.CustomResourceDefinition {
	if len(versions) == 0 {
		versions = []string{"v1"}
	}
	crd := &apiextv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: "widgets.example.com"},
		Spec: apiextv1.CustomResourceDefinitionSpec{
			Group: "example.com",
			Names: apiextv1.CustomResourceDefinitionNames{Plural: "widgets", Kind: "Widget", ShortNames: []string{"wd"}},
			Scope: apiextv1.NamespaceScoped,
		},
	}
	for i, v := range versions {
		crd.Spec.Versions = append(crd.Spec.Versions, apiextv1.CustomResourceDefinitionVersion{
			Name: v, Served: true, Storage: i == 0, Schema: objectSchema(),
		})
	}
	PrepareForCreate(crd)
	SetDefaults(crd)
	return crd
}

// crdCase is a create-validation case: a mutation of validCRD's result and upstream's errors, in order.
type crdCase struct {
	name     string
	versions []string
	mutate   func(*apiextv1.CustomResourceDefinition)
	want     []string
}

var createCases = []crdCase{
	{name: "valid"},
	{name: "valid two versions", versions: []string{"v1", "v1beta1"}},
	{name: "valid cluster scoped with scale, status and columns", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Scope = apiextv1.ClusterScoped
		c.Spec.Versions[0].Subresources = &apiextv1.CustomResourceSubresources{
			Status: &apiextv1.CustomResourceSubresourceStatus{},
			Scale:  &apiextv1.CustomResourceSubresourceScale{SpecReplicasPath: ".spec.replicas", StatusReplicasPath: ".status.replicas", LabelSelectorPath: ptrTo(".status.selector")},
		}
		c.Spec.Versions[0].AdditionalPrinterColumns = []apiextv1.CustomResourceColumnDefinition{{Name: "Color", Type: "string", JSONPath: ".spec.color"}}
		c.Spec.Versions[0].SelectableFields = []apiextv1.SelectableField{{JSONPath: ".spec.color"}, {JSONPath: ".spec.labels.app"}}
	}},
	{name: "name not plural.group", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Name = "foo" },
		want: []string{`metadata.name: Invalid value: "foo": must be spec.names.plural+"."+spec.group`}},
	{name: "namespace set", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Namespace = "default" },
		want: []string{`metadata.namespace: Forbidden: not allowed on this type`}},
	{name: "group without dot", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Group = "example"; c.Name = "widgets.example" },
		want: []string{`spec.group: Invalid value: "example": should be a domain with at least one dot`}},
	{name: "group missing", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Group = ""; c.Name = "widgets." },
		want: []string{
			`metadata.name: Invalid value: "widgets.": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			`spec.group: Required value`,
		}},
	{name: "group not a subdomain", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Group = "Example.com"
		c.Name = "widgets.Example.com"
	},
		want: []string{
			`metadata.name: Invalid value: "widgets.Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
			`spec.group: Invalid value: "Example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		}},
	{name: "scope missing", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Scope = "" },
		want: []string{`spec.scope: Required value`}},
	{name: "scope unknown", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Scope = "Global" },
		want: []string{`spec.scope: Unsupported value: "Global": supported values: "Cluster", "Namespaced"`}},
	{name: "schema missing", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[1].Schema = nil },
		want: []string{`spec.versions[1].schema.openAPIV3Schema: Required value`}},
	{name: "all schemas missing", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Schema = nil
		c.Spec.Versions[1].Schema = &apiextv1.CustomResourceValidation{}
	}, want: []string{
		`spec.versions[0].schema.openAPIV3Schema: Required value`,
		`spec.versions[1].schema.openAPIV3Schema: Required value`,
	}},
	{name: "no storage version", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[0].Storage = false },
		want: []string{`spec.versions: Invalid value: ` + versionsJSON(false, false) + `: must have exactly one version marked as storage version`}},
	{name: "two storage versions", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[1].Storage = true },
		want: []string{
			`spec.versions: Invalid value: ` + versionsJSON(true, true) + `: must have exactly one version marked as storage version`,
			`status.storedVersions: Invalid value: ["v1"]: must have the storage version v2`,
		}},
	{name: "duplicate version", versions: []string{"v1", "v1"},
		want: []string{`spec.versions: Invalid value: ` + strings.ReplaceAll(versionsJSON(true, false), `"v2"`, `"v1"`) + `: must contain unique version names`}},
	{name: "version name not DNS-1035", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Name = "V1"
		c.Status.StoredVersions = []string{"V1"}
	}, want: []string{
		`spec.versions[0].name: Invalid value: "V1": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
		`spec.version: Invalid value: "V1": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`,
	}},
	{name: "deprecation warning on a current version", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[0].DeprecationWarning = ptrTo("old") },
		want: []string{`spec.versions[0].deprecationWarning: Invalid value: "old": can only be set for deprecated versions`}},
	{name: "empty deprecation warning", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Deprecated = true
		c.Spec.Versions[0].DeprecationWarning = ptrTo("")
	}, want: []string{`spec.versions[0].deprecationWarning: Invalid value: "": must not be an empty string`}},
	{name: "names missing", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Names = apiextv1.CustomResourceDefinitionNames{}
		c.Name = ".example.com"
	}, want: []string{
		`metadata.name: Invalid value: ".example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		`spec.names.plural: Required value`,
		`spec.names.singular: Required value`,
		`spec.names.kind: Required value`,
		`spec.names.listKind: Required value`,
	}},
	{name: "bad names", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Names = apiextv1.CustomResourceDefinitionNames{Plural: "Widgets", Singular: "wid_get", Kind: "Wid.get", ListKind: "Wid.get", ShortNames: []string{"w d"}, Categories: []string{"All"}}
		c.Name = "Widgets.example.com"
	}, want: []string{
		`metadata.name: Invalid value: "Widgets.example.com": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
		`spec.names.plural: Invalid value: "Widgets": ` + dns1035,
		`spec.names.singular: Invalid value: "wid_get": ` + dns1035,
		`spec.names.kind: Invalid value: "Wid.get": may have mixed case, but should otherwise match: ` + dns1035,
		`spec.names.listKind: Invalid value: "Wid.get": may have mixed case, but should otherwise match: ` + dns1035,
		`spec.names.shortNames[0]: Invalid value: "w d": ` + dns1035,
		`spec.names.listKind: Invalid value: "Wid.get": kind and listKind may not be the same`,
		`spec.names.categories[0]: Invalid value: "All": ` + dns1035,
	}},
	{name: "kind equals listKind", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Names.ListKind = "Widget" },
		want: []string{`spec.names.listKind: Invalid value: "Widget": kind and listKind may not be the same`}},
	{name: "preserveUnknownFields true", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.PreserveUnknownFields = true },
		want: []string{`spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead`}},
	{name: "preserveUnknownFields with defaults and webhook", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.PreserveUnknownFields = true
		spec := c.Spec.Versions[0].Schema.OpenAPIV3Schema.Properties["spec"]
		color := spec.Properties["color"]
		color.Default = &apiextv1.JSON{Raw: []byte(`"red"`)}
		spec.Properties["color"] = color
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig: &apiextv1.WebhookClientConfig{URL: ptrTo("https://conv.example.com/convert")}, ConversionReviewVersions: []string{"v1"},
		}}
	}, want: []string{
		`spec.preserveUnknownFields: Invalid value: true: must be false in order to use defaults in the schema`,
		`spec.conversion.strategy: Invalid value: "Webhook": must be None if spec.preserveUnknownFields is true`,
		`spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead`,
	}},
	{name: "status subresource needs an object root", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Subresources = &apiextv1.CustomResourceSubresources{Status: &apiextv1.CustomResourceSubresourceStatus{}}
		c.Spec.Versions[0].Schema.OpenAPIV3Schema.Type = "array"
	}, want: []string{
		`spec.validation.openAPIV3Schema.type: Invalid value: "array": only "object" is allowed as the type at the root of the schema if the status subresource is enabled`,
		// From package schema: the structural-schema rules.
		`spec.validation.openAPIV3Schema.items: Required value: must be specified`,
		`spec.validation.openAPIV3Schema.type: Invalid value: "array": must be object at the root`,
	}},
	{name: "status subresource limits the root fields", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Subresources = &apiextv1.CustomResourceSubresources{Status: &apiextv1.CustomResourceSubresourceStatus{}}
		c.Spec.Versions[0].Schema.OpenAPIV3Schema = &apiextv1.JSONSchemaProps{
			Type: "object", MaxProperties: ptrTo(int64(3)), XPreserveUnknownFields: ptrTo(true),
			Properties: map[string]apiextv1.JSONSchemaProps{"spec": {Type: "object", Default: &apiextv1.JSON{Raw: []byte(`{ "b": 1, "a": [true] }`)}, XPreserveUnknownFields: ptrTo(true)}},
		}
	}, want: []string{
		// Upstream prints the internal JSONSchemaProps with every field; schemaJSON abbreviates the zero ones.
		`spec.validation.openAPIV3Schema: Invalid value: ` +
			schemaJSON(`"Type":"object"`, `"MaxProperties":3`, `"XPreserveUnknownFields":true`,
				`"Properties":{"spec":`+schemaJSON(`"Type":"object"`, `"Default":{"a":[true],"b":1}`, `"XPreserveUnknownFields":true`)+`}`) +
			`: only [Description Type Format Title Maximum ExclusiveMaximum Minimum ExclusiveMinimum MaxLength MinLength Pattern MaxItems MinItems UniqueItems MultipleOf Required Items Properties ExternalDocs Example XPreserveUnknownFields XValidations] fields are allowed at the root of the schema if the status subresource is enabled`,
	}},
	{name: "nullable root", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[0].Schema.OpenAPIV3Schema.Nullable = true },
		want: []string{`spec.validation.openAPIV3Schema.nullable: Forbidden: nullable cannot be true at the root`}},
	{name: "per-version schemas report per-version paths", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[1].Schema.OpenAPIV3Schema.Nullable = true
	}, want: []string{`spec.versions[1].schema.openAPIV3Schema.nullable: Forbidden: nullable cannot be true at the root`}},
	{name: "scale paths", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Subresources = &apiextv1.CustomResourceSubresources{Scale: &apiextv1.CustomResourceSubresourceScale{
			SpecReplicasPath: ".status.replicas", StatusReplicasPath: "status.replicas", LabelSelectorPath: ptrTo(".metadata.labels"),
		}}
	}, want: []string{
		`spec.subresources.scale.specReplicasPath: Invalid value: ".status.replicas": should be a json path under .spec`,
		`spec.subresources.scale.statusReplicasPath: Invalid value: "status.replicas": must be a simple json path starting with .`,
		`spec.subresources.scale.labelSelectorPath: Invalid value: ".metadata.labels": should be a json path under either .spec or .status`,
	}},
	{name: "scale paths missing", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[1].Subresources = &apiextv1.CustomResourceSubresources{Scale: &apiextv1.CustomResourceSubresourceScale{}}
	}, want: []string{
		`spec.versions[1].subresources.scale.specReplicasPath: Required value`,
		`spec.versions[1].subresources.scale.statusReplicasPath: Required value`,
	}},
	{name: "printer columns", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].AdditionalPrinterColumns = []apiextv1.CustomResourceColumnDefinition{
			{Name: "", Type: "", JSONPath: ""},
			{Name: "Color", Type: "text", Format: "rgb", JSONPath: "spec.color"},
		}
	}, want: []string{
		`spec.additionalPrinterColumns[0].name: Required value`,
		`spec.additionalPrinterColumns[0].type: Required value: must be one of boolean,date,integer,number,string`,
		`spec.additionalPrinterColumns[0].JSONPath: Required value`,
		`spec.additionalPrinterColumns[1].type: Invalid value: "text": must be one of boolean,date,integer,number,string`,
		`spec.additionalPrinterColumns[1].format: Invalid value: "rgb": must be one of byte,date,date-time,double,float,int32,int64,password`,
		`spec.additionalPrinterColumns[1].JSONPath: Invalid value: "spec.color": must be a simple json path starting with .`,
	}},
	{name: "per-version printer columns", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[1].AdditionalPrinterColumns = []apiextv1.CustomResourceColumnDefinition{{Name: "Color", Type: "string", JSONPath: "spec.color"}}
	}, want: []string{`spec.versions[1].additionalPrinterColumns[0].JSONPath: Invalid value: "spec.color": must be a simple json path starting with .`}},
	{name: "selectable fields", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].SelectableFields = []apiextv1.SelectableField{
			{JSONPath: ""}, {JSONPath: ".spec.nope"}, {JSONPath: ".spec.tags"}, {JSONPath: ".spec.color"}, {JSONPath: ".spec.color"}, {JSONPath: "spec.color"}, {JSONPath: ".spec.labels['a']"},
		}
	}, want: []string{
		`spec.selectableFields[0].jsonPath: Required value`,
		`spec.selectableFields[1].jsonPath: Invalid value: ".spec.nope": is an invalid path: does not refer to a valid field`,
		`spec.selectableFields[2].jsonPath: Invalid value: ".spec.tags": must point to a field of type string, boolean or integer. Enum string fields and strings with formats are allowed.`,
		`spec.selectableFields[4].jsonPath: Duplicate value: ".spec.color"`,
		`spec.selectableFields[5].jsonPath: Invalid value: "spec.color": is an invalid path: expected [ or . but got: spec`,
		`spec.selectableFields[6].jsonPath: Invalid value: ".spec.labels['a']": is an invalid path: array notation is not allowed`,
	}},
	{name: "too many selectable fields", mutate: func(c *apiextv1.CustomResourceDefinition) {
		for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
			c.Spec.Versions[0].SelectableFields = append(c.Spec.Versions[0].SelectableFields, apiextv1.SelectableField{JSONPath: ".spec.labels." + k})
		}
	}, want: []string{`spec.selectableFields: Too many: 9: must have at most 8 items`}},
	{name: "selectable fields on one version without schema", versions: []string{"v1", "v2"}, mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[1].Schema = nil
		c.Spec.Versions[1].SelectableFields = []apiextv1.SelectableField{{JSONPath: ".spec.color"}}
	}, want: []string{
		`spec.versions[1].schema.openAPIV3Schema: Required value`,
		"spec.versions[1].selectableFields: Invalid value: \"\": may only be set when `version.schema.openAPIV3Schema` is not included",
	}},
	{name: "conversion strategy unknown", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Conversion.Strategy = "Magic" },
		want: []string{`spec.conversion.strategy: Unsupported value: "Magic": supported values: "None", "Webhook"`}},
	{name: "webhook config with None", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion.Webhook = &apiextv1.WebhookConversion{ClientConfig: &apiextv1.WebhookClientConfig{URL: ptrTo("https://x.example.com")}, ConversionReviewVersions: []string{"v1"}}
	}, want: []string{
		`spec.conversion.webhookClientConfig: Forbidden: should not be set when strategy is not set to Webhook`,
		`spec.conversion.conversionReviewVersions: Forbidden: should not be set when strategy is not set to Webhook`,
	}},
	{name: "webhook without config", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter}
	}, want: []string{
		`spec.conversion.webhookClientConfig: Required value: required when strategy is set to Webhook`,
		`spec.conversion.conversionReviewVersions: Required value`,
	}},
	{name: "webhook url and review versions", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig:             &apiextv1.WebhookClientConfig{URL: ptrTo("http://user@/convert?x=1#frag")},
			ConversionReviewVersions: []string{"v2", "v2", "V3"},
		}}
	}, want: []string{
		`spec.conversion.webhookClientConfig.url: Invalid value: "http": 'https' is the only allowed URL scheme; desired format: https://host[/path]`,
		`spec.conversion.webhookClientConfig.url: Invalid value: "": host must be specified; desired format: https://host[/path]`,
		`spec.conversion.webhookClientConfig.url: Invalid value: "user": user information is not permitted in the URL`,
		`spec.conversion.webhookClientConfig.url: Invalid value: "frag": fragments are not permitted in the URL`,
		`spec.conversion.webhookClientConfig.url: Invalid value: "x=1": query parameters are not permitted in the URL`,
		`spec.conversion.conversionReviewVersions[1]: Invalid value: "v2": duplicate version`,
		`spec.conversion.conversionReviewVersions[2]: Invalid value: "V3": ` + dns1035,
		`spec.conversion.conversionReviewVersions: Invalid value: ["v2","v2","V3"]: must include at least one of v1, v1beta1`,
	}},
	{name: "webhook service", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig:             &apiextv1.WebhookClientConfig{Service: &apiextv1.ServiceReference{Path: ptrTo("convert//Now/"), Port: ptrTo(int32(0))}},
			ConversionReviewVersions: []string{"v1beta1"},
		}}
	}, want: []string{
		`spec.conversion.webhookClientConfig.service.name: Required value`,
		`spec.conversion.webhookClientConfig.service.namespace: Required value`,
		`spec.conversion.webhookClientConfig.service.port: Invalid value: 0: port is not valid: must be between 1 and 65535, inclusive`,
		`spec.conversion.webhookClientConfig.service.path: Invalid value: "convert//Now/": must start with a '/'`,
		`spec.conversion.webhookClientConfig.service.path: Invalid value: "convert//Now/": segment[1] may not be empty`,
		`spec.conversion.webhookClientConfig.service.path: Invalid value: "convert//Now/": segment[2]: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')`,
	}},
	{name: "webhook url and service", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig:             &apiextv1.WebhookClientConfig{URL: ptrTo("https://a.example.com"), Service: &apiextv1.ServiceReference{Name: "a", Namespace: "b", Port: ptrTo(int32(443))}},
			ConversionReviewVersions: []string{"v1"},
		}}
	}, want: []string{`spec.conversion.webhookClientConfig: Required value: exactly one of url or service is required`}},
	{name: "invalid caBundle allowed on create", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig:             &apiextv1.WebhookClientConfig{URL: ptrTo("https://a.example.com"), CABundle: []byte("junk")},
			ConversionReviewVersions: []string{"v1"},
		}}
	}},
	{name: "stored versions empty", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Status.StoredVersions = nil },
		want: []string{`status.storedVersions: Invalid value: null: must have at least one stored version`}},
	{name: "stored versions lack storage and list an unknown version", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Status.StoredVersions = []string{"v0"} },
		want: []string{
			`status.storedVersions: Invalid value: ["v0"]: must have the storage version v1`,
			`status.storedVersions[0]: Invalid value: "v0": missing from spec.versions; v0 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v0 and removes v0 from status.storedVersions`,
		}},
	{name: "bad accepted names", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Status.AcceptedNames.Plural = "A_B" },
		want: []string{`status.acceptedNames.plural: Invalid value: "A_B": ` + dns1035}},
	{name: "protected group without approval", mutate: func(c *apiextv1.CustomResourceDefinition) { c.Spec.Group = "x.k8s.io"; c.Name = "widgets.x.k8s.io" },
		want: []string{`metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111`}},
	{name: "protected group with bad approval", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Group = "kubernetes.io"
		c.Name = "widgets.kubernetes.io"
		c.Annotations = map[string]string{apiextv1.KubeAPIApprovedAnnotation: "yes"}
	}, want: []string{`metadata.annotations[api-approved.kubernetes.io]: Invalid value: "yes": protected groups must have approval annotation "api-approved.kubernetes.io" with either a URL or a reason starting with "unapproved", see https://github.com/kubernetes/enhancements/pull/1111`}},
	{name: "protected group approved or bypassed", mutate: func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Group = "x.k8s.io"
		c.Name = "widgets.x.k8s.io"
		c.Annotations = map[string]string{apiextv1.KubeAPIApprovedAnnotation: "https://github.com/kubernetes/kubernetes/pull/1"}
	}},
}

const dns1035 = `a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')`

// versionsJSON renders validCRD("v1", "v2")'s versions as upstream renders them in its internal form (the identical schemas moved to the top level).
func versionsJSON(storage1, storage2 bool) string {
	const v = `{"Name":%q,"Served":true,"Storage":%t,"Deprecated":false,"DeprecationWarning":null,"Schema":null,"Subresources":null,"AdditionalPrinterColumns":null,"SelectableFields":null}`
	return "[" + fmt.Sprintf(v, "v1", storage1) + "," + fmt.Sprintf(v, "v2", storage2) + "]"
}

// schemaJSON renders an internal JSONSchemaProps whose fields are zero except the given `"Name":value` pairs (a nested schema last).
func schemaJSON(set ...string) string {
	zero := `{"ID":"","Schema":"","Ref":null,"Description":"","Type":"","Nullable":false,"Format":"","Title":"","Default":null,"Maximum":null,"ExclusiveMaximum":false,"Minimum":null,"ExclusiveMinimum":false,"MaxLength":null,"MinLength":null,"Pattern":"","MaxItems":null,"MinItems":null,"UniqueItems":false,"MultipleOf":null,"Enum":null,"MaxProperties":null,"MinProperties":null,"Required":null,"Items":null,"AllOf":null,"OneOf":null,"AnyOf":null,"Not":null,"Properties":null,"AdditionalProperties":null,"PatternProperties":null,"Dependencies":null,"AdditionalItems":null,"Definitions":null,"ExternalDocs":null,"Example":null,"XPreserveUnknownFields":null,"XEmbeddedResource":false,"XIntOrString":false,"XListMapKeys":null,"XListType":null,"XMapType":null,"XValidations":null}`
	for _, kv := range set {
		name, _, _ := strings.Cut(kv, ":")
		start := strings.Index(zero, name+":")
		end := start + len(name) + 1
		for depth := 0; end < len(zero) && (depth > 0 || (zero[end] != ',' && zero[end] != '}')); end++ {
			switch zero[end] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
			}
		}
		zero = zero[:start] + kv + zero[end:]
	}
	return zero
}

func errorStrings(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Error())
	}
	return out
}

func TestValidateCreate(t *testing.T) {
	for _, tc := range createCases {
		t.Run(tc.name, func(t *testing.T) {
			crd := validCRD(tc.versions...)
			if tc.mutate != nil {
				tc.mutate(crd)
			}
			got := errorStrings(ValidateCreate(crd))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ValidateCreate:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateCreateAggregate(t *testing.T) {
	crd := validCRD()
	crd.Name = "foo"
	crd.Spec.Scope = ""
	got := ValidateCreate(crd).ToAggregate().Error()
	want := `[metadata.name: Invalid value: "foo": must be spec.names.plural+"."+spec.group, spec.scope: Required value]`
	if got != want {
		t.Errorf("aggregate = %s, want %s", got, want)
	}
}

// updateCase is an update-validation case: build returns the stored CRD and the update, already prepared and defaulted.
type updateCase struct {
	name  string
	build func() (old, crd *apiextv1.CustomResourceDefinition)
	want  []string
}

// update returns validCRD(versions...) stored (resourceVersion 1, established when asked) and an update made by mutate, prepared and defaulted as the API server does.
func update(established bool, versions []string, mutateOld, mutate func(*apiextv1.CustomResourceDefinition)) func() (old, crd *apiextv1.CustomResourceDefinition) {
	return func() (*apiextv1.CustomResourceDefinition, *apiextv1.CustomResourceDefinition) {
		old := validCRD(versions...)
		old.ResourceVersion = "1"
		if mutateOld != nil {
			mutateOld(old)
		}
		if established {
			old.Status = NamingStatus(old, nil, metav1.Unix(100, 0))
		}
		crd := old.DeepCopy()
		if mutate != nil {
			mutate(crd)
		}
		PrepareForUpdate(crd, old)
		SetDefaults(crd)
		return old, crd
	}
}

var updateCases = []updateCase{
	{name: "unchanged", build: update(true, nil, nil, nil)},
	{name: "add a version and move storage", build: update(true, nil, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Storage = false
		c.Spec.Versions = append(c.Spec.Versions, apiextv1.CustomResourceDefinitionVersion{Name: "v2", Served: true, Storage: true, Schema: objectSchema()})
	})},
	{name: "name changed", build: update(false, nil, nil, func(c *apiextv1.CustomResourceDefinition) { c.Name = "gadgets.example.com" }),
		want: []string{`metadata.name: Invalid value: "gadgets.example.com": field is immutable`}},
	{name: "group and plural are immutable", build: update(false, nil, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Group = "example.org"
		c.Spec.Names.Plural = "gadgets"
	}), want: []string{
		`spec.group: Invalid value: "example.org": field is immutable`,
		`spec.names.plural: Invalid value: "gadgets": field is immutable`,
	}},
	{name: "scope and kind mutable before established", build: update(false, nil, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Scope = apiextv1.ClusterScoped
		c.Spec.Names.Kind = "Gadget"
	})},
	{name: "scope and kind immutable once established", build: update(true, nil, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Scope = apiextv1.ClusterScoped
		c.Spec.Names.Kind = "Gadget"
	}), want: []string{
		`spec.scope: Invalid value: "Cluster": field is immutable`,
		`spec.names.kind: Invalid value: "Gadget": field is immutable`,
	}},
	{name: "stored version removed from spec.versions", build: update(true, nil, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Name = "v2"
	}), want: []string{
		`status.storedVersions[0]: Invalid value: "v1": missing from spec.versions; v1 was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in v1 and removes v1 from status.storedVersions`,
	}},
	{name: "legacy CRD without schema may keep it unserved", build: update(true, []string{"v1", "v2"}, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[1].Schema = nil
	}, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[1].Served = false
	})},
	{name: "legacy CRD without schema must not serve it", build: update(true, []string{"v1", "v2"}, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[1].Schema = nil
	}, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Schema = nil
	}), want: []string{
		`spec.versions[0].schema.openAPIV3Schema: Required value: because otherwise all fields are pruned`,
		`spec.versions[1].schema.openAPIV3Schema: Required value: because otherwise all fields are pruned`,
	}},
	{name: "invalid caBundle rejected once established", build: update(true, nil, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig:             &apiextv1.WebhookClientConfig{URL: ptrTo("https://a.example.com"), CABundle: []byte("junk")},
			ConversionReviewVersions: []string{"v1"},
		}}
	}), want: []string{
		`spec.conversion.webhookClientConfig.caBundle: Invalid value: "anVuaw==": unable to load root certificates: unable to parse bytes as PEM block`,
	}},
	{name: "invalid caBundle kept when it was already invalid", build: update(true, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig:             &apiextv1.WebhookClientConfig{URL: ptrTo("https://a.example.com"), CABundle: []byte("junk")},
			ConversionReviewVersions: []string{"v1"},
		}}
	}, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion.Webhook.ClientConfig.CABundle = []byte("more junk")
	})},
	{name: "unrecognized review versions kept", build: update(true, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Conversion = &apiextv1.CustomResourceConversion{Strategy: apiextv1.WebhookConverter, Webhook: &apiextv1.WebhookConversion{
			ClientConfig:             &apiextv1.WebhookClientConfig{URL: ptrTo("https://a.example.com")},
			ConversionReviewVersions: []string{"v9"},
		}}
	}, nil)},
	{name: "preserveUnknownFields may stay true", build: update(true, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.PreserveUnknownFields = true
	}, nil)},
	{name: "preserveUnknownFields may not become true", build: update(true, nil, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.PreserveUnknownFields = true
	}), want: []string{`spec.preserveUnknownFields: Invalid value: true: cannot set to true, set x-kubernetes-preserve-unknown-fields to true in spec.versions[*].schema instead`}},
	{name: "unchanged missing approval is kept", build: update(true, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Group = "x.k8s.io"
		c.Name = "widgets.x.k8s.io"
	}, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Versions[0].Served = false
	})},
	{name: "approval may not become invalid", build: update(true, nil, func(c *apiextv1.CustomResourceDefinition) {
		c.Spec.Group = "x.k8s.io"
		c.Name = "widgets.x.k8s.io"
		c.Annotations = map[string]string{apiextv1.KubeAPIApprovedAnnotation: "unapproved, testing"}
	}, func(c *apiextv1.CustomResourceDefinition) {
		c.Annotations[apiextv1.KubeAPIApprovedAnnotation] = ""
	}), want: []string{`metadata.annotations[api-approved.kubernetes.io]: Required value: protected groups must have approval annotation "api-approved.kubernetes.io", see https://github.com/kubernetes/enhancements/pull/1111`}},
	{name: "too many selectable fields kept when unchanged", build: update(true, nil, func(c *apiextv1.CustomResourceDefinition) {
		for _, k := range []string{"a", "b", "c", "d", "e", "f", "g", "h", "i"} {
			c.Spec.Versions[0].SelectableFields = append(c.Spec.Versions[0].SelectableFields, apiextv1.SelectableField{JSONPath: ".spec.labels." + k})
		}
	}, func(c *apiextv1.CustomResourceDefinition) { c.Spec.Versions[0].Deprecated = true })},
}

func TestValidateUpdate(t *testing.T) {
	for _, tc := range updateCases {
		t.Run(tc.name, func(t *testing.T) {
			old, crd := tc.build()
			got := errorStrings(ValidateUpdate(crd, old))
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("ValidateUpdate:\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestValidateStatusUpdate(t *testing.T) {
	old := validCRD()
	old.ResourceVersion = "1"
	crd := old.DeepCopy()
	crd.Status = NamingStatus(crd, nil, metav1.Unix(100, 0))
	crd.Spec.Group = "ignored.example.com"
	PrepareForStatusUpdate(crd, old)
	if crd.Spec.Group != "example.com" {
		t.Errorf("PrepareForStatusUpdate kept spec.group %q, want the stored example.com", crd.Spec.Group)
	}
	if errs := ValidateStatusUpdate(crd, old); errs != nil {
		t.Errorf("ValidateStatusUpdate(valid) = %v", errs)
	}
	crd.Status.AcceptedNames.Kind = "Bad Kind"
	crd.Name = "other.example.com"
	want := []string{
		`metadata.name: Invalid value: "other.example.com": field is immutable`,
		`status.acceptedNames.kind: Invalid value: "Bad Kind": may have mixed case, but should otherwise match: ` + dns1035,
	}
	if got := errorStrings(ValidateStatusUpdate(crd, old)); !reflect.DeepEqual(got, want) {
		t.Errorf("ValidateStatusUpdate:\n got %q\nwant %q", got, want)
	}
}

func BenchmarkValidateCreate(b *testing.B) {
	crd := validCRD("v1", "v2")
	b.ReportAllocs()
	for b.Loop() {
		if errs := ValidateCreate(crd); errs != nil {
			b.Fatal(errs)
		}
	}
}

func BenchmarkNamingStatus(b *testing.B) {
	crd := validCRD()
	var others []*apiextv1.CustomResourceDefinition
	for i := 0; i < 100; i++ {
		n := fmt.Sprintf("kind%d", i)
		others = append(others, accepted(n+"s.example.com", "example.com", n+"s", n, "Kind"+n))
	}
	b.ReportAllocs()
	for b.Loop() {
		NamingStatus(crd, others, metav1.Unix(1, 0))
	}
}
