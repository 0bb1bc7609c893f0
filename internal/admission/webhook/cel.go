package webhook

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/ext"
	"github.com/google/cel-go/interpreter"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilerrors "k8s.io/apimachinery/pkg/util/errors"
)

// Cost limits, as upstream's k8s.io/apiserver/pkg/apis/cel.
const (
	perCallCostLimit          = 1000000 // PerCallLimit: one expression's evaluation
	matchConditionsCostBudget = 2500000 // RuntimeCELCostBudgetMatchConditions: all of one webhook's conditions
	interruptCheckFrequency   = 100     // CheckFrequency: comprehension iterations between cancellation checks
	maxCachedConditions       = 4096    // compiled expressions kept by a Dispatcher before the cache is reset
)

// celEnv is the matchConditions environment: object, oldObject and request, with upstream's base options and the
// cel-go extension libraries it enables (Kubernetes' own libraries such as quantity() or url() are not available).
var celEnv = sync.OnceValues(func() (*cel.Env, error) {
	reg, err := types.NewRegistry()
	if err != nil {
		return nil, fmt.Errorf("type registry: %w", err)
	}
	return cel.NewEnv(
		cel.Variable("object", cel.DynType),
		cel.Variable("oldObject", cel.DynType),
		cel.CustomTypeProvider(&requestTypes{Registry: reg}),
		cel.Variable("request", requestType),
		cel.HomogeneousAggregateLiterals(),
		cel.EagerlyValidateDeclarations(true),
		cel.DefaultUTCTimeZone(true),
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		cel.ASTValidators(cel.ValidateDurationLiterals(), cel.ValidateTimestampLiterals(), cel.ValidateRegexLiterals(),
			cel.ValidateHomogeneousAggregateLiterals()),
		ext.Strings(ext.StringsVersion(2)),
		ext.Sets(),
		ext.TwoVarComprehensions(),
		ext.Lists(ext.ListsVersion(3)),
	)
})

// The request variable's types, as upstream's BuildRequestType: fields are typed (request.dryRun is a bool), values
// are the maps that requestMap builds.
var (
	gvkType      = types.NewObjectType("kubernetes.GroupVersionKind")
	gvrType      = types.NewObjectType("kubernetes.GroupVersionResource")
	userInfoType = types.NewObjectType("kubernetes.UserInfo")
	requestType  = types.NewObjectType("kubernetes.AdmissionRequest")

	requestFields = map[string]map[string]*types.Type{
		gvkType.TypeName(): {"group": types.StringType, "version": types.StringType, "kind": types.StringType},
		gvrType.TypeName(): {"group": types.StringType, "version": types.StringType, "resource": types.StringType},
		userInfoType.TypeName(): {"username": types.StringType, "uid": types.StringType,
			"groups": types.NewListType(types.StringType), "extra": types.NewMapType(types.StringType, types.NewListType(types.StringType))},
		requestType.TypeName(): {"kind": gvkType, "resource": gvrType, "subResource": types.StringType, "requestKind": gvkType,
			"requestResource": gvrType, "requestSubResource": types.StringType, "name": types.StringType,
			"namespace": types.StringType, "operation": types.StringType, "userInfo": userInfoType, "dryRun": types.BoolType,
			"options": types.DynType},
	}
)

// requestTypes adds the request's object types, backed by map[string]any values, to a cel-go registry.
type requestTypes struct {
	*types.Registry
}

// FindStructType implements types.Provider.
func (p *requestTypes) FindStructType(name string) (*types.Type, bool) {
	if _, ok := requestFields[name]; ok {
		return types.NewTypeTypeWithParam(types.NewObjectType(name)), true
	}
	return p.Registry.FindStructType(name)
}

// FindStructFieldNames implements types.Provider.
func (p *requestTypes) FindStructFieldNames(name string) ([]string, bool) {
	if fs, ok := requestFields[name]; ok {
		names := make([]string, 0, len(fs))
		for n := range fs {
			names = append(names, n)
		}
		return names, true
	}
	return p.Registry.FindStructFieldNames(name)
}

// FindStructFieldType implements types.Provider.
func (p *requestTypes) FindStructFieldType(name, field string) (*types.FieldType, bool) {
	fs, ok := requestFields[name]
	if !ok {
		return p.Registry.FindStructFieldType(name, field)
	}
	t, ok := fs[field]
	if !ok {
		return nil, false
	}
	return &types.FieldType{Type: t,
		IsSet: func(target any) bool {
			m, ok := target.(map[string]any)
			_, set := m[field]
			return ok && set
		},
		GetFrom: func(target any) (any, error) {
			m, ok := target.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("unexpected %T for %s", target, name)
			}
			v, ok := m[field]
			if !ok {
				return nil, fmt.Errorf("no such key: %s", field)
			}
			return v, nil
		}}, true
}

// checkCondition compiles a matchCondition expression and checks that it is a bool, with upstream's error wording.
func checkCondition(expr string) (*cel.Ast, error) {
	env, err := celEnv()
	if err != nil {
		return nil, fmt.Errorf("unexpected error loading CEL environment: %w", err)
	}
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		msg := "compilation failed: " + iss.String()
		if strings.Contains(msg, "undeclared reference to 'authorizer'") {
			msg += "\n(the authorizer variable is not supported by skiff)"
		}
		return nil, errors.New(msg)
	}
	if !ast.OutputType().IsExactType(cel.BoolType) {
		return nil, fmt.Errorf("must evaluate to %v but got %v", cel.BoolType, ast.OutputType())
	}
	return ast, nil
}

// compiled is a matchCondition's program, or the reason it has none.
type compiled struct {
	prg cel.Program
	err error
}

// compileCondition makes the program for expr, with upstream's per-call cost limit.
func compileCondition(expr string) *compiled {
	ast, err := checkCondition(expr)
	if err != nil {
		return &compiled{err: err}
	}
	env, _ := celEnv() // checkCondition succeeded, so the environment is good
	prg, err := env.Program(ast, cel.EvalOptions(cel.OptOptimize, cel.OptTrackCost), cel.CostLimit(perCallCostLimit),
		cel.InterruptCheckFrequency(interruptCheckFrequency))
	if err != nil {
		return &compiled{err: fmt.Errorf("program: %w", err)}
	}
	return &compiled{prg: prg}
}

// conditionCache holds compiled programs keyed by expression, so each expression is compiled once, not per request;
// it is reset when it outgrows maxCachedConditions (expressions of deleted configurations are dropped then).
type conditionCache struct {
	mu sync.RWMutex
	m  map[string]*compiled
}

func newConditionCache() *conditionCache { return &conditionCache{m: map[string]*compiled{}} }

// get returns the compiled form of expr, compiling it on first use.
func (c *conditionCache) get(expr string) *compiled {
	c.mu.RLock()
	p := c.m[expr]
	c.mu.RUnlock()
	if p != nil {
		return p
	}
	p = compileCondition(expr)
	c.mu.Lock()
	defer c.mu.Unlock()
	if q := c.m[expr]; q != nil {
		return q
	}
	if len(c.m) >= maxCachedConditions {
		clear(c.m)
	}
	c.m[expr] = p
	return p
}

// conditionVars are one call's CEL variables; each is converted on first use only and at most once.
type conditionVars struct {
	object, oldObject func() ref.Val
	request           func() any // a map[string]any: the fields of requestType are read from it
}

// ResolveName implements interpreter.Activation.
func (v *conditionVars) ResolveName(name string) (any, bool) {
	switch name {
	case "object":
		return v.object(), true
	case "oldObject":
		return v.oldObject(), true
	case "request":
		return v.request(), true
	}
	return nil, false
}

// Parent implements interpreter.Activation.
func (v *conditionVars) Parent() interpreter.Activation { return nil }

// newConditionVars binds object and oldObject (their JSON maps, null when absent) and request (the AdmissionRequest
// JSON map, without object and oldObject, as upstream's CreateAdmissionRequest) for the invocation inv of a.
func newConditionVars(inv *invocation, a *Attributes) *conditionVars {
	return &conditionVars{
		object:    sync.OnceValue(func() ref.Val { return objectVal(a.Object, a.Kind) }),
		oldObject: sync.OnceValue(func() ref.Val { return objectVal(a.OldObject, a.Kind) }),
		request:   sync.OnceValue(func() any { return requestMap(inv, a) }),
	}
}

// objectVal converts obj to its JSON map (apiVersion and kind set from gvk when it carries none); nil is null.
func objectVal(obj runtime.Object, gvk schema.GroupVersionKind) ref.Val {
	m, err := objectMap(obj, gvk)
	if err != nil {
		return types.NewErr("converting object: %v", err)
	}
	if m == nil {
		return types.NullValue
	}
	return types.DefaultTypeAdapter.NativeToValue(m)
}

// objectMap is obj as an unstructured map; nil for no object.
func objectMap(obj runtime.Object, gvk schema.GroupVersionKind) (map[string]any, error) {
	if obj == nil {
		return nil, nil
	}
	if u, ok := obj.(*unstructured.Unstructured); ok {
		return u.Object, nil
	}
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		return nil, fmt.Errorf("to unstructured: %w", err)
	}
	if obj.GetObjectKind().GroupVersionKind().Empty() && !gvk.Empty() {
		m["apiVersion"], m["kind"] = gvk.GroupVersion().String(), gvk.Kind
	}
	return m, nil
}

// requestMap is the admission.k8s.io/v1 AdmissionRequest JSON of the call, every field present (zero when unset)
// so that expressions can test them without has(); options are present only when the request has them.
func requestMap(inv *invocation, a *Attributes) map[string]any {
	gvk := func(k schema.GroupVersionKind) map[string]any {
		return map[string]any{"group": k.Group, "version": k.Version, "kind": k.Kind}
	}
	gvr := func(r schema.GroupVersionResource) map[string]any {
		return map[string]any{"group": r.Group, "version": r.Version, "resource": r.Resource}
	}
	groups := a.UserInfo.Groups
	if groups == nil {
		groups = []string{}
	}
	extra := make(map[string]any, len(a.UserInfo.Extra))
	for k, v := range a.UserInfo.Extra {
		extra[k] = []string(v)
	}
	m := map[string]any{
		"uid":                "",
		"kind":               gvk(inv.kind),
		"resource":           gvr(inv.resource),
		"subResource":        inv.subResource,
		"requestKind":        gvk(a.Kind),
		"requestResource":    gvr(a.Resource),
		"requestSubResource": a.SubResource,
		"name":               a.Name,
		"namespace":          a.Namespace,
		"operation":          string(a.Operation),
		"userInfo":           map[string]any{"username": a.UserInfo.Username, "uid": a.UserInfo.UID, "groups": groups, "extra": extra},
		"dryRun":             a.DryRun,
	}
	if a.Options != nil {
		if om, err := objectMap(a.Options, optionsKind(a.Options)); err == nil {
			m["options"] = om
		}
	}
	return m
}

// optionsKind is the meta.k8s.io/v1 kind that encodeOptions gives the options.
func optionsKind(opts runtime.Object) schema.GroupVersionKind {
	if gvk := opts.GetObjectKind().GroupVersionKind(); !gvk.Empty() {
		return gvk
	}
	return schema.GroupVersionKind{Group: "meta.k8s.io", Version: "v1", Kind: reflect.TypeOf(opts).Elem().Name()}
}

// evalConditions evaluates a webhook's conditions in order, as upstream's matchconditions matcher: a false one ends
// the evaluation with no match (failed names it); otherwise errors (compilation, evaluation, cost) are aggregated
// and returned. The conditions share one cost budget; running out of it ends the evaluation with an error.
func evalConditions(ctx context.Context, mcs []admissionregistrationv1.MatchCondition, cache *conditionCache,
	vars interpreter.Activation) (match bool, failed string, err error) {
	budget := uint64(matchConditionsCostBudget)
	var errs []error
	for _, mc := range mcs {
		c := cache.get(mc.Expression)
		if c.err != nil {
			errs = append(errs, fmt.Errorf("compilation error: %w", c.err))
			continue
		}
		val, det, evalErr := c.prg.ContextEval(ctx, vars)
		if det == nil || det.ActualCost() == nil {
			return false, "", fmt.Errorf("runtime cost could not be calculated for expression: %v, no further expression will be run", mc.Expression)
		}
		if cost := *det.ActualCost(); cost > budget {
			return false, "", errors.New("validation failed due to running out of cost budget, no further validation rules will be run")
		} else {
			budget -= cost
		}
		if evalErr != nil {
			errs = append(errs, fmt.Errorf("expression '%v' resulted in error: %w", mc.Expression, evalErr))
			continue
		}
		if val == types.False {
			return false, mc.Name, nil
		}
	}
	if len(errs) > 0 {
		return false, "", utilerrors.NewAggregate(errs)
	}
	return true, "", nil
}

// matchConditions decides whether a hook whose rules and selectors match is called: all conditions true. An
// evaluation error skips the hook under failurePolicy Ignore and, under Fail (the default), forbids the request.
func matchConditions(ctx context.Context, h *hook, inv *invocation, a *Attributes, cache *conditionCache) (bool, *apierrors.StatusError) {
	if len(h.matchConditions) == 0 {
		return true, nil
	}
	ok, _, err := evalConditions(ctx, h.matchConditions, cache, newConditionVars(inv, a))
	if err == nil {
		return ok, nil
	}
	if h.failurePolicy != nil && *h.failurePolicy == admissionregistrationv1.Ignore {
		return false, nil
	}
	return false, apierrors.NewForbidden(a.Resource.GroupResource(), a.Name, err)
}
