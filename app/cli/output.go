package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"text/tabwriter"
)

// printList prints items, a slice of views, as --output says: the JSON
// object {key: items} (an empty list, never null), or a table of the
// fields columns (JSON names), one row an item.
func (f *flags) printList(w io.Writer, key string, items any, columns ...string) error {
	if v := reflect.ValueOf(items); v.Kind() == reflect.Slice && v.IsNil() {
		items = []any{}
	}
	if f.output == nil || *f.output != outputTable {
		return printJSON(w, map[string]any{key: items})
	}
	b, err := json.Marshal(items)
	if err != nil {
		return err
	}
	var rows []map[string]any
	if err := json.Unmarshal(b, &rows); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := make([]string, len(columns))
	for i, c := range columns {
		head[i] = strings.ToUpper(c)
	}
	fmt.Fprintln(tw, strings.Join(head, "\t"))
	for _, r := range rows {
		cells := make([]string, len(columns))
		for i, c := range columns {
			cells[i] = cell(r[c])
		}
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	return tw.Flush()
}

// printOne prints v, one view, as --output says: JSON, or a table of its
// fields in their order, a field a row.
func (f *flags) printOne(w io.Writer, v any) error {
	if f.output == nil || *f.output != outputTable {
		return printJSON(w, v)
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return fmt.Errorf("%s: not an object", f.Name())
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tVALUE")
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var val any
		if err := dec.Decode(&val); err != nil {
			return err
		}
		fmt.Fprintf(tw, "%s\t%s\n", k, cell(val))
	}
	return tw.Flush()
}

// cell is a JSON value in a table cell: a string as it is, a list of
// strings comma-separated, anything else as compact JSON; tabs and line
// breaks become spaces so that a value cannot break the table.
func cell(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		s = ""
	case string:
		s = x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			if str, ok := e.(string); ok {
				parts[i] = str
			} else {
				b, _ := json.Marshal(e)
				parts[i] = string(b)
			}
		}
		s = strings.Join(parts, ",")
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r < 0x20 || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
