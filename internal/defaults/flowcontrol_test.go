package defaults

import (
	"testing"

	"encoding/json"
	"reflect"

	"github.com/skiff-sh/skiff/internal/flowcontrol"
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
)

// TestFlowSchemaDefaults checks pkg/apis/flowcontrol/v1/defaults.go: matchingPrecedence 0 becomes 1000, other values are kept.
func TestFlowSchemaDefaults(t *testing.T) {
	for _, tc := range []struct {
		name      string
		in, wantP int32
	}{
		{name: "unset", in: 0, wantP: 1000},
		{name: "set", in: 500, wantP: 500},
		{name: "exempt's 1 is kept", in: 1, wantP: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := &flowcontrolv1.FlowSchema{Spec: flowcontrolv1.FlowSchemaSpec{MatchingPrecedence: tc.in}}
			defaultFlowSchema(fs)
			if fs.Spec.MatchingPrecedence != tc.wantP {
				t.Errorf("matchingPrecedence = %d, want %d", fs.Spec.MatchingPrecedence, tc.wantP)
			}
		})
	}
}

// TestPriorityLevelConfigurationDefaults mirrors upstream's v1 defaults_test cases.
func TestPriorityLevelConfigurationDefaults(t *testing.T) {
	limited := func(shares, lendable *int32, lr flowcontrolv1.LimitResponse) flowcontrolv1.PriorityLevelConfigurationSpec {
		return flowcontrolv1.PriorityLevelConfigurationSpec{
			Type:    flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{NominalConcurrencyShares: shares, LendablePercent: lendable, LimitResponse: lr},
		}
	}
	reject := flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}
	queue := func(q, h, l int32) flowcontrolv1.LimitResponse {
		return flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue,
			Queuing: &flowcontrolv1.QueuingConfiguration{Queues: q, HandSize: h, QueueLengthLimit: l}}
	}
	exempt := func(shares, lendable *int32) flowcontrolv1.PriorityLevelConfigurationSpec {
		return flowcontrolv1.PriorityLevelConfigurationSpec{
			Type:   flowcontrolv1.PriorityLevelEnablementExempt,
			Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{NominalConcurrencyShares: shares, LendablePercent: lendable},
		}
	}
	for _, tc := range []struct {
		name     string
		in, want flowcontrolv1.PriorityLevelConfigurationSpec
	}{
		{name: "exempt: unset shares and lendablePercent become 0", in: exempt(nil, nil), want: exempt(ptrTo[int32](0), ptrTo[int32](0))},
		{name: "exempt: explicit values are kept", in: exempt(ptrTo[int32](5), ptrTo[int32](10)), want: exempt(ptrTo[int32](5), ptrTo[int32](10))},
		{name: "limited: unset shares become 30, lendablePercent 0", in: limited(nil, nil, reject), want: limited(ptrTo[int32](30), ptrTo[int32](0), reject)},
		{name: "limited: explicit zero shares are kept (v1)", in: limited(ptrTo[int32](0), nil, reject), want: limited(ptrTo[int32](0), ptrTo[int32](0), reject)},
		{name: "limited: explicit values are kept", in: limited(ptrTo[int32](5), ptrTo[int32](20), reject), want: limited(ptrTo[int32](5), ptrTo[int32](20), reject)},
		{name: "queuing: zeros become 64 queues, hand 8, length 50", in: limited(ptrTo[int32](5), ptrTo[int32](0), queue(0, 0, 0)),
			want: limited(ptrTo[int32](5), ptrTo[int32](0), queue(64, 8, 50))},
		{name: "queuing: explicit values are kept", in: limited(ptrTo[int32](5), ptrTo[int32](0), queue(16, 4, 10)),
			want: limited(ptrTo[int32](5), ptrTo[int32](0), queue(16, 4, 10))},
		{name: "queue type without queuing is left for validation", in: limited(nil, nil, flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue}),
			want: limited(ptrTo[int32](30), ptrTo[int32](0), flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue})},
		{name: "no type: nothing to default", in: flowcontrolv1.PriorityLevelConfigurationSpec{}, want: flowcontrolv1.PriorityLevelConfigurationSpec{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			pl := &flowcontrolv1.PriorityLevelConfiguration{Spec: tc.in}
			defaultPriorityLevelConfiguration(pl)
			if !reflect.DeepEqual(tc.want, pl.Spec) {
				t.Errorf("defaulted spec = %s, want %s", toJSON(pl.Spec), toJSON(tc.want))
			}
			again := pl.DeepCopy()
			defaultPriorityLevelConfiguration(again)
			if !reflect.DeepEqual(pl, again) {
				t.Errorf("defaulting is not idempotent: once %s, twice %s", toJSON(pl.Spec), toJSON(again.Spec))
			}
		})
	}
}

func toJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// TestBootstrapFlowControlObjectsAreDefaulted checks that defaulting leaves the API server's own objects unchanged, as upstream's internalbootstrap test does.
func TestBootstrapFlowControlObjectsAreDefaulted(t *testing.T) {
	flowSchemas, levels := flowcontrol.Bootstrap()
	for _, fs := range flowSchemas {
		got := fs.DeepCopy()
		defaultFlowSchema(got)
		if !reflect.DeepEqual(fs, got) {
			t.Errorf("FlowSchema %s: defaulting changed it to %s", fs.Name, toJSON(got.Spec))
		}
	}
	for _, pl := range levels {
		got := pl.DeepCopy()
		defaultPriorityLevelConfiguration(got)
		if !reflect.DeepEqual(pl, got) {
			t.Errorf("PriorityLevelConfiguration %s: defaulting changed it to %s", pl.Name, toJSON(got.Spec))
		}
	}
}
