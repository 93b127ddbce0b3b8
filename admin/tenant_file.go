package admin

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"go.yaml.in/yaml/v3"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// TenantFileSchema is the JSON Schema (draft 2020-12) of a tenant file:
// ParseTenantFile validates against it, and `gatehouse plan --schema`
// prints it for editors.
//
//go:embed tenant_file.schema.json
var TenantFileSchema []byte

// MaxTenantFile bounds a tenant file.
const MaxTenantFile = 4 << 20

// FileProblem is one thing wrong with a tenant file: where (its line and
// the field, as apis[0].audience) and what.
type FileProblem struct {
	Line    int    `json:"line"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// FileError lists what is wrong with a tenant file.
type FileError struct{ Problems []FileProblem }

func (e *FileError) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "line %d: %s: %s", p.Line, p.Field, p.Message)
	}
	return b.String()
}

var compiledFileSchema = sync.OnceValues(func() (*jsonschema.Schema, error) {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(TenantFileSchema))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("tenant-file.json", doc); err != nil {
		return nil, err
	}
	return c.Compile("tenant-file.json")
})

// ParseTenantFile reads a tenant file (YAML, or JSON, which is YAML) and
// checks it against TenantFileSchema. Its errors are a *FileError whose
// problems name the line and the field.
func ParseTenantFile(raw []byte) (*TenantFile, error) {
	if len(raw) > MaxTenantFile {
		return nil, &FileError{[]FileProblem{{Line: 1, Field: "(file)", Message: fmt.Sprintf("is larger than %d MiB", MaxTenantFile>>20)}}}
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		line := 1
		if _, after, ok := strings.Cut(err.Error(), "line "); ok {
			if n, err := strconv.Atoi(strings.TrimRight(strings.SplitN(after, ":", 2)[0], " ")); err == nil {
				line = n
			}
		}
		return nil, &FileError{[]FileProblem{{Line: line, Field: "(file)", Message: strings.TrimPrefix(err.Error(), "yaml: ")}}}
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return nil, &FileError{[]FileProblem{{Line: 1, Field: "(file)", Message: "is empty: it needs at least tenant: SLUG"}}}
	}
	lines := map[string]int{}
	v, err := yamlValue(doc.Content[0], "", lines)
	if err != nil {
		return nil, err
	}
	sch, err := compiledFileSchema()
	if err != nil {
		return nil, err
	}
	if err := sch.Validate(v); err != nil {
		var ve *jsonschema.ValidationError
		if !errors.As(err, &ve) {
			return nil, err
		}
		fe := &FileError{}
		printer := message.NewPrinter(language.English)
		var walk func(e *jsonschema.ValidationError)
		walk = func(e *jsonschema.ValidationError) {
			if len(e.Causes) > 0 {
				for _, c := range e.Causes {
					walk(c)
				}
				return
			}
			ptr := "/" + strings.Join(e.InstanceLocation, "/")
			if len(e.InstanceLocation) == 0 {
				ptr = ""
			}
			loc := e.InstanceLocation
			if ap, ok := e.ErrorKind.(*kind.AdditionalProperties); ok && len(ap.Properties) > 0 {
				// Name the field that is not allowed, on its line.
				loc = append(slices.Clone(loc), ap.Properties[0])
				ptr += "/" + ap.Properties[0]
			}
			fe.Problems = append(fe.Problems, FileProblem{Line: lineOf(lines, ptr), Field: fieldName(loc), Message: e.ErrorKind.LocalizedString(printer)})
		}
		walk(ve)
		slices.SortStableFunc(fe.Problems, func(a, b FileProblem) int { return a.Line - b.Line })
		return nil, fe
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f TenantFile
	if err := dec.Decode(&f); err != nil {
		return nil, &FileError{[]FileProblem{{Line: 1, Field: "(file)", Message: err.Error()}}}
	}
	return &f, nil
}

// lineOf is the line of the value at ptr, or of the nearest value holding
// it.
func lineOf(lines map[string]int, ptr string) int {
	for {
		if n, ok := lines[ptr]; ok {
			return n
		}
		i := strings.LastIndexByte(ptr, '/')
		if i < 0 {
			return 1
		}
		ptr = ptr[:i]
	}
}

// fieldName writes a location as apis[0].audience.
func fieldName(loc []string) string {
	if len(loc) == 0 {
		return "(file)"
	}
	var b strings.Builder
	for _, t := range loc {
		if _, err := strconv.Atoi(t); err == nil {
			b.WriteString("[" + t + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(t)
	}
	return b.String()
}

// yamlValue turns a YAML node into the value JSON would decode to, noting
// the line of every value by its JSON pointer. Aliases and non-string keys
// are refused.
func yamlValue(n *yaml.Node, ptr string, lines map[string]int) (any, error) {
	lines[ptr] = n.Line
	problem := func(msg string) error {
		return &FileError{[]FileProblem{{Line: n.Line, Field: fieldName(strings.Split(strings.TrimPrefix(ptr, "/"), "/")), Message: msg}}}
	}
	switch n.Kind {
	case yaml.AliasNode:
		return nil, problem("aliases (*name) are not allowed")
	case yaml.MappingNode:
		m := map[string]any{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Kind != yaml.ScalarNode || (k.Tag != "!!str" && k.Tag != "") {
				return nil, problem("keys must be strings")
			}
			if _, dup := m[k.Value]; dup {
				lines[ptr+"/"+k.Value] = k.Line
				return nil, &FileError{[]FileProblem{{Line: k.Line, Field: fieldName(append(strings.Split(strings.TrimPrefix(ptr, "/"), "/"), k.Value)), Message: "is given twice"}}}
			}
			v, err := yamlValue(val, ptr+"/"+k.Value, lines)
			if err != nil {
				return nil, err
			}
			// A field is where its key is.
			lines[ptr+"/"+k.Value] = k.Line
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for i, c := range n.Content {
			v, err := yamlValue(c, ptr+"/"+strconv.Itoa(i), lines)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return nil, nil
		case "!!bool":
			var b bool
			if err := n.Decode(&b); err != nil {
				return nil, problem(err.Error())
			}
			return b, nil
		case "!!int":
			var i int64
			if err := n.Decode(&i); err != nil {
				return nil, problem("is not a number in range")
			}
			return json.Number(strconv.FormatInt(i, 10)), nil
		case "!!float":
			var f float64
			if err := n.Decode(&f); err != nil {
				return nil, problem(err.Error())
			}
			return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
		default:
			return n.Value, nil
		}
	}
	return nil, problem("is not a value")
}
