package apiserver

import (
	"net/http"
	"strings"
)

// requestInfo is what the URL path and method of a resource request say.
type requestInfo struct {
	// IsResource is false for non-resource paths (/version, /healthz, discovery roots).
	IsResource  bool
	Group       string
	Version     string
	Namespace   string
	Resource    string
	Name        string
	Subresource string
	// Verb is get, list, watch, create, update, patch, delete or deletecollection.
	Verb string
	// Path is the group-version prefix (/api/v1 or /apis/G/V).
	Prefix string
	// Parts holds path segments after the group-version prefix.
	Parts []string
}

// parseRequestInfo splits a /api or /apis path. ok is false for paths that are not under a group-version.
func parseRequestInfo(r *http.Request) (ri requestInfo, ok bool) {
	p := strings.Trim(r.URL.Path, "/")
	segs := strings.Split(p, "/")
	switch {
	case len(segs) >= 2 && segs[0] == "api":
		ri.Version = segs[1]
		ri.Prefix = "/api/" + segs[1]
		segs = segs[2:]
	case len(segs) >= 3 && segs[0] == "apis":
		ri.Group, ri.Version = segs[1], segs[2]
		ri.Prefix = "/apis/" + segs[1] + "/" + segs[2]
		segs = segs[3:]
	default:
		return ri, false
	}
	ri.Parts = segs
	if len(segs) == 0 || segs[0] == "" {
		return ri, true
	}
	ri.IsResource = true
	// namespaces/{ns}/{resource}... but namespaces/{ns} alone is the namespace object.
	if segs[0] == "namespaces" && len(segs) >= 3 {
		ri.Namespace = segs[1]
		segs = segs[2:]
		// namespaces/{ns}/status and /finalize are subresources of the namespace itself.
		if segs[0] == "status" || segs[0] == "finalize" {
			if len(segs) == 1 {
				ri.Resource, ri.Name, ri.Subresource, ri.Namespace = "namespaces", ri.Namespace, segs[0], ""
				ri.Verb = verbFor(r, true)
				return ri, true
			}
		}
	}
	ri.Resource = segs[0]
	if len(segs) >= 2 {
		ri.Name = segs[1]
	}
	if len(segs) >= 3 {
		ri.Subresource = strings.Join(segs[2:], "/")
	}
	ri.Verb = verbFor(r, ri.Name != "")
	return ri, true
}

func verbFor(r *http.Request, named bool) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		if isWatch(r) {
			return "watch"
		}
		if named {
			return "get"
		}
		return "list"
	case http.MethodPost:
		return "create"
	case http.MethodPut:
		return "update"
	case http.MethodPatch:
		return "patch"
	case http.MethodDelete:
		if named {
			return "delete"
		}
		return "deletecollection"
	}
	return ""
}

func isWatch(r *http.Request) bool {
	w := r.URL.Query().Get("watch")
	return w == "true" || w == "1"
}
