package apiserver

import (
	"net/http"

	"github.com/skiff-sh/skiff/internal/printers"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
)

// toTable renders objs as a meta.k8s.io/v1 Table; each row carries the object as includeObject asks (Metadata by default).
func (s *APIServer) toTable(r *http.Request, res *resource, objs []runtime.Object, rv, cont string, remaining *int64) (*metav1.Table, error) {
	include := r.URL.Query().Get("includeObject")
	switch include {
	case "", "Metadata", "Object", "None":
	default:
		return nil, badRequest("includeObject: Unsupported value: %q: supported values: \"Metadata\", \"None\", \"Object\"", include)
	}
	t := &metav1.Table{TypeMeta: metav1.TypeMeta{APIVersion: "meta.k8s.io/v1", Kind: "Table"}}
	t.ResourceVersion, t.Continue, t.RemainingItemCount = rv, cont, remaining
	if res.cr != nil {
		t.ColumnDefinitions = res.cr.tableColumns()
	} else {
		t.ColumnDefinitions = printers.ColumnDefinitions(res.New())
	}
	now := s.clock.Now()
	for _, o := range objs {
		var cells []any
		var err error
		if res.cr != nil {
			cells = res.cr.tableCells(o, now)
		} else if cells, err = printers.Cells(o, now); err != nil {
			return nil, err
		}
		row := metav1.TableRow{Cells: cells}
		switch include {
		case "", "Metadata":
			row.Object = runtime.RawExtension{Object: partialMetadata(o, res)}
		case "Object":
			c := o.DeepCopyObject()
			s.codecs.setTypeMeta(c)
			row.Object = runtime.RawExtension{Object: c}
		}
		t.Rows = append(t.Rows, row)
	}
	if t.Rows == nil {
		t.Rows = []metav1.TableRow{}
	}
	return t, nil
}
