package email

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// The template language of a tenant's email is text with variables
// placed by name, {{user.name}}, and nothing else: no logic, no function
// calls, no access to anything but the values its kind offers. A template
// naming a variable its kind does not offer, or anything that is not a
// variable name, is refused when saved, so a saved template always
// renders.

// maxVariableLength bounds the text between {{ and }}.
const maxVariableLength = 64

var variableName = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Template is a parsed template: literal text and the variables between it.
type Template struct {
	parts []part
}

type part struct {
	text     string
	variable string // "" for literal text
}

// TemplateError is why a template was refused.
type TemplateError struct {
	// Variable is the variable (or the text between the braces) at fault,
	// if any.
	Variable string
	Reason   string
}

func (e *TemplateError) Error() string { return e.Reason }

// Parse parses src, allowing only the variables in allowed.
func Parse(src string, allowed []string) (*Template, error) {
	t := &Template{}
	for {
		i := strings.Index(src, "{{")
		if i < 0 {
			if src != "" {
				t.parts = append(t.parts, part{text: src})
			}
			return t, nil
		}
		if i > 0 {
			t.parts = append(t.parts, part{text: src[:i]})
		}
		rest := src[i+2:]
		j := strings.Index(rest, "}}")
		if j < 0 || j > maxVariableLength {
			return nil, &TemplateError{Reason: "has a {{ without its }} (only {{variable}} is read)"}
		}
		name := strings.TrimSpace(rest[:j])
		switch {
		case !variableName.MatchString(name):
			return nil, &TemplateError{Variable: name, Reason: fmt.Sprintf("has {{%s}}: only variable names are read between {{ and }}, no logic or calls (this email has: %s)",
				name, strings.Join(allowed, ", "))}
		case !slices.Contains(allowed, name):
			return nil, &TemplateError{Variable: name, Reason: fmt.Sprintf("names {{%s}}, which this email does not have (it has: %s)", name, strings.Join(allowed, ", "))}
		}
		t.parts = append(t.parts, part{variable: name})
		src = rest[j+2:]
	}
}

// Execute returns the template with each variable replaced by its value
// in vars passed through escape with its name (a variable without a value
// is empty).
func (t *Template) Execute(vars Vars, escape func(name, value string) string) string {
	var b strings.Builder
	for _, p := range t.parts {
		if p.variable == "" {
			b.WriteString(p.text)
			continue
		}
		b.WriteString(escape(p.variable, vars[p.variable]))
	}
	return b.String()
}

// Variables lists the variables t names, in order, with repeats.
func (t *Template) Variables() []string {
	var out []string
	for _, p := range t.parts {
		if p.variable != "" {
			out = append(out, p.variable)
		}
	}
	return out
}
