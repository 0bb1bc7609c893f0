package sim

import (
	"testing"
	"time"
)

func TestParseStatCPU(t *testing.T) {
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{name: "plain", stat: "1234 (skiff) S 1 1234 1234 0 -1 4194560 2000 0 0 0 150 50 0 0 20 0 12 0 100 0 0",
			want: 2 * time.Second},
		{name: "spaces and parens in the name", stat: "7 (a b) c)) R 1 7 7 0 -1 0 0 0 0 0 7 3 0 0 20 0 1 0 1 0 0",
			want: 100 * time.Millisecond},
		{name: "truncated", stat: "7 (x) R 1 2 3", wantErr: true},
		{name: "no name", stat: "garbage", wantErr: true},
		{name: "not a number", stat: "7 (x) R 1 7 7 0 -1 0 0 0 0 0 x 3 0", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseStatCPU(tt.stat)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err=%v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	if _, err := CPUTime(0); err != nil {
		t.Errorf("CPUTime(self): %v", err)
	}
}

func TestCPUMeter(t *testing.T) {
	var m CPUMeter
	if got := m.Share(time.Second, t0); got != 0 {
		t.Errorf("first Share=%v, want 0", got)
	}
	if got := m.Share(1500*time.Millisecond, t0.Add(time.Second)); got != 0.5 {
		t.Errorf("Share=%v, want 0.5", got)
	}
	if got := m.Share(3500*time.Millisecond, t0.Add(2*time.Second)); got != 2 {
		t.Errorf("Share=%v, want 2 (two cores)", got)
	}
	if got := m.Share(4*time.Second, t0.Add(2*time.Second)); got != 0 {
		t.Errorf("Share with no wall time=%v, want 0", got)
	}
}
