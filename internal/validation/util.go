package validation

import (
	"encoding/json"
	"fmt"
	"net"
	"reflect"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	genericvalidation "k8s.io/apimachinery/pkg/api/validation"
)

var genericValidateAnnotations = genericvalidation.ValidateAnnotations

// parseIPSloppy parses an IP address the way Kubernetes' legacy fields do,
// allowing leading zeros in IPv4 octets.
func parseIPSloppy(s string) net.IP {
	if ip := net.ParseIP(s); ip != nil {
		return ip
	}
	parts := strings.Split(s, ".")
	if len(parts) != 4 {
		return nil
	}
	for i, p := range parts {
		if p == "" || strings.Trim(p, "0123456789") != "" {
			return nil
		}
		p = strings.TrimLeft(p, "0")
		if p == "" {
			p = "0"
		}
		parts[i] = p
	}
	return net.ParseIP(strings.Join(parts, "."))
}

func isIPv6String(s string) bool {
	ip := parseIPSloppy(s)
	return ip != nil && ip.To4() == nil
}

// isDualStack reports whether the (valid) IPs include both families.
func isDualStack(ips []string) bool {
	v4, v6 := false, false
	for _, s := range ips {
		ip := parseIPSloppy(s)
		if ip == nil {
			continue
		}
		if ip.To4() != nil {
			v4 = true
		} else {
			v6 = true
		}
	}
	return v4 && v6
}

// isDualStackCIDRs is isDualStack for CIDR strings.
func isDualStackCIDRs(cidrs []string) bool {
	ips := make([]string, 0, len(cidrs))
	for _, c := range cidrs {
		ips = append(ips, strings.SplitN(c, "/", 2)[0])
	}
	return isDualStack(ips)
}

// maxDiffLines bounds the explanation attached to "may not change" errors.
const maxDiffLines = 20

// objectDiff describes how b differs from a, one changed field a line, with
// JSON field paths. It stands in for the cmp.Diff text kube-apiserver adds
// to some Forbidden errors.
func objectDiff(typeName string, a, b any) string {
	var lines []string
	diffValues("", reflect.ValueOf(a), reflect.ValueOf(b), &lines)
	var sb strings.Builder
	sb.WriteString("  " + typeName + "{\n")
	for i, l := range lines {
		if i == maxDiffLines {
			fmt.Fprintf(&sb, "  \t... // %d more differences\n", (len(lines)-maxDiffLines)/2)
			break
		}
		sb.WriteString(l)
		sb.WriteString("\n")
	}
	sb.WriteString("  }")
	return sb.String()
}

func diffValues(path string, a, b reflect.Value, lines *[]string) {
	if !a.IsValid() || !b.IsValid() {
		if a.IsValid() != b.IsValid() {
			appendLeaf(path, a, b, lines)
		}
		return
	}
	if apiequality.Semantic.DeepEqual(a.Interface(), b.Interface()) {
		return
	}
	switch a.Kind() {
	case reflect.Struct:
		if isLeafStruct(a.Type()) {
			appendLeaf(path, a, b, lines)
			return
		}
		t := a.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := jsonName(f)
			if name == "" {
				// Inlined struct: keep the parent path.
				diffValues(path, a.Field(i), b.Field(i), lines)
				continue
			}
			diffValues(joinPath(path, name), a.Field(i), b.Field(i), lines)
		}
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			appendLeaf(path, a, b, lines)
			return
		}
		diffValues(path, a.Elem(), b.Elem(), lines)
	case reflect.Slice:
		if a.Len() != b.Len() || a.IsNil() != b.IsNil() {
			appendLeaf(path, a, b, lines)
			return
		}
		for i := 0; i < a.Len(); i++ {
			diffValues(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), lines)
		}
	default:
		appendLeaf(path, a, b, lines)
	}
}

func isLeafStruct(t reflect.Type) bool {
	switch t.PkgPath() {
	case "k8s.io/apimachinery/pkg/api/resource", "k8s.io/apimachinery/pkg/util/intstr":
		return true
	case "k8s.io/apimachinery/pkg/apis/meta/v1":
		return t.Name() == "Time" || t.Name() == "MicroTime" || t.Name() == "Duration"
	}
	return false
}

func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	name := strings.Split(tag, ",")[0]
	if name == "" {
		if f.Anonymous {
			return ""
		}
		return f.Name
	}
	return name
}

func joinPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

func appendLeaf(path string, a, b reflect.Value, lines *[]string) {
	*lines = append(*lines, "- \t"+path+": "+render(a), "+ \t"+path+": "+render(b))
}

func render(v reflect.Value) string {
	if !v.IsValid() {
		return "null"
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.IsNil() {
		return "null"
	}
	if jb, err := json.Marshal(v.Interface()); err == nil {
		return string(jb)
	}
	return fmt.Sprintf("%#v", v.Interface())
}
