//go:build upstreamdiff

package apiextensions

import (
	"context"
	"reflect"
	"testing"

	"k8s.io/apiextensions-apiserver/pkg/apis/apiextensions"
	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	upstream "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/validation"
)

func toInternal(t *testing.T, in *apiextv1.CustomResourceDefinition) *apiextensions.CustomResourceDefinition {
	out := &apiextensions.CustomResourceDefinition{}
	if err := apiextv1.Convert_v1_CustomResourceDefinition_To_apiextensions_CustomResourceDefinition(in.DeepCopy(), out, nil); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestUpstreamCreate compares ValidateCreate with upstream's validation on every create case.
func TestUpstreamCreate(t *testing.T) {
	for _, tc := range createCases {
		t.Run(tc.name, func(t *testing.T) {
			crd := validCRD(tc.versions...)
			if tc.mutate != nil {
				tc.mutate(crd)
			}
			want := errorStrings(upstream.ValidateCustomResourceDefinition(context.Background(), toInternal(t, crd)))
			got := errorStrings(ValidateCreate(crd))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestUpstreamUpdate compares ValidateUpdate with upstream's validation on every update case.
func TestUpstreamUpdate(t *testing.T) {
	for _, tc := range updateCases {
		t.Run(tc.name, func(t *testing.T) {
			old, crd := tc.build()
			want := errorStrings(upstream.ValidateCustomResourceDefinitionUpdate(context.Background(), toInternal(t, crd), toInternal(t, old)))
			got := errorStrings(ValidateUpdate(crd, old))
			if !reflect.DeepEqual(got, want) {
				t.Errorf("\n got %q\nwant %q", got, want)
			}
		})
	}
}

// TestUpstreamDefaults compares SetDefaults with upstream's defaulting followed by the storage round trip through the internal form.
func TestUpstreamDefaults(t *testing.T) {
	for _, tc := range createCases {
		t.Run(tc.name, func(t *testing.T) {
			crd := validCRD(tc.versions...)
			if tc.mutate != nil {
				tc.mutate(crd)
			}
			crd.Status.StoredVersions = nil
			crd.Spec.Names.Singular, crd.Spec.Names.ListKind = "", ""
			if s := crd.Spec.Versions[0].Schema; s != nil && s.OpenAPIV3Schema != nil {
				s.OpenAPIV3Schema.Default = &apiextv1.JSON{Raw: []byte("null")}
			}
			if w := crd.Spec.Conversion.Webhook; w != nil && w.ClientConfig != nil && w.ClientConfig.Service != nil {
				w.ClientConfig.Service.Port = nil
			}
			want := crd.DeepCopy()
			apiextv1.SetObjectDefaults_CustomResourceDefinition(want)
			internal := toInternal(t, want)
			want = &apiextv1.CustomResourceDefinition{}
			if err := apiextv1.Convert_apiextensions_CustomResourceDefinition_To_v1_CustomResourceDefinition(internal, want, nil); err != nil {
				t.Fatal(err)
			}
			SetDefaults(crd)
			if !reflect.DeepEqual(crd, want) {
				t.Errorf("\n got %+v\nwant %+v", crd, want)
			}
		})
	}
}
