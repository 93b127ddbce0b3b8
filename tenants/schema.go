package tenants

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// schemaModels returns one value of every row type the store reads and
// writes: the tables VerifySchema checks.
func schemaModels() []any {
	return []any{
		&Tenant{}, &User{}, &Client{}, &API{}, &Scope{}, &ClientGrant{}, &Consent{},
		&Session{}, &AuthRequest{}, &DeviceAuthorization{}, &Grant{}, &RevokedToken{}, &ClientAssertion{}, &DPoPProof{}, &PushedRequest{}, &RefreshToken{}, &SigningKey{}, &Deployment{},
		&AdminRole{}, &AdminUserScope{}, &ConsoleSession{}, &SetupToken{}, &AuditEvent{}, &Connection{}, &ExternalIdentity{}, &FederationState{}, &SAMLAssertion{}, &UserToken{}, &MFAFactor{}, &RecoveryCode{}, &LoginStep{}, &Throttle{}, &OutboxMessage{},
		&WebhookEndpoint{}, &WebhookDelivery{}, &WebhookAttempt{}, &LogoutDelivery{}, &InitialAccessToken{},
		&Role{}, &RolePermission{}, &Group{}, &GroupMember{}, &GroupRole{}, &UserRole{},
		&ImportJob{}, &ImportJobChunk{}, &ImportJobRefusal{},
		&TenantString{}, &EmailTemplate{}, &Domain{},
		&ClaimRule{},
		&SAMLApp{}, &SAMLRequest{}, &SAMLParticipant{}, &SAMLMessage{},
	}
}

// columnTypes names, per dialect, the column types a field of each GORM data
// type may be stored in, as the database reports them (lower case). A data
// type not listed is not checked.
var columnTypes = map[string]map[schema.DataType][]string{
	DialectPostgres: {
		schema.Bool:   {"bool"},
		schema.Int:    {"int2", "int4", "int8"},
		schema.Uint:   {"int2", "int4", "int8"},
		schema.Float:  {"float4", "float8", "numeric"},
		schema.String: {"text", "varchar", "bpchar"},
		schema.Time:   {"timestamptz"},
		schema.Bytes:  {"bytea"},
	},
	DialectSQLite: {
		schema.Bool:   {"boolean", "bool"},
		schema.Int:    {"integer", "bigint", "int"},
		schema.Uint:   {"integer", "bigint", "int"},
		schema.Float:  {"real", "double", "float", "numeric"},
		schema.String: {"text", "varchar"},
		schema.Time:   {"datetime", "timestamp"},
		schema.Bytes:  {"blob"},
	},
}

// SchemaError lists every way the database schema differs from what the
// models expect, one problem per line.
type SchemaError struct {
	Problems []string
}

func (e *SchemaError) Error() string {
	return "database schema does not match the models:\n  " + strings.Join(e.Problems, "\n  ")
}

// VerifySchema compares the migrated database schema with what the GORM
// models expect: a table for every model; a column for every field that is
// stored (fields that are only read, tagged `->;-:migration`, are not); a field for every column; a nullable
// column exactly where the field is a pointer (primary keys aside, which
// SQLite reports as nullable); and a column type that holds the field's
// type. It returns a *SchemaError listing every difference.
func (s *Store) VerifySchema(ctx context.Context) error {
	db := s.conn(ctx)
	m := db.Migrator()
	var problems []string
	for _, model := range schemaModels() {
		stmt := &gorm.Statement{DB: db}
		if err := stmt.Parse(model); err != nil {
			return fmt.Errorf("parse model %T: %w", model, err)
		}
		sch := stmt.Schema
		if !m.HasTable(model) {
			problems = append(problems, fmt.Sprintf("%s: table missing (model %s)", sch.Table, sch.Name))
			continue
		}
		cols, err := m.ColumnTypes(model)
		if err != nil {
			return fmt.Errorf("read columns of %s: %w", sch.Table, err)
		}
		byName := make(map[string]gorm.ColumnType, len(cols))
		for _, c := range cols {
			byName[c.Name()] = c
		}
		stored := make(map[string]bool, len(sch.Fields))
		readOnly := make(map[string]string)
		for _, f := range sch.Fields {
			if f.DBName != "" && f.IgnoreMigration {
				readOnly[f.DBName] = f.Name
			}
			if f.DBName == "" || f.IgnoreMigration {
				continue
			}
			stored[f.DBName] = true
			where := fmt.Sprintf("%s.%s", sch.Table, f.DBName)
			field := fmt.Sprintf("%s.%s", sch.Name, f.Name)
			c, ok := byName[f.DBName]
			if !ok {
				problems = append(problems, fmt.Sprintf("%s: column missing (field %s)", where, field))
				continue
			}
			if nullable, ok := c.Nullable(); ok && !f.PrimaryKey {
				// A field tagged default:null stores its zero value as
				// NULL and reads NULL as it (AuthRequest.ClientID of an
				// intent): nullable by design.
				pointer := f.FieldType.Kind() == reflect.Pointer || strings.EqualFold(f.TagSettings["DEFAULT"], "null")
				switch {
				case pointer && !nullable:
					problems = append(problems, fmt.Sprintf("%s: column is NOT NULL but field %s is a pointer", where, field))
				case !pointer && nullable:
					problems = append(problems, fmt.Sprintf("%s: column is nullable but field %s is not a pointer", where, field))
				}
			}
			got := strings.ToLower(c.DatabaseTypeName())
			if want, ok := columnTypes[s.dialect][f.DataType]; ok && !slices.Contains(want, got) {
				problems = append(problems, fmt.Sprintf("%s: column type %s cannot hold field %s (%s); want one of %s",
					where, got, field, f.FieldType, strings.Join(want, ", ")))
			}
		}
		for _, c := range cols {
			switch {
			case stored[c.Name()]:
			case readOnly[c.Name()] != "":
				problems = append(problems, fmt.Sprintf("%s.%s: column has no field in model %s (%s is read-only, filled by queries)",
					sch.Table, c.Name(), sch.Name, readOnly[c.Name()]))
			default:
				problems = append(problems, fmt.Sprintf("%s.%s: column has no field in model %s", sch.Table, c.Name(), sch.Name))
			}
		}
	}
	if len(problems) > 0 {
		return &SchemaError{Problems: problems}
	}
	return nil
}
