package kubelet

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/api/resource"
)

// Eviction signals the kubelet understands in --eviction-hard (the kubelet's names).
const (
	SignalMemoryAvailable   = "memory.available"
	SignalNodeFsAvailable   = "nodefs.available"
	SignalNodeFsInodesFree  = "nodefs.inodesFree"
	SignalImageFsAvailable  = "imagefs.available"
	SignalImageFsInodesFree = "imagefs.inodesFree"
	SignalPIDAvailable      = "pid.available"
)

// DefaultEvictionHard is the node's default hard eviction thresholds. They are the kubelet's, except the disk
// ones, which are k3s's (5% instead of 10% and 15%): a single-binary node often shares a large disk whose free
// space the kubelet's defaults would already call pressure, tainting the only node with
// node.kubernetes.io/disk-pressure and leaving every new pod Pending.
const DefaultEvictionHard = "memory.available<100Mi,nodefs.available<5%,nodefs.inodesFree<5%,imagefs.available<5%,imagefs.inodesFree<5%"

// Threshold is one hard eviction threshold: Signal is below it when its available amount is less than Quantity,
// or than Percentage of its capacity when Quantity is nil.
type Threshold struct {
	Signal     string
	Quantity   *resource.Quantity
	Percentage float64 // 0 to 1
}

// EvictionThresholds are the thresholds by signal. A signal that is absent, or whose threshold is zero
// ("nodefs.available<0%", as kind and minikube set), never reports pressure.
type EvictionThresholds map[string]Threshold

// ParseEvictionHard parses the kubelet's --eviction-hard syntax, "signal<value" separated by commas, where value
// is a quantity ("100Mi", for memory.available and pid.available a count) or a percentage ("10%"). An empty
// string means no thresholds. The error names the statement that is wrong.
func ParseEvictionHard(s string) (EvictionThresholds, error) {
	out := EvictionThresholds{}
	if strings.TrimSpace(s) == "" {
		return out, nil
	}
	for _, stmt := range strings.Split(s, ",") {
		stmt = strings.TrimSpace(stmt)
		signal, value, ok := strings.Cut(stmt, "<")
		if !ok || signal == "" || value == "" {
			return nil, fmt.Errorf("invalid eviction threshold syntax %q, expected <signal><operator><value>", stmt)
		}
		switch signal {
		case SignalMemoryAvailable, SignalNodeFsAvailable, SignalNodeFsInodesFree, SignalImageFsAvailable, SignalImageFsInodesFree, SignalPIDAvailable:
		default:
			return nil, fmt.Errorf("unsupported eviction signal %q in %q", signal, stmt)
		}
		if _, dup := out[signal]; dup {
			return nil, fmt.Errorf("eviction signal %q given more than once", signal)
		}
		t := Threshold{Signal: signal}
		if p, ok := strings.CutSuffix(value, "%"); ok {
			f, err := strconv.ParseFloat(p, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid percentage %q in %q: %w", value, stmt, err)
			}
			if f < 0 || f > 100 {
				return nil, fmt.Errorf("eviction percentage threshold %s must be >= 0%% and <= 100%%: %q", value, stmt)
			}
			t.Percentage = f / 100
		} else {
			q, err := resource.ParseQuantity(value)
			if err != nil {
				return nil, fmt.Errorf("invalid quantity %q in %q: %w", value, stmt, err)
			}
			if q.Sign() < 0 {
				return nil, fmt.Errorf("eviction threshold %s must be positive: %q", value, stmt)
			}
			t.Quantity = &q
		}
		out[signal] = t
	}
	return out, nil
}

// String gives the thresholds back in --eviction-hard syntax, sorted by signal.
func (e EvictionThresholds) String() string {
	var parts []string
	for _, t := range e {
		v := strconv.FormatFloat(t.Percentage*100, 'f', -1, 64) + "%"
		if t.Quantity != nil {
			v = t.Quantity.String()
		}
		parts = append(parts, t.Signal+"<"+v)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// Below reports whether available (of capacity) is under signal's threshold. Unknown figures (capacity 0) are
// never under.
func (e EvictionThresholds) Below(signal string, available, capacity uint64) bool {
	t, ok := e[signal]
	if !ok || capacity == 0 {
		return false
	}
	if t.Quantity != nil {
		return available < uint64(t.Quantity.Value())
	}
	return float64(available) < t.Percentage*float64(capacity)
}

// Reserve is the amount of capacity signal's threshold holds back (what node allocatable subtracts), at most
// capacity.
func (e EvictionThresholds) Reserve(signal string, capacity uint64) uint64 {
	t, ok := e[signal]
	if !ok {
		return 0
	}
	r := uint64(t.Percentage * float64(capacity))
	if t.Quantity != nil {
		r = uint64(t.Quantity.Value())
	}
	return min(r, capacity)
}
