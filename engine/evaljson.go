package engine

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// MarshalJSON encodes the row with its JSON field names; a float that is
// not finite (a test loss without a test set, an ESS before any draw) is
// written as the string "NaN", "+Inf" or "-Inf", which encoding/json
// cannot write as a number. UnmarshalJSON reads it back exactly.
func (e Eval) MarshalJSON() ([]byte, error) {
	v := reflect.ValueOf(e)
	m := make(map[string]any, v.NumField())
	for i := 0; i < v.NumField(); i++ {
		name, omitEmpty := jsonName(v.Type().Field(i))
		f := v.Field(i)
		if omitEmpty && f.IsZero() {
			continue
		}
		if f.Kind() == reflect.Float64 {
			if x := f.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
				m[name] = fmt.Sprint(x) // NaN, +Inf, -Inf
				continue
			}
		}
		m[name] = f.Interface()
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Eval) UnmarshalJSON(b []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	v := reflect.ValueOf(e).Elem()
	for i := 0; i < v.NumField(); i++ {
		name, _ := jsonName(v.Type().Field(i))
		r, ok := raw[name]
		if !ok {
			continue
		}
		f := v.Field(i)
		if f.Kind() == reflect.Float64 {
			var s string
			if json.Unmarshal(r, &s) == nil {
				switch s {
				case "NaN":
					f.SetFloat(math.NaN())
				case "+Inf":
					f.SetFloat(math.Inf(1))
				case "-Inf":
					f.SetFloat(math.Inf(-1))
				default:
					return fmt.Errorf("eval row: field %s: %q is not a number", name, s)
				}
				continue
			}
		}
		if err := json.Unmarshal(r, f.Addr().Interface()); err != nil {
			return fmt.Errorf("eval row: field %s: %w", name, err)
		}
	}
	return nil
}

func jsonName(f reflect.StructField) (name string, omitEmpty bool) {
	tag := f.Tag.Get("json")
	name, opts, _ := strings.Cut(tag, ",")
	if name == "" {
		name = f.Name
	}
	return name, strings.Contains(opts, "omitempty")
}
