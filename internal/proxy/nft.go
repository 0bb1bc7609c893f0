package proxy

import (
	"context"
	"fmt"
	"strconv"

	"sigs.k8s.io/knftables"
)

// TableName is the nftables table (family ip) that skiff owns; no other table is touched.
const TableName = "skiff"

const (
	serviceMap     = "service-ips"
	noEndpointsMap = "no-endpoints"
	rejectChain    = "reject-chain"
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
	// nat-postrouting's hairpin rules come from the Ruleset.
	{"nat-postrouting", knftables.NATType, knftables.PostroutingHook, "100", nil},
}

// transaction writes rs as the whole content of the table: the table is created (if missing) and deleted, then
// built again, all in one nft transaction.
func transaction(tx *knftables.Transaction, rs *Ruleset) {
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	tx.Add(&knftables.Table{Comment: knftables.PtrTo("skiff service proxy")})
	tx.Add(&knftables.Map{Name: serviceMap, Type: "ipv4_addr . inet_proto . inet_service : verdict"})
	tx.Add(&knftables.Map{Name: noEndpointsMap, Type: "ipv4_addr . inet_proto . inet_service : verdict"})
	tx.Add(&knftables.Chain{Name: rejectChain})
	tx.Add(&knftables.Rule{Chain: rejectChain, Rule: "meta l4proto tcp reject with tcp reset"})
	tx.Add(&knftables.Rule{Chain: rejectChain, Rule: "reject"})
	// Regular chains first: the vmaps and base chains refer to them.
	for _, c := range rs.Chains {
		tx.Add(&knftables.Chain{Name: c.Name})
		for _, r := range c.Rules {
			tx.Add(&knftables.Rule{Chain: c.Name, Rule: r})
		}
	}
	for _, e := range rs.Services {
		tx.Add(&knftables.Element{Map: serviceMap, Key: destKey(e.Dest), Value: []string{"goto " + e.Chain}})
	}
	for _, d := range rs.NoEndpoints {
		tx.Add(&knftables.Element{Map: noEndpointsMap, Key: destKey(d), Value: []string{"goto " + rejectChain}})
	}
	for _, b := range baseChains {
		typ, hook, prio := b.typ, b.hook, knftables.BaseChainPriority(b.priority)
		tx.Add(&knftables.Chain{Name: b.name, Type: &typ, Hook: &hook, Priority: &prio})
		for _, r := range b.rules {
			tx.Add(&knftables.Rule{Chain: b.name, Rule: r})
		}
	}
	for _, ip := range rs.Hairpin {
		tx.Add(&knftables.Rule{Chain: "nat-postrouting", Rule: fmt.Sprintf("ct status dnat ip saddr %s ip daddr %s masquerade", ip, ip)})
	}
}

func destKey(d Dest) []string {
	return []string{d.IP, d.Proto, strconv.Itoa(int(d.Port))}
}

// Apply writes rs as the whole content of skiff's table.
func Apply(ctx context.Context, nft knftables.Interface, rs *Ruleset) error {
	tx := nft.NewTransaction()
	transaction(tx, rs)
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("proxy: nft: %w", err)
	}
	return nil
}

// Cleanup deletes skiff's table (and so every rule the proxy wrote); it is not an error if it does not exist.
func Cleanup(ctx context.Context) error {
	nft, err := knftables.New(knftables.IPv4Family, TableName)
	if err != nil {
		return fmt.Errorf("proxy: %w", err)
	}
	tx := nft.NewTransaction()
	tx.Add(&knftables.Table{})
	tx.Delete(&knftables.Table{})
	if err := nft.Run(ctx, tx); err != nil {
		return fmt.Errorf("proxy: delete table: %w", err)
	}
	return nil
}
