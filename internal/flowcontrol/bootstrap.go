package flowcontrol

import (
	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Well-known user and group names the bootstrap objects refer to (k8s.io/apiserver's authentication/user and serviceaccount).
const (
	groupSystemMasters          = "system:masters"
	groupNodes                  = "system:nodes"
	groupUnauthenticated        = "system:unauthenticated"
	groupAuthenticated          = "system:authenticated"
	groupServiceAccounts        = "system:serviceaccounts"
	userKubeControllerManager   = "system:kube-controller-manager"
	userKubeScheduler           = "system:kube-scheduler"
	namespaceKubeSystem         = metav1.NamespaceSystem
	coordinationGroupName       = "coordination.k8s.io"
	coreGroupName               = ""
	autoUpdateEnabled           = "true"
	exemptName                  = flowcontrolv1.PriorityLevelConfigurationNameExempt
	catchAllName                = flowcontrolv1.PriorityLevelConfigurationNameCatchAll
	suggestedGlobalDefaultLevel = "global-default"
)

// Bootstrap returns fresh copies of the configuration objects kube-apiserver creates: the mandatory ones, then the suggested ones.
func Bootstrap() (flowSchemas []*flowcontrolv1.FlowSchema, levels []*flowcontrolv1.PriorityLevelConfiguration) {
	mfs, mpl := Mandatory()
	sfs, spl := Suggested()
	return append(mfs, sfs...), append(mpl, spl...)
}

// Mandatory returns fresh copies of the objects the API server always restores: FlowSchemas exempt and catch-all, levels catch-all and exempt.
func Mandatory() (flowSchemas []*flowcontrolv1.FlowSchema, levels []*flowcontrolv1.PriorityLevelConfiguration) {
	levels = []*flowcontrolv1.PriorityLevelConfiguration{
		newLevel(catchAllName, limited(5, 0, nil)),
		newLevel(exemptName, flowcontrolv1.PriorityLevelConfigurationSpec{
			Type: flowcontrolv1.PriorityLevelEnablementExempt,
			Exempt: &flowcontrolv1.ExemptPriorityLevelConfiguration{
				NominalConcurrencyShares: ptr(int32(0)),
				LendablePercent:          ptr(int32(0)),
			},
		}),
	}
	flowSchemas = []*flowcontrolv1.FlowSchema{
		// "exempt" keeps sysadmin requests possible and prevents priority inversion.
		newFlowSchema(flowcontrolv1.FlowSchemaNameExempt, exemptName, 1, "",
			flowcontrolv1.PolicyRulesWithSubjects{
				Subjects:         groups(groupSystemMasters),
				ResourceRules:    []flowcontrolv1.ResourcePolicyRule{allResources()},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{allNonResources()},
			}),
		// "catch-all" gets a minimal share and is reached only if "global-default" was deleted.
		newFlowSchema(flowcontrolv1.FlowSchemaNameCatchAll, catchAllName, 10000, flowcontrolv1.FlowDistinguisherMethodByUserType,
			flowcontrolv1.PolicyRulesWithSubjects{
				Subjects:         groups(groupUnauthenticated, groupAuthenticated),
				ResourceRules:    []flowcontrolv1.ResourcePolicyRule{allResources()},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{allNonResources()},
			}),
	}
	return flowSchemas, levels
}

// Suggested returns fresh copies of the objects the API server creates once and keeps up to date while their autoupdate annotation is "true".
func Suggested() (flowSchemas []*flowcontrolv1.FlowSchema, levels []*flowcontrolv1.PriorityLevelConfiguration) {
	levels = []*flowcontrolv1.PriorityLevelConfiguration{
		newLevel("system", limited(30, 33, queuing(64, 6, 50))),
		newLevel("node-high", limited(40, 25, queuing(64, 6, 50))),
		newLevel("leader-election", limited(10, 0, queuing(16, 4, 50))),
		newLevel("workload-high", limited(40, 50, queuing(128, 6, 50))),
		newLevel("workload-low", limited(100, 90, queuing(128, 6, 50))),
		newLevel(suggestedGlobalDefaultLevel, limited(20, 50, queuing(128, 6, 50))),
	}
	everything := func(subjects []flowcontrolv1.Subject) flowcontrolv1.PolicyRulesWithSubjects {
		return flowcontrolv1.PolicyRulesWithSubjects{
			Subjects:         subjects,
			ResourceRules:    []flowcontrolv1.ResourcePolicyRule{allResources()},
			NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{allNonResources()},
		}
	}
	byUser, byNamespace := flowcontrolv1.FlowDistinguisherMethodByUserType, flowcontrolv1.FlowDistinguisherMethodByNamespaceType
	flowSchemas = []*flowcontrolv1.FlowSchema{
		newFlowSchema("system-nodes", "system", 500, byUser, everything(groups(groupNodes))),
		newFlowSchema("system-node-high", "node-high", 400, byUser, flowcontrolv1.PolicyRulesWithSubjects{
			Subjects: groups(groupNodes),
			ResourceRules: []flowcontrolv1.ResourcePolicyRule{
				resourceRule([]string{flowcontrolv1.VerbAll}, []string{coreGroupName}, []string{"nodes", "nodes/status"}, true),
				resourceRule([]string{flowcontrolv1.VerbAll}, []string{coordinationGroupName}, []string{"leases"}, false),
			},
		}),
		newFlowSchema("probes", exemptName, 2, "", flowcontrolv1.PolicyRulesWithSubjects{
			Subjects: groups(groupUnauthenticated, groupAuthenticated),
			NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{
				{Verbs: []string{"get"}, NonResourceURLs: []string{"/healthz", "/readyz", "/livez"}},
			},
		}),
		newFlowSchema("system-leader-election", "leader-election", 100, byUser, flowcontrolv1.PolicyRulesWithSubjects{
			Subjects: append(users(userKubeControllerManager, userKubeScheduler), kubeSystemServiceAccount(flowcontrolv1.NameAll)...),
			ResourceRules: []flowcontrolv1.ResourcePolicyRule{
				resourceRule([]string{"get", "create", "update"}, []string{coordinationGroupName}, []string{"leases"}, false),
			},
		}),
		newFlowSchema("kube-controller-manager", "workload-high", 800, byNamespace, everything(users(userKubeControllerManager))),
		newFlowSchema("kube-scheduler", "workload-high", 800, byNamespace, everything(users(userKubeScheduler))),
		newFlowSchema("kube-system-service-accounts", "workload-high", 900, byNamespace, everything(kubeSystemServiceAccount(flowcontrolv1.NameAll))),
		newFlowSchema("service-accounts", "workload-low", 9000, byUser, everything(groups(groupServiceAccounts))),
		newFlowSchema("global-default", suggestedGlobalDefaultLevel, 9900, byUser, everything(groups(groupUnauthenticated, groupAuthenticated))),
	}
	return flowSchemas, levels
}

// MandatoryFlowSchema returns a fresh copy of the mandatory FlowSchema called name, or nil if there is none.
func MandatoryFlowSchema(name string) *flowcontrolv1.FlowSchema {
	flowSchemas, _ := Mandatory()
	for _, fs := range flowSchemas {
		if fs.Name == name {
			return fs
		}
	}
	return nil
}

// MandatoryPriorityLevel returns a fresh copy of the mandatory PriorityLevelConfiguration called name, or nil if there is none.
func MandatoryPriorityLevel(name string) *flowcontrolv1.PriorityLevelConfiguration {
	_, levels := Mandatory()
	for _, pl := range levels {
		if pl.Name == name {
			return pl
		}
	}
	return nil
}

func newLevel(name string, spec flowcontrolv1.PriorityLevelConfigurationSpec) *flowcontrolv1.PriorityLevelConfiguration {
	return &flowcontrolv1.PriorityLevelConfiguration{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: autoUpdateEnabled},
		},
		Spec: spec,
	}
}

// limited is a Limited level's spec; a nil queuing means limitResponse type Reject.
func limited(shares, lendable int32, q *flowcontrolv1.QueuingConfiguration) flowcontrolv1.PriorityLevelConfigurationSpec {
	lr := flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}
	if q != nil {
		lr = flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeQueue, Queuing: q}
	}
	return flowcontrolv1.PriorityLevelConfigurationSpec{
		Type: flowcontrolv1.PriorityLevelEnablementLimited,
		Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
			NominalConcurrencyShares: ptr(shares),
			LendablePercent:          ptr(lendable),
			LimitResponse:            lr,
		},
	}
}

func queuing(queues, handSize, queueLengthLimit int32) *flowcontrolv1.QueuingConfiguration {
	return &flowcontrolv1.QueuingConfiguration{Queues: queues, HandSize: handSize, QueueLengthLimit: queueLengthLimit}
}

func newFlowSchema(name, level string, matchingPrecedence int32, dm flowcontrolv1.FlowDistinguisherMethodType, rules ...flowcontrolv1.PolicyRulesWithSubjects) *flowcontrolv1.FlowSchema {
	var method *flowcontrolv1.FlowDistinguisherMethod
	if dm != "" {
		method = &flowcontrolv1.FlowDistinguisherMethod{Type: dm}
	}
	return &flowcontrolv1.FlowSchema{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Annotations: map[string]string{flowcontrolv1.AutoUpdateAnnotationKey: autoUpdateEnabled},
		},
		Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: level},
			MatchingPrecedence:         matchingPrecedence,
			DistinguisherMethod:        method,
			Rules:                      rules,
		},
	}
}

func groups(names ...string) []flowcontrolv1.Subject {
	out := make([]flowcontrolv1.Subject, len(names))
	for i, name := range names {
		out[i] = flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindGroup, Group: &flowcontrolv1.GroupSubject{Name: name}}
	}
	return out
}

func users(names ...string) []flowcontrolv1.Subject {
	out := make([]flowcontrolv1.Subject, len(names))
	for i, name := range names {
		out[i] = flowcontrolv1.Subject{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: name}}
	}
	return out
}

func kubeSystemServiceAccount(names ...string) []flowcontrolv1.Subject {
	out := make([]flowcontrolv1.Subject, len(names))
	for i, name := range names {
		out[i] = flowcontrolv1.Subject{
			Kind:           flowcontrolv1.SubjectKindServiceAccount,
			ServiceAccount: &flowcontrolv1.ServiceAccountSubject{Name: name, Namespace: namespaceKubeSystem},
		}
	}
	return out
}

// allResources matches every verb on every resource, namespaced or not.
func allResources() flowcontrolv1.ResourcePolicyRule {
	return resourceRule([]string{flowcontrolv1.VerbAll}, []string{flowcontrolv1.APIGroupAll}, []string{flowcontrolv1.ResourceAll}, true)
}

// resourceRule matches the verbs on the resources in every namespace, and cluster-wide too when clusterScope.
func resourceRule(verbs, apiGroups, resources []string, clusterScope bool) flowcontrolv1.ResourcePolicyRule {
	return flowcontrolv1.ResourcePolicyRule{
		Verbs:        verbs,
		APIGroups:    apiGroups,
		Resources:    resources,
		Namespaces:   []string{flowcontrolv1.NamespaceEvery},
		ClusterScope: clusterScope,
	}
}

func allNonResources() flowcontrolv1.NonResourcePolicyRule {
	return flowcontrolv1.NonResourcePolicyRule{Verbs: []string{flowcontrolv1.VerbAll}, NonResourceURLs: []string{flowcontrolv1.NonResourceAll}}
}

func ptr[T any](v T) *T { return &v }
