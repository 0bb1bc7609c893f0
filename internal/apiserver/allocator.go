package apiserver

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"sync"

	"github.com/skiff-sh/skiff/internal/storage"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// Keys of the allocation bitmaps, as kube-apiserver stores them.
const (
	serviceIPsKey       = "/registry/ranges/serviceips"
	serviceNodePortsKey = "/registry/ranges/servicenodeports"
)

// Errors of the range allocators, worded as Kubernetes' ipallocator and portallocator.
var (
	errRangeFull     = errors.New("range is full")
	errIPAllocated   = errors.New("provided IP is already allocated")
	errPortAllocated = errors.New("provided port is already allocated")
)

// bitmap is an allocation bitmap: bit i set means offset i is in use. Its bytes are big.Int's big-endian form,
// as Kubernetes' allocationBitmap snapshots it into RangeAllocation.data.
type bitmap struct{ bits *big.Int }

func bitmapOf(data []byte) bitmap { return bitmap{new(big.Int).SetBytes(data)} }

func (b bitmap) has(off int) bool { return b.bits.Bit(off) == 1 }
func (b bitmap) set(off int)      { b.bits.SetBit(b.bits, off, 1) }
func (b bitmap) clear(off int)    { b.bits.SetBit(b.bits, off, 0) }
func (b bitmap) bytes() []byte    { return b.bits.Bytes() }

// next returns the first free offset of [0,size) at or after start (wrapping), skipping reserved ones.
func (b bitmap) next(size, start int, reserved func(int) bool) (int, bool) {
	for i := 0; i < size; i++ {
		off := (start + i) % size
		if !b.has(off) && (reserved == nil || !reserved(off)) {
			return off, true
		}
	}
	return 0, false
}

// rangeAllocator hands out the offsets [0,size) of one range. The bitmap lives in etcd at key as a
// corev1.RangeAllocation and every change is a compare-and-swap on its revision, so API servers sharing the etcd
// never hand out the same offset.
type rangeAllocator struct {
	store     *storage.Store
	key       string
	rangeSpec string
	size      int
	// reserved offsets are never handed out by allocateNext (the kubernetes Service's IP).
	reserved func(int) bool

	mu     sync.Mutex // guards cached
	cached runtime.Object

	repairMu sync.Mutex // serialises repair passes; guards leaks
	leaks    map[int]int
}

func newRangeAllocation() runtime.Object { return &corev1.RangeAllocation{} }

// update applies change to the stored bitmap until the write commits; change's error aborts.
func (a *rangeAllocator) update(ctx context.Context, change func(b bitmap) error) error {
	a.mu.Lock()
	cached := a.cached
	a.mu.Unlock()
	for attempt := 0; attempt < 2; attempt++ {
		out, err := a.store.GuaranteedUpdateCached(ctx, a.key, newRangeAllocation, cached, func(cur runtime.Object) (runtime.Object, error) {
			ra := cur.(*corev1.RangeAllocation)
			b := bitmapOf(ra.Data)
			if ra.Range != a.rangeSpec {
				// The range changed (a new --service-cidr): start afresh; the repair marks what Services hold.
				b = bitmapOf(nil)
				ra.Range = a.rangeSpec
			}
			if err := change(b); err != nil {
				return nil, err
			}
			ra.Data = b.bytes()
			return ra, nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			ra := &corev1.RangeAllocation{Range: a.rangeSpec}
			if _, err := a.store.Create(ctx, a.key, ra); err != nil && !errors.Is(err, storage.ErrAlreadyExists) {
				return fmt.Errorf("create %s: %w", a.key, err)
			}
			cached = nil
			continue
		}
		if err != nil {
			return err
		}
		a.mu.Lock()
		a.cached = out
		a.mu.Unlock()
		return nil
	}
	return fmt.Errorf("update %s: %w", a.key, storage.ErrNotFound)
}

// allocate marks off as used; errAllocated if it already is, or is reserved and allowReserved is false.
func (a *rangeAllocator) allocate(ctx context.Context, off int, allowReserved bool, errAllocated error) error {
	if !allowReserved && a.reserved != nil && a.reserved(off) {
		return errAllocated
	}
	return a.update(ctx, func(b bitmap) error {
		if b.has(off) {
			return errAllocated
		}
		b.set(off)
		return nil
	})
}

// allocateNext marks a free offset, searching from a random place (which keeps concurrent servers apart).
func (a *rangeAllocator) allocateNext(ctx context.Context) (int, error) {
	start, err := randInt(a.size)
	if err != nil {
		return 0, err
	}
	var got int
	err = a.update(ctx, func(b bitmap) error {
		off, ok := b.next(a.size, start, a.reserved)
		if !ok {
			return errRangeFull
		}
		b.set(off)
		got = off
		return nil
	})
	return got, err
}

// release frees off; freeing a free offset is not an error.
func (a *rangeAllocator) release(ctx context.Context, off int) error {
	return a.update(ctx, func(b bitmap) error {
		b.clear(off)
		return nil
	})
}

// ipAllocator hands out ClusterIPs from a CIDR, without its network and broadcast addresses; the first usable
// address belongs to the kubernetes Service and is never handed out.
type ipAllocator struct {
	cidr *net.IPNet
	base uint32 // the first usable address, offset 0
	r    *rangeAllocator
}

func newIPAllocator(store *storage.Store, cidr *net.IPNet) *ipAllocator {
	ones, bits := cidr.Mask.Size()
	size := 1<<uint(bits-ones) - 2
	if size < 1 {
		size = 1
	}
	a := &ipAllocator{cidr: cidr, base: binary.BigEndian.Uint32(cidr.IP.To4()) + 1}
	a.r = &rangeAllocator{store: store, key: serviceIPsKey, rangeSpec: cidr.String(), size: size, reserved: func(off int) bool { return off == 0 }}
	return a
}

// First returns the first usable address (the kubernetes Service's).
func (a *ipAllocator) First() net.IP { return a.ip(0) }

func (a *ipAllocator) ip(off int) net.IP {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, a.base+uint32(off))
	return ip
}

// offset returns ip's place in the bitmap; false outside the usable range.
func (a *ipAllocator) offset(ip net.IP) (int, bool) {
	v4 := ip.To4()
	if v4 == nil || !a.cidr.Contains(v4) {
		return 0, false
	}
	v := binary.BigEndian.Uint32(v4)
	if v < a.base || int(v-a.base) >= a.r.size {
		return 0, false
	}
	return int(v - a.base), true
}

// Allocate reserves a specific address; an error if it is outside the range or taken. Only the kubernetes
// Service (allowReserved) may have the first address.
func (a *ipAllocator) Allocate(ctx context.Context, ip net.IP, allowReserved bool) error {
	off, ok := a.offset(ip)
	if !ok {
		return fmt.Errorf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, a.cidr)
	}
	return a.r.allocate(ctx, off, allowReserved, errIPAllocated)
}

// AllocateNext reserves a free address.
func (a *ipAllocator) AllocateNext(ctx context.Context) (net.IP, error) {
	off, err := a.r.allocateNext(ctx)
	if err != nil {
		return nil, err
	}
	return a.ip(off), nil
}

// Release frees an address; addresses outside the range are ignored.
func (a *ipAllocator) Release(ctx context.Context, ip net.IP) error {
	if off, ok := a.offset(ip); ok {
		return a.r.release(ctx, off)
	}
	return nil
}

// portAllocator hands out NodePorts from an inclusive range.
type portAllocator struct {
	min, max int
	r        *rangeAllocator
}

func newPortAllocator(store *storage.Store, min, max int) *portAllocator {
	return &portAllocator{min: min, max: max, r: &rangeAllocator{store: store, key: serviceNodePortsKey,
		rangeSpec: strconv.Itoa(min) + "-" + strconv.Itoa(max), size: max - min + 1}}
}

func (p *portAllocator) offset(port int) (int, bool) {
	if port < p.min || port > p.max {
		return 0, false
	}
	return port - p.min, true
}

// Allocate reserves a specific port; an error if it is outside the range or taken.
func (p *portAllocator) Allocate(ctx context.Context, port int) error {
	off, ok := p.offset(port)
	if !ok {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %d-%d", p.min, p.max)
	}
	return p.r.allocate(ctx, off, false, errPortAllocated)
}

// AllocateNext reserves a free port.
func (p *portAllocator) AllocateNext(ctx context.Context) (int, error) {
	off, err := p.r.allocateNext(ctx)
	if err != nil {
		return 0, err
	}
	return p.min + off, nil
}

// Release frees a port; ports outside the range are ignored.
func (p *portAllocator) Release(ctx context.Context, port int) error {
	if off, ok := p.offset(port); ok {
		return p.r.release(ctx, off)
	}
	return nil
}
