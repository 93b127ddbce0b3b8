package tenants

import (
	"bytes"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// User-editable metadata (issue 10): a tenant declares the user_metadata
// fields its users may edit on the account page; everything else in
// user_metadata, and all of app_metadata, only admins and the API change.

// Types of a user-editable metadata field.
const (
	MetadataString  = "string"
	MetadataNumber  = "number"
	MetadataBoolean = "boolean"
)

// Bounds of the declared fields and of what a user may store.
const (
	// MaxMetadataFields caps the fields a tenant declares.
	MaxMetadataFields = 20
	// MaxMetadataLabel bounds a field's label, in characters.
	MaxMetadataLabel = 80
	// MaxMetadataString bounds a string field's max_length (and is its
	// default).
	MaxMetadataString = 1000
	// MaxUserMetadata bounds the whole user_metadata object a user's edit
	// may leave, in bytes (the admin API's bound too).
	MaxUserMetadata = 16 << 10
)

// MetadataField is a user_metadata key the tenant's users may edit.
type MetadataField struct {
	// Name is the key in user_metadata.
	Name string `json:"name"`
	// Label is what the account page shows (Name when empty).
	Label string `json:"label,omitempty"`
	// Type is MetadataString, MetadataNumber or MetadataBoolean.
	Type string `json:"type"`
	// MaxLength bounds a string value, in characters (1 to
	// MaxMetadataString; 0 is MaxMetadataString).
	MaxLength int `json:"max_length,omitempty"`
}

// Title is the field's label, or its name.
func (f MetadataField) Title() string {
	if f.Label != "" {
		return f.Label
	}
	return f.Name
}

// Limit is the longest string value, in characters.
func (f MetadataField) Limit() int {
	if f.MaxLength <= 0 {
		return MaxMetadataString
	}
	return f.MaxLength
}

// MetadataFields is a tenant's list of user-editable fields, stored as JSON.
type MetadataFields []MetadataField

// Value implements driver.Valuer.
func (fs MetadataFields) Value() (driver.Value, error) {
	if fs == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]MetadataField(fs))
	return string(b), err
}

// Scan implements sql.Scanner.
func (fs *MetadataFields) Scan(src any) error { return scanJSON(src, (*[]MetadataField)(fs)) }

// Field returns the field named name.
func (fs MetadataFields) Field(name string) (MetadataField, bool) {
	for _, f := range fs {
		if f.Name == name {
			return f, true
		}
	}
	return MetadataField{}, false
}

var metadataFieldName = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9_]{0,39}$`)

// CheckMetadataFields checks a tenant's declared fields: at most
// MaxMetadataFields, each with a unique name of letters, digits and _
// (starting with a letter, at most 40), a label of at most
// MaxMetadataLabel printable characters, a known type, and for a string a
// max_length of 1 to MaxMetadataString (0: the maximum). It returns them
// cleaned (labels trimmed, max_length only on strings).
func CheckMetadataFields(fs []MetadataField) (MetadataFields, error) {
	if len(fs) > MaxMetadataFields {
		return nil, Invalid("user_metadata_fields", "at most %d fields", MaxMetadataFields)
	}
	out := make(MetadataFields, 0, len(fs))
	seen := map[string]bool{}
	for i, f := range fs {
		field := fmt.Sprintf("user_metadata_fields[%d]", i)
		if !metadataFieldName.MatchString(f.Name) {
			return nil, Invalid(field+".name", "must be 1 to 40 letters, digits or _, starting with a letter")
		}
		if seen[f.Name] {
			return nil, Invalid(field+".name", "%q is declared twice", f.Name)
		}
		seen[f.Name] = true
		f.Label = strings.TrimSpace(f.Label)
		if utf8.RuneCountInString(f.Label) > MaxMetadataLabel || !utf8.ValidString(f.Label) || strings.ContainsFunc(f.Label, isControl) {
			return nil, Invalid(field+".label", "must be at most %d characters, without control characters", MaxMetadataLabel)
		}
		switch f.Type {
		case MetadataString:
			if f.MaxLength < 0 || f.MaxLength > MaxMetadataString {
				return nil, Invalid(field+".max_length", "must be 1 to %d (0: %d)", MaxMetadataString, MaxMetadataString)
			}
		case MetadataNumber, MetadataBoolean:
			if f.MaxLength != 0 {
				return nil, Invalid(field+".max_length", "only a string field has a max_length")
			}
		default:
			return nil, Invalid(field+".type", "must be %s, %s or %s", MetadataString, MetadataNumber, MetadataBoolean)
		}
		out = append(out, f)
	}
	return out, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// EditUserMetadata applies a user's edit to their user_metadata (current,
// a JSON object or ""): edits maps declared field names to the text the
// account page posted, "" clearing the field. A name the tenant did not
// declare, a value of the wrong type (a number that does not parse or is
// not finite, a boolean other than true/false), a string over the field's
// max_length or with control characters, or a result over MaxUserMetadata
// bytes is refused. Keys the user may not edit keep their values. It
// returns the new object (compact JSON) and the names that changed.
func EditUserMetadata(fields MetadataFields, current string, edits map[string]string) (string, []string, error) {
	obj := map[string]any{}
	if strings.TrimSpace(current) != "" {
		if err := json.Unmarshal([]byte(current), &obj); err != nil || obj == nil {
			obj = map[string]any{}
		}
	}
	var changed []string
	for name, raw := range edits {
		f, ok := fields.Field(name)
		if !ok {
			return "", nil, Invalid(name, "is not a field you may edit")
		}
		before, had := obj[name]
		raw = strings.TrimSpace(raw)
		var v any
		switch {
		case raw == "":
			delete(obj, name)
			if had {
				changed = append(changed, name)
			}
			continue
		case f.Type == MetadataString:
			if !utf8.ValidString(raw) || strings.ContainsFunc(raw, isControl) || utf8.RuneCountInString(raw) > f.Limit() {
				return "", nil, Invalid(name, "must be at most %d characters, without control characters", f.Limit())
			}
			v = raw
		case f.Type == MetadataNumber:
			n, err := strconv.ParseFloat(raw, 64)
			if err != nil || math.IsInf(n, 0) || math.IsNaN(n) || len(raw) > 40 {
				return "", nil, Invalid(name, "must be a number")
			}
			v = n
		case f.Type == MetadataBoolean:
			b, err := strconv.ParseBool(raw)
			if err != nil || (raw != "true" && raw != "false") {
				return "", nil, Invalid(name, "must be true or false")
			}
			v = b
		}
		obj[name] = v
		if !had || fmt.Sprint(before) != fmt.Sprint(v) {
			changed = append(changed, name)
		}
	}
	slices.Sort(changed)
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		return "", nil, err
	}
	out := strings.TrimSuffix(b.String(), "\n")
	if len(out) > MaxUserMetadata {
		return "", nil, Invalid("user_metadata", "must be at most %d bytes", MaxUserMetadata)
	}
	return out, changed, nil
}
