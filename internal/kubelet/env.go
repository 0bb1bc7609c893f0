package kubelet

import (
	"fmt"
	"math"
	"net"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// envVar is one resolved variable.
type envVar struct{ Name, Value string }

// containerEnv resolves env and envFrom in Kubernetes' order: envFrom first, then env (later wins), with $(VAR)
// expansion of env values against what was defined before.
func (k *Kubelet) containerEnv(pod *corev1.Pod, c *corev1.Container, podIP string) ([]envVar, error) {
	var out []envVar
	index := map[string]int{}
	set := func(name, value string) {
		if i, ok := index[name]; ok {
			out[i].Value = value
			return
		}
		index[name] = len(out)
		out = append(out, envVar{name, value})
	}
	for _, ef := range c.EnvFrom {
		switch {
		case ef.ConfigMapRef != nil:
			cm, err := k.cmLister.ConfigMaps(pod.Namespace).Get(ef.ConfigMapRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && ef.ConfigMapRef.Optional != nil && *ef.ConfigMapRef.Optional {
					continue
				}
				return nil, fmt.Errorf("configmap %q not found", ef.ConfigMapRef.Name)
			}
			for _, key := range sortedKeys(cm.Data) {
				set(ef.Prefix+key, cm.Data[key])
			}
		case ef.SecretRef != nil:
			s, err := k.secLister.Secrets(pod.Namespace).Get(ef.SecretRef.Name)
			if err != nil {
				if apierrors.IsNotFound(err) && ef.SecretRef.Optional != nil && *ef.SecretRef.Optional {
					continue
				}
				return nil, fmt.Errorf("secret %q not found", ef.SecretRef.Name)
			}
			data := secretData(s)
			for _, key := range sortedKeys(data) {
				set(ef.Prefix+key, string(data[key]))
			}
		}
	}
	svcEnv := k.serviceEnv(pod)
	vars := func() map[string]string {
		m := map[string]string{}
		for _, e := range svcEnv {
			m[e.Name] = e.Value
		}
		for _, e := range out {
			m[e.Name] = e.Value
		}
		return m
	}
	for _, e := range c.Env {
		if e.ValueFrom == nil {
			set(e.Name, expand(e.Value, vars()))
			continue
		}
		v, skip, err := k.valueFrom(pod, c, e.ValueFrom, podIP)
		if err != nil {
			return nil, fmt.Errorf("env %s: %w", e.Name, err)
		}
		if !skip {
			set(e.Name, v)
		}
	}
	// The service variables the container did not define itself come last, as the kubelet adds them.
	for _, e := range svcEnv {
		if _, ok := index[e.Name]; !ok {
			set(e.Name, e.Value)
		}
	}
	return out, nil
}

// serviceEnv is the Docker-links style variables of the services a pod sees, as the kubelet's
// getServiceEnvVarMap/envvars.FromServices: the `kubernetes` service of the default namespace always, and with
// enableServiceLinks (the default) every service of the pod's namespace that has a cluster IP.
func (k *Kubelet) serviceEnv(pod *corev1.Pod) []envVar {
	if k.svcLister == nil {
		return nil
	}
	links := pod.Spec.EnableServiceLinks == nil || *pod.Spec.EnableServiceLinks
	byName := map[string]*corev1.Service{}
	if links {
		svcs, _ := k.svcLister.Services(pod.Namespace).List(labels.Everything())
		for _, s := range svcs {
			byName[s.Name] = s
		}
	}
	if _, ok := byName["kubernetes"]; !ok {
		if s, err := k.svcLister.Services(metav1.NamespaceDefault).Get("kubernetes"); err == nil {
			byName["kubernetes"] = s
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	var out []envVar
	for _, n := range names {
		out = append(out, serviceVars(byName[n])...)
	}
	return out
}

// serviceVars is envvars.FromServices for one service: NAME_SERVICE_HOST, NAME_SERVICE_PORT(_PORTNAME), NAME_PORT and
// NAME_PORT_<port>_<PROTO>(_PROTO|_PORT|_ADDR); none for a service without a cluster IP.
func serviceVars(s *corev1.Service) []envVar {
	ip := s.Spec.ClusterIP
	if ip == "" || ip == corev1.ClusterIPNone || len(s.Spec.Ports) == 0 {
		return nil
	}
	prefix := strings.ToUpper(strings.ReplaceAll(s.Name, "-", "_"))
	out := []envVar{
		{prefix + "_SERVICE_HOST", ip},
		{prefix + "_SERVICE_PORT", strconv.Itoa(int(s.Spec.Ports[0].Port))},
	}
	for _, sp := range s.Spec.Ports {
		if sp.Name != "" {
			out = append(out, envVar{prefix + "_SERVICE_PORT_" + strings.ToUpper(strings.ReplaceAll(sp.Name, "-", "_")), strconv.Itoa(int(sp.Port))})
		}
	}
	for i, sp := range s.Spec.Ports {
		proto := string(corev1.ProtocolTCP)
		if sp.Protocol != "" {
			proto = string(sp.Protocol)
		}
		url := strings.ToLower(proto) + "://" + net.JoinHostPort(ip, strconv.Itoa(int(sp.Port)))
		if i == 0 {
			out = append(out, envVar{prefix + "_PORT", url})
		}
		pp := fmt.Sprintf("%s_PORT_%d_%s", prefix, sp.Port, strings.ToUpper(proto))
		out = append(out,
			envVar{pp, url},
			envVar{pp + "_PROTO", strings.ToLower(proto)},
			envVar{pp + "_PORT", strconv.Itoa(int(sp.Port))},
			envVar{pp + "_ADDR", ip})
	}
	return out
}

func (k *Kubelet) valueFrom(pod *corev1.Pod, c *corev1.Container, src *corev1.EnvVarSource, podIP string) (string, bool, error) {
	switch {
	case src.FieldRef != nil:
		v, err := k.fieldRef(pod, src.FieldRef.FieldPath, podIP)
		return v, false, err
	case src.ResourceFieldRef != nil:
		v, err := k.resourceFieldRef(pod, c, src.ResourceFieldRef)
		return v, false, err
	case src.ConfigMapKeyRef != nil:
		r := src.ConfigMapKeyRef
		optional := r.Optional != nil && *r.Optional
		cm, err := k.cmLister.ConfigMaps(pod.Namespace).Get(r.Name)
		if err != nil {
			if optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("configmap %q not found", r.Name)
		}
		v, ok := cm.Data[r.Key]
		if !ok {
			if b, ok2 := cm.BinaryData[r.Key]; ok2 {
				return string(b), false, nil
			}
			if optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in ConfigMap %s/%s", r.Key, pod.Namespace, r.Name)
		}
		return v, false, nil
	case src.SecretKeyRef != nil:
		r := src.SecretKeyRef
		optional := r.Optional != nil && *r.Optional
		s, err := k.secLister.Secrets(pod.Namespace).Get(r.Name)
		if err != nil {
			if optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("secret %q not found", r.Name)
		}
		v, ok := secretData(s)[r.Key]
		if !ok {
			if optional {
				return "", true, nil
			}
			return "", false, fmt.Errorf("couldn't find key %s in Secret %s/%s", r.Key, pod.Namespace, r.Name)
		}
		return string(v), false, nil
	}
	return "", true, nil
}

// fieldRef resolves the downward API fields.
func (k *Kubelet) fieldRef(pod *corev1.Pod, path, podIP string) (string, error) {
	if p, ok := strings.CutPrefix(path, "metadata.labels['"); ok {
		return pod.Labels[strings.TrimSuffix(p, "']")], nil
	}
	if p, ok := strings.CutPrefix(path, "metadata.annotations['"); ok {
		return pod.Annotations[strings.TrimSuffix(p, "']")], nil
	}
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "metadata.labels":
		return formatMap(pod.Labels), nil
	case "metadata.annotations":
		return formatMap(pod.Annotations), nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "status.hostIP", "status.hostIPs":
		return k.cfg.Address, nil
	case "status.podIP", "status.podIPs":
		if pod.Spec.HostNetwork {
			return k.cfg.Address, nil
		}
		return podIP, nil
	}
	return "", fmt.Errorf("unsupported fieldPath %q", path)
}

func formatMap(m map[string]string) string {
	var lines []string
	for _, key := range sortedKeys(m) {
		lines = append(lines, fmt.Sprintf("%s=%q", key, m[key]))
	}
	return strings.Join(lines, "\n")
}

// resourceFieldRef resolves limits/requests; an unset limit is the node's allocatable.
func (k *Kubelet) resourceFieldRef(pod *corev1.Pod, c *corev1.Container, r *corev1.ResourceFieldSelector) (string, error) {
	if r.ContainerName != "" {
		if s := findSpec(pod, r.ContainerName); s != nil {
			c = s
		}
	}
	divisor := r.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	var q resource.Quantity
	var ok bool
	alloc := func(name corev1.ResourceName) resource.Quantity {
		if k.node != nil {
			if v, ok := k.node.Status.Allocatable[name]; ok {
				return v
			}
		}
		return resource.Quantity{}
	}
	switch r.Resource {
	case "limits.cpu":
		if q, ok = c.Resources.Limits[corev1.ResourceCPU]; !ok {
			q = alloc(corev1.ResourceCPU)
		}
	case "limits.memory":
		if q, ok = c.Resources.Limits[corev1.ResourceMemory]; !ok {
			q = alloc(corev1.ResourceMemory)
		}
	case "limits.ephemeral-storage":
		if q, ok = c.Resources.Limits[corev1.ResourceEphemeralStorage]; !ok {
			q = alloc(corev1.ResourceEphemeralStorage)
		}
	case "requests.cpu":
		q = c.Resources.Requests[corev1.ResourceCPU]
	case "requests.memory":
		q = c.Resources.Requests[corev1.ResourceMemory]
	case "requests.ephemeral-storage":
		q = c.Resources.Requests[corev1.ResourceEphemeralStorage]
	default:
		return "", fmt.Errorf("unsupported resource %q", r.Resource)
	}
	if strings.HasSuffix(r.Resource, "cpu") {
		v := int64(math.Ceil(float64(q.MilliValue()) / float64(divisor.MilliValue())))
		return strconv.FormatInt(v, 10), nil
	}
	v := int64(math.Ceil(float64(q.Value()) / float64(divisor.Value())))
	return strconv.FormatInt(v, 10), nil
}

// expand replaces $(VAR) with vars[VAR] as Kubernetes does: $$ escapes, unknown references stay as written.
func expand(s string, vars map[string]string) string {
	return expandFunc(s, func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
}

// expandFunc is expand with a lookup: a reference whose lookup says false stays as written.
func expandFunc(s string, lookup func(string) (string, bool)) string {
	if !strings.Contains(s, "$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		switch s[i+1] {
		case '$':
			b.WriteByte('$')
			i++
		case '(':
			end := strings.IndexByte(s[i+2:], ')')
			if end < 0 {
				b.WriteString(s[i:])
				return b.String()
			}
			name := s[i+2 : i+2+end]
			if v, ok := lookup(name); ok {
				b.WriteString(v)
			} else {
				b.WriteString("$(" + name + ")")
			}
			i += 2 + end
		default:
			b.WriteByte('$')
		}
	}
	return b.String()
}

func expandAll(in []string, vars map[string]string) []string {
	if in == nil {
		return nil
	}
	out := make([]string, len(in))
	for i, s := range in {
		out[i] = expand(s, vars)
	}
	return out
}

// secretData is the secret's data, with stringData merged in should the API have stored it unconverted.
func secretData(s *corev1.Secret) map[string][]byte {
	if len(s.StringData) == 0 {
		return s.Data
	}
	out := make(map[string][]byte, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		out[k] = v
	}
	for k, v := range s.StringData {
		out[k] = []byte(v)
	}
	return out
}
