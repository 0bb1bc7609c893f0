package apiextensions

import (
	"bytes"
	"encoding/json"
	"reflect"
	"sort"

	apiextv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	utiljson "k8s.io/apimachinery/pkg/util/json"
)

// internalForm is a bad value rendered as upstream renders the internal apiextensions types in error messages:
// JSON with Go field names, no omitted fields, and JSON values inline.
type internalForm struct{ v any }

// MarshalJSON renders the value in its internal form.
func (f internalForm) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	encodeInternal(&b, reflect.ValueOf(f.v))
	return b.Bytes(), nil
}

// internalVersions renders versions as the internal form holds them: fields lifted to the top level are null.
func internalVersions(versions []apiextv1.CustomResourceDefinitionVersion) internalForm {
	l := liftedFields(versions)
	out := make([]apiextv1.CustomResourceDefinitionVersion, len(versions))
	for i, v := range versions {
		if l.schema {
			v.Schema = nil
		}
		if l.subresources {
			v.Subresources = nil
		}
		if l.columns {
			v.AdditionalPrinterColumns = nil
		}
		if l.selectable {
			v.SelectableFields = nil
		}
		out[i] = v
	}
	return internalForm{out}
}

var (
	jsonType        = reflect.TypeOf(apiextv1.JSON{})
	schemaPropsType = reflect.TypeOf(apiextv1.JSONSchemaProps{})
)

func encodeInternal(b *bytes.Buffer, v reflect.Value) {
	if v.IsValid() && v.Type() == jsonType {
		// The internal JSON is the decoded value; re-encoding it compacts and sorts it.
		var x any
		if err := utiljson.Unmarshal(v.Interface().(apiextv1.JSON).Raw, &x); err != nil {
			b.WriteString("null")
			return
		}
		writeJSON(b, x)
		return
	}
	switch {
	case !v.IsValid():
		b.WriteString("null")
	case (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface || v.Kind() == reflect.Slice || v.Kind() == reflect.Map) && v.IsNil():
		b.WriteString("null")
	case v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface:
		encodeInternal(b, v.Elem())
	case v.Kind() == reflect.Struct:
		b.WriteByte('{')
		for i, name := range fieldNames(v.Type()) {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, name)
			b.WriteByte(':')
			encodeInternal(b, v.FieldByName(name))
		}
		b.WriteByte('}')
	case v.Kind() == reflect.Slice && v.Type().Elem().Kind() != reflect.Uint8:
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			encodeInternal(b, v.Index(i))
		}
		b.WriteByte(']')
	case v.Kind() == reflect.Map:
		keys := v.MapKeys()
		sort.Slice(keys, func(i, j int) bool { return keys[i].String() < keys[j].String() })
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, k.String())
			b.WriteByte(':')
			encodeInternal(b, v.MapIndex(k))
		}
		b.WriteByte('}')
	default:
		writeJSON(b, v.Interface())
	}
}

// fieldNames lists a struct's exported fields in the internal type's order.
func fieldNames(t reflect.Type) []string {
	if t == schemaPropsType {
		return internalSchemaFieldOrder
	}
	var names []string
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); f.IsExported() {
			names = append(names, f.Name)
		}
	}
	return names
}

// writeJSON appends the encoding of a scalar, string or byte slice, which cannot fail.
func writeJSON(b *bytes.Buffer, x any) {
	out, _ := json.Marshal(x)
	b.Write(out)
}
