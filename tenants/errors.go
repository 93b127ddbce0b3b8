package tenants

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound is returned when a row does not exist in the caller's tenant.
	// A row of another tenant is reported the same way.
	ErrNotFound = errors.New("not found")
	// ErrAlreadyExists is returned when a unique key (slug, email, audience,
	// client id) is already taken.
	ErrAlreadyExists = errors.New("already exists")
	// ErrConflict is returned when a compare-and-swap update lost its race:
	// the row changed since it was read (a code already redeemed, a refresh
	// token already rotated).
	ErrConflict = errors.New("conflict")
	// ErrLastOperator is returned, and nothing changed, when a change would
	// leave Gatehouse without an operator: the last one can be neither
	// deleted nor made a tenant admin.
	ErrLastOperator = errors.New("the last operator cannot be removed: make another administrator an operator first")
	// ErrNoTenant is returned when a tenant-scoped operation is called with a
	// context that carries no tenant.
	ErrNoTenant = errors.New("no tenant in context")
)

// ValidationError reports input that breaks a domain rule. Field names the
// input (as the CLI flag or JSON field calls it) and Message says what is
// wrong in words a person can act on.
type ValidationError struct {
	Field   string
	Message string
	// Words, when set, is the message id (views/i18n) of what the pages
	// say instead of Message, in the reader's language, with Count as its
	// number.
	Words string
	Count int
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Message)
}

// Invalid returns a *ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}
