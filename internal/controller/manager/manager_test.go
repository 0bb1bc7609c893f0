package manager

import (
	"strings"
	"testing"
	"time"

	"github.com/skiff-sh/skiff/internal/controller"
)

func TestOptionsDefaults(t *testing.T) {
	var o Options
	if err := o.validate(); err != nil {
		t.Fatal(err)
	}
	if o.LeaseNamespace != "kube-system" || o.LeaseName != "kube-controller-manager" {
		t.Errorf("lease %s/%s, want kube-system/kube-controller-manager", o.LeaseNamespace, o.LeaseName)
	}
	if o.LeaseDuration != 15*time.Second || o.RenewDeadline != 10*time.Second || o.RetryPeriod != 2*time.Second {
		t.Errorf("timings %v/%v/%v, want 15s/10s/2s", o.LeaseDuration, o.RenewDeadline, o.RetryPeriod)
	}
	if host, id, ok := strings.Cut(o.Identity, "_"); !ok || host == "" || len(id) != 36 {
		t.Errorf("identity %q, want hostname_uuid", o.Identity)
	}
	if len(o.Controllers) != len(Controllers) || o.Clock == nil || o.Log == nil {
		t.Errorf("defaults not filled: %+v", o)
	}
	var other Options
	if err := other.validate(); err != nil || other.Identity == o.Identity {
		t.Errorf("two managers share identity %q", o.Identity)
	}
}

func TestOptionsRejectsIncompleteRegistration(t *testing.T) {
	o := Options{Controllers: []Registration{{Name: "x"}}}
	if err := o.validate(); err == nil {
		t.Fatal("registration without a constructor accepted")
	}
	o = Options{Controllers: []Registration{{New: func(controller.Context) (controller.Controller, error) { return nil, nil }}}}
	if err := o.validate(); err == nil {
		t.Fatal("registration without a name accepted")
	}
}

func TestRegistryNamesAreUnique(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Controllers {
		if seen[r.Name] {
			t.Errorf("controller %q registered twice", r.Name)
		}
		seen[r.Name] = true
		if r.Workers < 1 {
			t.Errorf("controller %q has %d workers", r.Name, r.Workers)
		}
	}
}
