package kubelet

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

func TestSubPath(t *testing.T) {
	vars := map[string]string{"POD_NAME": "web-0", "UP": "..", "ABS": "/tmp", "EMPTY": ""}
	for _, tc := range []struct {
		name    string
		vm      corev1.VolumeMount
		want    string
		wantErr string
	}{
		{name: "plain", vm: corev1.VolumeMount{SubPath: "logs/a"}, want: "logs/a"},
		{name: "dots inside a name", vm: corev1.VolumeMount{SubPath: "a..b"}, want: "a..b"},
		{name: "expr", vm: corev1.VolumeMount{SubPathExpr: "logs/$(POD_NAME)"}, want: "logs/web-0"},
		{name: "escaped", vm: corev1.VolumeMount{SubPathExpr: "$$(POD_NAME)"}, want: "$(POD_NAME)"},
		{name: "expr to backstep", vm: corev1.VolumeMount{SubPathExpr: "$(UP)"}, wantErr: "unable to provision SubPath `..`: must not contain '..'"},
		{name: "expr to absolute", vm: corev1.VolumeMount{SubPathExpr: "$(ABS)"}, wantErr: "error SubPath `/tmp` must not be an absolute path"},
		{name: "missing variables", vm: corev1.VolumeMount{SubPathExpr: "$(NOPE)/$(EMPTY)/$(NOPE)"}, wantErr: "missing value for EMPTY, NOPE"},
		{name: "backstep", vm: corev1.VolumeMount{SubPath: "a/../../b"}, wantErr: "must not contain '..'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := subPath(tc.vm, vars)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("subPath = %q, %v; want error containing %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("subPath = %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
