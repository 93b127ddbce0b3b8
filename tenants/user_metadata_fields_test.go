package tenants

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckMetadataFields(t *testing.T) {
	tests := []struct {
		name    string
		fields  []MetadataField
		wantErr bool
	}{
		{name: "ok", fields: []MetadataField{{Name: "nickname", Label: " Nickname ", Type: MetadataString, MaxLength: 30}, {Name: "age", Type: MetadataNumber}, {Name: "newsletter", Type: MetadataBoolean}}},
		{name: "bad name", fields: []MetadataField{{Name: "a.b", Type: MetadataString}}, wantErr: true},
		{name: "leading digit", fields: []MetadataField{{Name: "1a", Type: MetadataString}}, wantErr: true},
		{name: "twice", fields: []MetadataField{{Name: "a", Type: MetadataString}, {Name: "a", Type: MetadataNumber}}, wantErr: true},
		{name: "unknown type", fields: []MetadataField{{Name: "a", Type: "object"}}, wantErr: true},
		{name: "max on number", fields: []MetadataField{{Name: "a", Type: MetadataNumber, MaxLength: 3}}, wantErr: true},
		{name: "max too big", fields: []MetadataField{{Name: "a", Type: MetadataString, MaxLength: MaxMetadataString + 1}}, wantErr: true},
		{name: "control in label", fields: []MetadataField{{Name: "a", Label: "x\x00", Type: MetadataString}}, wantErr: true},
		{name: "too many", fields: make([]MetadataField, MaxMetadataFields+1), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckMetadataFields(tt.fields)
			var ve *ValidationError
			if tt.wantErr != (err != nil) || (err != nil && !errors.As(err, &ve)) {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if err == nil && got[0].Label != strings.TrimSpace(tt.fields[0].Label) {
				t.Fatalf("label %q", got[0].Label)
			}
		})
	}
}

func TestEditUserMetadata(t *testing.T) {
	fields := MetadataFields{{Name: "nickname", Type: MetadataString, MaxLength: 5}, {Name: "age", Type: MetadataNumber}, {Name: "news", Type: MetadataBoolean}}
	const current = `{"nickname":"old","tier":"gold"}`
	tests := []struct {
		name    string
		edits   map[string]string
		want    string
		changed string
		wantErr bool
	}{
		{name: "set all", edits: map[string]string{"nickname": "ann", "age": "42", "news": "true"}, want: `{"age":42,"news":true,"nickname":"ann","tier":"gold"}`, changed: "age,news,nickname"},
		{name: "clear", edits: map[string]string{"nickname": ""}, want: `{"tier":"gold"}`, changed: "nickname"},
		{name: "same", edits: map[string]string{"nickname": "old"}, want: `{"nickname":"old","tier":"gold"}`},
		{name: "undeclared key", edits: map[string]string{"tier": "platinum"}, wantErr: true},
		{name: "too long", edits: map[string]string{"nickname": "abcdef"}, wantErr: true},
		{name: "runes count", edits: map[string]string{"nickname": "ééééé"}, want: `{"nickname":"ééééé","tier":"gold"}`, changed: "nickname"},
		{name: "control", edits: map[string]string{"nickname": "a\x01"}, wantErr: true},
		{name: "not a number", edits: map[string]string{"age": "abc"}, wantErr: true},
		{name: "infinite", edits: map[string]string{"age": "1e999"}, wantErr: true},
		{name: "NaN", edits: map[string]string{"age": "NaN"}, wantErr: true},
		{name: "not a boolean", edits: map[string]string{"news": "1"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed, err := EditUserMetadata(fields, current, tt.edits)
			if tt.wantErr {
				var ve *ValidationError
				if !errors.As(err, &ve) {
					t.Fatalf("err = %v, want a ValidationError", err)
				}
				return
			}
			if err != nil || got != tt.want || strings.Join(changed, ",") != tt.changed {
				t.Fatalf("= %s %v %v, want %s %s", got, changed, err, tt.want, tt.changed)
			}
		})
	}
	big := MetadataFields{}
	edits := map[string]string{}
	for i := range MaxMetadataFields {
		n := "f" + strings.Repeat("x", i)
		big = append(big, MetadataField{Name: n, Type: MetadataString})
		edits[n] = strings.Repeat("y", MaxMetadataString)
	}
	if _, _, err := EditUserMetadata(big, "", edits); err == nil {
		t.Fatal("an edit over MaxUserMetadata bytes was accepted")
	}
}
