package proxy

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"sigs.k8s.io/knftables"
)

// TableName is the nftables table (family ip) that skiff owns; no other table is touched.
const TableName = "skiff"

const (
	serviceMap     = "service-ips"
	noEndpointsMap = "no-endpoints"
	rejectChain    = "reject-chain"
	markMasqChain  = "mark-for-masquerade"
	// masqMark is the packet mark bit that asks nat-postrouting to masquerade (bit 14, as kube-proxy's).
	masqMark = "0x4000"
)

// baseChain is a chain attached to a netfilter hook, with the rules it always holds.
type baseChain struct {
	name     string
	typ      knftables.BaseChainType
	hook     knftables.BaseChainHook
	priority string // numeric: nft 1.0.6 rejects the "dstnat" keyword on the output hook
	rules    []string
}

var baseChains = []baseChain{
	{"nat-prerouting", knftables.NATType, knftables.PreroutingHook, "-100", []string{
		"ip daddr . meta l4proto . th dport vmap @" + serviceMap}},
	{"nat-output", knftables.NATType, knftables.OutputHook, "-100", []string{
		"ip daddr . meta l4proto . th dport vmap @" + serviceMap}},
	{"filter-input", knftables.FilterType, knftables.InputHook, "-1", []string{
		"ct state new ip daddr . meta l4proto . th dport vmap @" + noEndpointsMap}},
	{"filter-forward", knftables.FilterType, knftables.ForwardHook, "-1", []string{
		"ct state new ip daddr . meta l4proto . th dport vmap @" + noEndpointsMap}},
	{"filter-output", knftables.FilterType, knftables.OutputHook, "-1", []string{
		"ct state new ip daddr . meta l4proto . th dport vmap @" + noEndpointsMap}},
	// A connection an endpoint chain marked (hairpin: a pod reaching itself through its Service) is masqueraded.
	{"nat-postrouting", knftables.NATType, knftables.PostroutingHook, "100", []string{
		"mark and " + masqMark + " == 0 return",
		"mark set mark xor " + masqMark,
		"masquerade fully-random"}},
}

// fixedChains are the regular chains every table has, with their rules.
var fixedChains = []Chain{
	{Name: rejectChain, Rules: []string{"meta l4proto tcp reject with tcp reset", "reject"}},
	{Name: markMasqChain, Rules: []string{"mark set mark or " + masqMark}},
}

// Table is the per-service content of skiff's table (what the kernel holds, once the transactions written by
// Set and WriteAll have run), and the Service that owns each destination: the first to claim an address,
// protocol and port keeps it until it lets it go; a later claimant gets no element for it meanwhile.
type Table struct {
	services map[string]*ServiceRules
	owners   map[Dest]string
	// denied are the Services that were refused a destination; they are handed back by Set once any destination
	// is released, to be built again.
	denied map[string]bool
}

// NewTable returns an empty Table.
func NewTable() *Table {
	return &Table{services: map[string]*ServiceRules{}, owners: map[Dest]string{}, denied: map[string]bool{}}
}

// Len is the number of Services with rules.
func (t *Table) Len() int { return len(t.services) }

// Rules returns the rules recorded for a Service, or nil.
func (t *Table) Rules(key string) *ServiceRules { return t.services[key] }

// Set records rules (nil: none) as the Service key's and, if tx is not nil, writes to it the operations that turn
// the Service's previous rules into these, touching nothing else. Elements for destinations owned by another
// Service are left out. It returns the Services to build again because a destination they were refused was
// released.
func (t *Table) Set(tx *knftables.Transaction, key string, rules *ServiceRules) []string {
	old := t.services[key]
	delete(t.denied, key)
	if rules != nil {
		keep := func(es []Element) []Element {
			out := es[:0:0]
			for _, e := range es {
				if o, ok := t.owners[e.Dest]; ok && o != key {
					t.denied[key] = true
					continue
				}
				out = append(out, e)
			}
			return out
		}
		rules.Map, rules.Filter = keep(rules.Map), keep(rules.Filter)
	}
	if old != nil {
		for _, es := range [][]Element{old.Map, old.Filter} {
			for _, e := range es {
				if t.owners[e.Dest] == key {
					delete(t.owners, e.Dest)
				}
			}
		}
	}
	if rules != nil {
		for _, es := range [][]Element{rules.Map, rules.Filter} {
			for _, e := range es {
				t.owners[e.Dest] = key
			}
		}
		t.services[key] = rules
	} else {
		delete(t.services, key)
	}
	released := false
	if old != nil {
		for _, es := range [][]Element{old.Map, old.Filter} {
			for _, e := range es {
				if _, ok := t.owners[e.Dest]; !ok {
					released = true
				}
			}
		}
	}
	if tx != nil {
		Diff(tx, old, rules)
	}
	var retry []string
	if released {
		for k := range t.denied {
			retry = append(retry, k)
		}
		clear(t.denied)
		slices.Sort(retry)
	}
	return retry
}

// WriteAll writes to tx the whole table: it is created if missing, deleted, and built again with every Service's
// rules, all in one transaction, so the kernel never sees a half-written table.
func (t *Table) WriteAll(tx *knftables.Transaction) {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("skiff service proxy")})
	tx.Add(&knftables.Map{Name: serviceMap, Type: "ipv4_addr . inet_proto . inet_service : verdict"})
	tx.Add(&knftables.Map{Name: noEndpointsMap, Type: "ipv4_addr . inet_proto . inet_service : verdict"})
	for _, c := range fixedChains {
		tx.Add(&knftables.Chain{Name: c.Name})
		for _, r := range c.Rules {
			tx.Add(&knftables.Rule{Chain: c.Name, Rule: r})
		}
	}
	keys := make([]string, 0, len(t.services))
	for k := range t.services {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		Diff(tx, nil, t.services[k])
	}
	// Base chains last: they refer to the maps and, through them, to every chain.
	for _, b := range baseChains {
		typ, hook, prio := b.typ, b.hook, knftables.BaseChainPriority(b.priority)
		tx.Add(&knftables.Chain{Name: b.name, Type: &typ, Hook: &hook, Priority: &prio})
		for _, r := range b.rules {
			tx.Add(&knftables.Rule{Chain: b.name, Rule: r})
		}
	}
}

// Diff writes to tx the operations that turn one Service's rules old into new (either may be nil: none), and
// nothing for what is unchanged. The order keeps every reference valid inside the transaction: new sets and
// chains are created first; chains that change or go are flushed; map elements that go or change value are
// deleted; the rules of new and changed chains and the new elements are added; last the chains and sets that
// went are deleted. A set whose timeout changed cannot be altered in place: then the Service's old rules are all
// deleted and the new ones added.
func Diff(tx *knftables.Transaction, old, new *ServiceRules) {
	if old == nil {
		old = &ServiceRules{}
	}
	if new == nil {
		new = &ServiceRules{}
	}
	oldSets := make(map[string]int32, len(old.Sets))
	for _, s := range old.Sets {
		oldSets[s.Name] = s.Timeout
	}
	for _, s := range new.Sets {
		if t, ok := oldSets[s.Name]; ok && t != s.Timeout {
			Diff(tx, old, nil)
			Diff(tx, nil, new)
			return
		}
	}
	newSets := make(map[string]bool, len(new.Sets))
	for _, s := range new.Sets {
		newSets[s.Name] = true
		if _, ok := oldSets[s.Name]; !ok {
			tx.Add(&knftables.Set{Name: s.Name, Type: "ipv4_addr",
				Flags:   []knftables.SetFlag{knftables.DynamicFlag, knftables.TimeoutFlag},
				Timeout: knftables.PtrTo(time.Duration(s.Timeout) * time.Second)})
		}
	}
	oldChains := make(map[string][]string, len(old.Chains))
	for _, c := range old.Chains {
		oldChains[c.Name] = c.Rules
	}
	newChains := make(map[string]bool, len(new.Chains))
	for _, c := range new.Chains {
		newChains[c.Name] = true
		if _, ok := oldChains[c.Name]; !ok {
			tx.Add(&knftables.Chain{Name: c.Name})
		}
	}
	changed := map[string]bool{}
	for _, c := range new.Chains {
		if rules, ok := oldChains[c.Name]; ok && !slices.Equal(rules, c.Rules) {
			changed[c.Name] = true
			tx.Flush(&knftables.Chain{Name: c.Name})
		}
	}
	for _, c := range old.Chains {
		if !newChains[c.Name] {
			tx.Flush(&knftables.Chain{Name: c.Name})
		}
	}
	deleteElements(tx, serviceMap, old.Map, new.Map)
	deleteElements(tx, noEndpointsMap, old.Filter, new.Filter)
	for _, c := range new.Chains {
		if _, ok := oldChains[c.Name]; ok && !changed[c.Name] {
			continue
		}
		for _, r := range c.Rules {
			tx.Add(&knftables.Rule{Chain: c.Name, Rule: r})
		}
	}
	addElements(tx, serviceMap, old.Map, new.Map)
	addElements(tx, noEndpointsMap, old.Filter, new.Filter)
	for _, c := range old.Chains {
		if !newChains[c.Name] {
			tx.Delete(&knftables.Chain{Name: c.Name})
		}
	}
	for _, s := range old.Sets {
		if !newSets[s.Name] {
			tx.Delete(&knftables.Set{Name: s.Name})
		}
	}
}

// deleteElements deletes the elements of old whose destination is not in new or maps to another verdict (the
// kernel refuses to overwrite an element's value).
func deleteElements(tx *knftables.Transaction, m string, old, new []Element) {
	if len(old) == 0 {
		return
	}
	want := make(map[Dest]string, len(new))
	for _, e := range new {
		want[e.Dest] = e.Verdict
	}
	for _, e := range old {
		if v, ok := want[e.Dest]; !ok || v != e.Verdict {
			tx.Delete(&knftables.Element{Map: m, Key: destKey(e.Dest)})
		}
	}
}

// addElements adds the elements of new that old lacks or maps to another verdict.
func addElements(tx *knftables.Transaction, m string, old, new []Element) {
	have := make(map[Dest]string, len(old))
	for _, e := range old {
		have[e.Dest] = e.Verdict
	}
	for _, e := range new {
		if v, ok := have[e.Dest]; !ok || v != e.Verdict {
			tx.Add(&knftables.Element{Map: m, Key: destKey(e.Dest), Value: []string{e.Verdict}})
		}
	}
}

func destKey(d Dest) []string {
	return []string{d.IP, d.Proto, strconv.Itoa(int(d.Port))}
}

// Intact reports whether the kernel's table still looks as skiff wrote it, by listing one fixed chain (cheap
// whatever the table's size): false if the table is gone (e.g. `nft flush ruleset`) or was flushed.
func Intact(ctx context.Context, nft knftables.Interface) (bool, error) {
	rules, err := nft.ListRules(ctx, rejectChain)
	if knftables.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("list %s: %w", rejectChain, err)
	}
	return len(rules) == len(fixedChains[0].Rules), nil
}

// Cleanup deletes skiff's table (and so every rule the proxy wrote); it is not an error if it does not exist.
func Cleanup(ctx context.Context) error {
	nft, err := knftables.New(knftables.IPv4Family, TableName)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	return cleanup(ctx, nft)
}

func cleanup(ctx context.Context, nft knftables.Interface) error {
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("proxy: delete table: %w", err)
	}
	return nil
}
