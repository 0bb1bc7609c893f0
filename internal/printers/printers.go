package printers

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/duration"
)

// handler prints one kind: its columns and the cells of one object.
type handler struct {
	columns []metav1.TableColumnDefinition
	cells   func(obj runtime.Object, now time.Time) []interface{}
}

var (
	// itemHandlers is keyed by the pointer type of a single object.
	itemHandlers = map[reflect.Type]*handler{}
	// listHandlers is keyed by the pointer type of the matching List.
	listHandlers = map[reflect.Type]*handler{}
)

// register adds the printer for item type T whose List type is L.
func register[T runtime.Object, L runtime.Object](columns []metav1.TableColumnDefinition, print func(T, time.Time) []interface{}) {
	h := &handler{
		columns: columns,
		cells: func(obj runtime.Object, now time.Time) []interface{} {
			return print(obj.(T), now)
		},
	}
	it, lt := reflect.TypeFor[T](), reflect.TypeFor[L]()
	if _, dup := itemHandlers[it]; dup {
		panic(fmt.Sprintf("printers: duplicate handler for %v", it))
	}
	itemHandlers[it] = h
	listHandlers[lt] = h
}

var (
	nameColumn = metav1.TableColumnDefinition{Name: "Name", Type: "string", Format: "name", Description: metav1.ObjectMeta{}.SwaggerDoc()["name"]}
	ageColumn  = metav1.TableColumnDefinition{Name: "Age", Type: "string", Description: metav1.ObjectMeta{}.SwaggerDoc()["creationTimestamp"]}

	containersColumn = metav1.TableColumnDefinition{Name: "Containers", Type: "string", Priority: 1, Description: "Names of each container in the template."}
	imagesColumn     = metav1.TableColumnDefinition{Name: "Images", Type: "string", Priority: 1, Description: "Images referenced by each container in the template."}

	// defaultColumns is what kube-apiserver's default table convertor prints.
	defaultColumns = []metav1.TableColumnDefinition{nameColumn, ageColumn}
)

func lookup(obj runtime.Object) (h *handler, isList bool) {
	if obj == nil {
		return nil, false
	}
	t := reflect.TypeOf(obj)
	if h, ok := itemHandlers[t]; ok {
		return h, false
	}
	if h, ok := listHandlers[t]; ok {
		return h, true
	}
	return nil, meta.IsListType(obj)
}

// ColumnDefinitions returns the Table columns for objects of the given kind (obj is any object of that type, or a List of them); unknown types get Name and Age (the apiserver's default).
func ColumnDefinitions(obj runtime.Object) []metav1.TableColumnDefinition {
	cols := defaultColumns
	if h, _ := lookup(obj); h != nil {
		cols = h.columns
	}
	out := make([]metav1.TableColumnDefinition, len(cols))
	copy(out, cols)
	return out
}

// Cells returns one row's cells for obj (a single object, not a list), in the order of ColumnDefinitions; now is the time used for ages.
func Cells(obj runtime.Object, now time.Time) ([]interface{}, error) {
	if obj == nil {
		return nil, errors.New("printers: nil object")
	}
	if v := reflect.ValueOf(obj); v.Kind() == reflect.Pointer && v.IsNil() {
		return nil, fmt.Errorf("printers: nil %T", obj)
	}
	h, isList := lookup(obj)
	if isList {
		return nil, fmt.Errorf("printers: Cells takes a single object, not the list %T", obj)
	}
	if h != nil {
		return h.cells(obj, now), nil
	}
	m, err := meta.Accessor(obj)
	if err != nil {
		return nil, fmt.Errorf("printers: cannot print %T: %w", obj, err)
	}
	return []interface{}{m.GetName(), translateTimestampSince(m.GetCreationTimestamp(), now)}, nil
}

// translateTimestampSince returns the elapsed time from timestamp to now in
// human-readable approximation, or "<unknown>" for a zero timestamp.
func translateTimestampSince(timestamp metav1.Time, now time.Time) string {
	if timestamp.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(timestamp.Time))
}

// translateMicroTimestampSince is translateTimestampSince for a MicroTime.
func translateMicroTimestampSince(timestamp metav1.MicroTime, now time.Time) string {
	if timestamp.IsZero() {
		return "<unknown>"
	}
	return duration.HumanDuration(now.Sub(timestamp.Time))
}

// listWithMoreString joins at most maxItems items and says how many were left
// out.
func listWithMoreString(list []string, more bool, count, maxItems int) string {
	ret := strings.Join(list, ",")
	if more {
		return fmt.Sprintf("%s + %d more...", ret, count-maxItems)
	}
	if ret == "" {
		ret = "<unset>"
	}
	return ret
}

func printBoolPtr(value *bool) string {
	if value != nil {
		return printBool(*value)
	}
	return "<unset>"
}

func printBool(value bool) string {
	if value {
		return "True"
	}
	return "False"
}
