package apiserver

import (
	"encoding/binary"
	"fmt"

	"net"
	"sync"
)

// ipAllocator hands out ClusterIPs from a CIDR; the first address is reserved for the kubernetes Service
// and the network and broadcast addresses are never used. The in-memory set is rebuilt from the stored
// Services at start, and the Service store itself refuses duplicates, so it survives restarts.
type ipAllocator struct {
	cidr *net.IPNet
	base uint32
	size uint32
	mu   sync.Mutex // guards the fields below
	used map[uint32]bool
	next uint32
}

func newIPAllocator(cidr *net.IPNet) *ipAllocator {
	ones, bits := cidr.Mask.Size()
	size := uint32(1) << uint(bits-ones)
	if bits-ones >= 32 {
		size = ^uint32(0)
	}
	return &ipAllocator{cidr: cidr, base: binary.BigEndian.Uint32(cidr.IP.To4()), size: size, used: map[uint32]bool{1: true}, next: 2} // 1: the kubernetes Service, never handed out
}

// First returns the first usable address (the kubernetes Service's).
func (a *ipAllocator) First() net.IP { return a.ip(1) }

func (a *ipAllocator) ip(off uint32) net.IP {
	ip := make(net.IP, 4)
	binary.BigEndian.PutUint32(ip, a.base+off)
	return ip
}

func (a *ipAllocator) offset(ip net.IP) (uint32, bool) {
	v4 := ip.To4()
	if v4 == nil || !a.cidr.Contains(v4) {
		return 0, false
	}
	off := binary.BigEndian.Uint32(v4) - a.base
	if off == 0 || off >= a.size-1 {
		return 0, false
	}
	return off, true
}

// Allocate reserves a specific address; error if outside the range or taken.
func (a *ipAllocator) Allocate(ip net.IP) error {
	off, ok := a.offset(ip)
	if !ok {
		return fmt.Errorf("the provided IP (%s) is not in the valid range. The range of valid IPs is %s", ip, a.cidr)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.used[off] {
		return fmt.Errorf("the provided IP (%s) is already allocated", ip)
	}
	a.used[off] = true
	return nil
}

// AllocateNext reserves a free address.
func (a *ipAllocator) AllocateNext() (net.IP, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for i := uint32(0); i < a.size; i++ {
		off := (a.next-1+i)%(a.size-2) + 1
		if off == 1 {
			continue // reserved for the kubernetes Service
		}
		if !a.used[off] {
			a.used[off] = true
			a.next = off + 1
			return a.ip(off), nil
		}
	}
	return nil, fmt.Errorf("range is full")
}

// Release frees an address; unknown addresses are ignored.
func (a *ipAllocator) Release(ip net.IP) {
	if off, ok := a.offset(ip); ok {
		a.mu.Lock()
		delete(a.used, off)
		a.mu.Unlock()
	}
}

// portAllocator hands out NodePorts from an inclusive range.
type portAllocator struct {
	min, max int
	mu       sync.Mutex // guards the fields below
	used     map[int]bool
	next     int
}

func newPortAllocator(min, max int) *portAllocator {
	return &portAllocator{min: min, max: max, used: map[int]bool{}, next: min}
}

func (p *portAllocator) Allocate(port int) error {
	if port < p.min || port > p.max {
		return fmt.Errorf("provided port is not in the valid range. The range of valid ports is %d-%d", p.min, p.max)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.used[port] {
		return fmt.Errorf("provided port is already allocated")
	}
	p.used[port] = true
	return nil
}

func (p *portAllocator) AllocateNext() (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.max - p.min + 1
	start, _ := randInt(n)
	for i := 0; i < n; i++ {
		port := p.min + (start+i)%n
		if !p.used[port] {
			p.used[port] = true
			return port, nil
		}
	}
	return 0, fmt.Errorf("range is full")
}

func (p *portAllocator) Release(port int) {
	p.mu.Lock()
	delete(p.used, port)
	p.mu.Unlock()
}
