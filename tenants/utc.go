package tenants

import (
	"reflect"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// registerUTC makes every time the store writes UTC, whatever zone the
// caller's clock is in. SQLite keeps times as text and compares them as
// text (expires_at > ?), which orders instants correctly only when every
// time is written in the same zone; the store's own clock is UTC.
func registerUTC(db *gorm.DB) error {
	if err := db.Callback().Create().Before("gorm:create").Register("gatehouse:utc", utcTimes); err != nil {
		return err
	}
	return db.Callback().Update().Before("gorm:update").Register("gatehouse:utc", utcTimes)
}

// utcTimes turns the times of the rows a create writes, or of the columns
// an update sets, into UTC.
func utcTimes(db *gorm.DB) {
	stmt := db.Statement
	if m, ok := stmt.Dest.(map[string]any); ok {
		for k, v := range m {
			if u, ok := utc(v); ok {
				m[k] = u
			}
		}
		return
	}
	if stmt.Schema == nil || !stmt.ReflectValue.IsValid() {
		return
	}
	rv := reflect.Indirect(stmt.ReflectValue)
	switch rv.Kind() {
	case reflect.Struct:
		utcFields(stmt, rv)
	case reflect.Slice, reflect.Array:
		for i := range rv.Len() {
			utcFields(stmt, reflect.Indirect(rv.Index(i)))
		}
	}
}

func utcFields(stmt *gorm.Statement, rv reflect.Value) {
	for _, f := range stmt.Schema.Fields {
		if f.DataType != schema.Time {
			continue
		}
		v, zero := f.ValueOf(stmt.Context, rv)
		if zero {
			continue
		}
		if u, ok := utc(v); ok {
			if err := f.Set(stmt.Context, rv, u); err != nil {
				_ = stmt.AddError(err)
			}
		}
	}
}

// utc returns v in UTC, and true, if v is a time in another zone.
func utc(v any) (any, bool) {
	switch t := v.(type) {
	case time.Time:
		if t.Location() != time.UTC {
			return t.UTC(), true
		}
	case *time.Time:
		if t != nil && t.Location() != time.UTC {
			u := t.UTC()
			return &u, true
		}
	}
	return v, false
}
