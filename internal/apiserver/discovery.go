package apiserver

import (
	"encoding/json"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	apidiscoveryv2 "k8s.io/api/apidiscovery/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/version"
)

// discoveryDocs are the discovery documents, built once from the resource list.
type discoveryDocs struct {
	// aggregated documents for /api and /apis
	aggCore, aggGroups []byte
	// legacy documents
	apiVersions []byte
	groupList   []byte
	groups      map[string][]byte // /apis/<g>
	resources   map[string][]byte // /api/v1, /apis/<g>/<v>
}

type subresourceInfo struct {
	name  string
	gvk   schema.GroupVersionKind
	verbs []string
}

// subresourcesOf lists what skiff serves under a resource.
func (s *APIServer) subresourcesOf(r *resource) []subresourceInfo {
	var out []subresourceInfo
	if r.Status {
		out = append(out, subresourceInfo{"status", r.GVK(), []string{"get", "patch", "update"}})
	}
	if r.Scale {
		out = append(out, subresourceInfo{"scale", schema.GroupVersionKind{Group: "autoscaling", Version: "v1", Kind: "Scale"}, []string{"get", "patch", "update"}})
	}
	switch {
	case r.Kind == "Pod":
		out = append(out,
			subresourceInfo{"binding", schema.GroupVersionKind{Version: "v1", Kind: "Binding"}, []string{"create"}},
			subresourceInfo{"eviction", schema.GroupVersionKind{Group: "policy", Version: "v1", Kind: "Eviction"}, []string{"create"}},
			subresourceInfo{subEphemeral, r.GVK(), []string{"get", "patch", "update"}})
		out = append(out, s.extraPodSubresources...)
	case r.Kind == "Namespace":
		out = append(out, subresourceInfo{"finalize", r.GVK(), []string{"update"}})
	case r.Kind == "CertificateSigningRequest" && r.GVR.Group == "certificates.k8s.io":
		out = append(out, subresourceInfo{"approval", r.GVK(), []string{"get", "patch", "update"}})
	}
	if r.GVR.Group == "" {
		out = append(out, s.extraCoreSubresources[r.Kind]...)
	}
	return out
}

func (s *APIServer) buildDiscovery() *discoveryDocs {
	d := &discoveryDocs{groups: map[string][]byte{}, resources: map[string][]byte{}}
	type gvKey struct{ g, v string }
	var order []gvKey
	byGV := map[gvKey][]*resource{}
	for _, r := range slices.Concat(s.resources, s.crResources().list) {
		k := gvKey{r.GVR.Group, r.GVR.Version}
		if _, ok := byGV[k]; !ok {
			order = append(order, k)
		}
		byGV[k] = append(byGV[k], r)
	}
	for _, e := range s.extraGroups {
		k := gvKey{e.Group, e.Version}
		order = append(order, k)
	}

	// Aggregated discovery.
	aggFor := func(k gvKey) apidiscoveryv2.APIVersionDiscovery {
		v := apidiscoveryv2.APIVersionDiscovery{Version: k.v, Freshness: apidiscoveryv2.DiscoveryFreshnessCurrent}
		for _, r := range byGV[k] {
			scope := apidiscoveryv2.ScopeCluster
			if r.Namespaced {
				scope = apidiscoveryv2.ScopeNamespace
			}
			gvk := r.GVK()
			rd := apidiscoveryv2.APIResourceDiscovery{
				Resource:         r.GVR.Resource,
				ResponseKind:     &metav1.GroupVersionKind{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind},
				Scope:            scope,
				SingularResource: r.Singular,
				Verbs:            r.VerbList(),
				ShortNames:       r.ShortNames,
				Categories:       r.Categories,
			}
			for _, sr := range s.subresourcesOf(r) {
				rd.Subresources = append(rd.Subresources, apidiscoveryv2.APISubresourceDiscovery{
					Subresource:  sr.name,
					ResponseKind: &metav1.GroupVersionKind{Group: sr.gvk.Group, Version: sr.gvk.Version, Kind: sr.gvk.Kind},
					Verbs:        sr.verbs,
				})
			}
			v.Resources = append(v.Resources, rd)
		}
		for _, e := range s.extraGroups {
			if e.Group == k.g && e.Version == k.v {
				v.Resources = append(v.Resources, e.Aggregated...)
			}
		}
		sort.Slice(v.Resources, func(i, j int) bool { return v.Resources[i].Resource < v.Resources[j].Resource })
		return v
	}
	core := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: metav1.TypeMeta{APIVersion: "apidiscovery.k8s.io/v2", Kind: "APIGroupDiscoveryList"}}
	groups := apidiscoveryv2.APIGroupDiscoveryList{TypeMeta: core.TypeMeta}
	groupIndex := map[string]int{}
	legacyGroups := metav1.APIGroupList{TypeMeta: metav1.TypeMeta{Kind: "APIGroupList", APIVersion: "v1"}}
	for _, k := range order {
		if k.g == "" {
			core.Items = append(core.Items, apidiscoveryv2.APIGroupDiscovery{Versions: []apidiscoveryv2.APIVersionDiscovery{aggFor(k)}})
			continue
		}
		i, ok := groupIndex[k.g]
		if !ok {
			i = len(groups.Items)
			groupIndex[k.g] = i
			groups.Items = append(groups.Items, apidiscoveryv2.APIGroupDiscovery{ObjectMeta: metav1.ObjectMeta{Name: k.g}})
			legacyGroups.Groups = append(legacyGroups.Groups, metav1.APIGroup{Name: k.g})
		}
		groups.Items[i].Versions = append(groups.Items[i].Versions, aggFor(k))
		gvd := metav1.GroupVersionForDiscovery{GroupVersion: k.g + "/" + k.v, Version: k.v}
		lg := &legacyGroups.Groups[i]
		lg.Versions = append(lg.Versions, gvd)
		if lg.PreferredVersion.Version == "" {
			lg.PreferredVersion = gvd
		}
	}
	d.aggCore, _ = json.Marshal(core)
	d.aggGroups, _ = json.Marshal(groups)
	d.apiVersions, _ = json.Marshal(metav1.APIVersions{TypeMeta: metav1.TypeMeta{Kind: "APIVersions"}, Versions: []string{"v1"},
		ServerAddressByClientCIDRs: []metav1.ServerAddressByClientCIDR{{ClientCIDR: "0.0.0.0/0", ServerAddress: s.serverAddress()}}})
	d.groupList, _ = json.Marshal(legacyGroups)
	for _, g := range legacyGroups.Groups {
		g := g
		g.TypeMeta = metav1.TypeMeta{Kind: "APIGroup", APIVersion: "v1"}
		d.groups[g.Name], _ = json.Marshal(g)
	}

	// Legacy per-version resource lists.
	for _, k := range order {
		gv := schema.GroupVersion{Group: k.g, Version: k.v}
		list := metav1.APIResourceList{TypeMeta: metav1.TypeMeta{Kind: "APIResourceList", APIVersion: "v1"}, GroupVersion: gv.String()}
		for _, r := range byGV[k] {
			list.APIResources = append(list.APIResources, metav1.APIResource{
				Name: r.GVR.Resource, SingularName: r.Singular, Namespaced: r.Namespaced, Kind: r.Kind,
				Verbs: r.VerbList(), ShortNames: r.ShortNames, Categories: r.Categories,
			})
			for _, sr := range s.subresourcesOf(r) {
				ar := metav1.APIResource{Name: r.GVR.Resource + "/" + sr.name, Namespaced: r.Namespaced, Kind: sr.gvk.Kind, Verbs: sr.verbs}
				if sr.gvk.GroupVersion() != gv {
					ar.Group, ar.Version = sr.gvk.Group, sr.gvk.Version
				}
				list.APIResources = append(list.APIResources, ar)
			}
		}
		for _, e := range s.extraGroups {
			if e.Group == k.g && e.Version == k.v {
				list.APIResources = append(list.APIResources, e.Legacy...)
			}
		}
		path := "/apis/" + gv.String()
		if k.g == "" {
			path = "/api/" + k.v
			list.APIResources = append(list.APIResources, metav1.APIResource{Name: "bindings", Namespaced: true, Kind: "Binding", Verbs: []string{"create"}})
		}
		d.resources[path], _ = json.Marshal(list)
	}
	return d
}

// extraGroup is an API group served by another handler (metrics.k8s.io), listed in discovery.
type extraGroup struct {
	Group, Version string
	Aggregated     []apidiscoveryv2.APIResourceDiscovery
	Legacy         []metav1.APIResource
}

func (s *APIServer) serverAddress() string {
	if s.cfg.AdvertiseAddress != nil && s.cfg.SecurePort != 0 {
		return strings.TrimSpace(s.cfg.AdvertiseAddress.String()) + ":" + itoa(s.cfg.SecurePort)
	}
	return ""
}

// docs returns the discovery documents, built on first use after a change of the served resources.
func (s *APIServer) docs() *discoveryDocs {
	if d := s.discovery.Load(); d != nil {
		return d
	}
	s.discoveryMu.Lock()
	defer s.discoveryMu.Unlock()
	if d := s.discovery.Load(); d != nil {
		return d
	}
	d := s.buildDiscovery()
	s.discovery.Store(d)
	return d
}

// invalidateDiscovery makes the next request rebuild the discovery documents (the custom resources changed).
func (s *APIServer) invalidateDiscovery() {
	s.discoveryMu.Lock()
	defer s.discoveryMu.Unlock()
	s.discovery.Store(nil)
}

// wantsAggregated reports whether Accept asks for apidiscovery.k8s.io/v2 (or v2beta1) APIGroupDiscoveryList first.
func wantsAggregated(r *http.Request) (string, bool) {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(part))
		if err != nil {
			continue
		}
		if (mt == mediaJSON || mt == mediaProtobuf) && params["g"] == "apidiscovery.k8s.io" && params["as"] == "APIGroupDiscoveryList" && mt == mediaJSON {
			if params["v"] == "v2" || params["v"] == "v2beta1" {
				return params["v"], true
			}
		}
		if mt == mediaJSON || mt == "*/*" {
			return "", false
		}
	}
	return "", false
}

func (s *APIServer) writeRaw(w http.ResponseWriter, r *http.Request, ct string, data []byte) {
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Length", itoa(len(data)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(data)
	}
}

func (s *APIServer) serveAPIRoot(w http.ResponseWriter, r *http.Request) {
	d := s.docs()
	if v, ok := wantsAggregated(r); ok {
		data := d.aggCore
		if v == "v2beta1" {
			data = []byte(strings.Replace(string(data), `"apidiscovery.k8s.io/v2"`, `"apidiscovery.k8s.io/v2beta1"`, 1))
		}
		s.writeRaw(w, r, "application/json;g=apidiscovery.k8s.io;v="+v+";as=APIGroupDiscoveryList", data)
		return
	}
	s.writeRaw(w, r, mediaJSON, d.apiVersions)
}

func (s *APIServer) serveAPIsRoot(w http.ResponseWriter, r *http.Request) {
	d := s.docs()
	if v, ok := wantsAggregated(r); ok {
		data := d.aggGroups
		if v == "v2beta1" {
			data = []byte(strings.Replace(string(data), `"apidiscovery.k8s.io/v2"`, `"apidiscovery.k8s.io/v2beta1"`, 1))
		}
		s.writeRaw(w, r, "application/json;g=apidiscovery.k8s.io;v="+v+";as=APIGroupDiscoveryList", data)
		return
	}
	s.writeRaw(w, r, mediaJSON, d.groupList)
}

// serveGroupVersion answers /api/v1, /apis/<g>/<v> and /apis/<g>.
func (s *APIServer) serveGroupVersion(w http.ResponseWriter, r *http.Request, ri requestInfo) {
	d := s.docs()
	if data, ok := d.resources[ri.Prefix]; ok {
		s.writeRaw(w, r, mediaJSON, data)
		return
	}
	s.writeError(w, r, notFoundPath(), schema.GroupResource{}, "")
}

// serveGroup answers /apis/<g>.
func (s *APIServer) serveGroup(w http.ResponseWriter, r *http.Request, group string) bool {
	if data, ok := s.docs().groups[group]; ok {
		s.writeRaw(w, r, mediaJSON, data)
		return true
	}
	return false
}

func (s *APIServer) serveVersion(w http.ResponseWriter, r *http.Request) {
	info := version.Info{
		Major: "1", Minor: "32", GitVersion: s.cfg.GitVersion, GitCommit: gitCommit, GitTreeState: "clean",
		BuildDate: buildDate, GoVersion: goVersion(), Compiler: "gc", Platform: platform(),
	}
	data, _ := json.Marshal(info)
	s.writeRaw(w, r, mediaJSON, data)
}
