package tenants

import "time"

// Administration roles.
const (
	// RoleOperator administers every tenant, and creates and deletes them.
	RoleOperator = "operator"
	// RoleTenantAdmin administers the one tenant it names.
	RoleTenantAdmin = "tenant_admin"
)

// Kinds of administrators: users and clients of the system tenant.
const (
	PrincipalUser   = "user"
	PrincipalClient = "client"
)

// AdminRole gives a user (by id) or a client (by client_id) of the system
// tenant a role; a tenant admin's role names its TargetTenantID.
type AdminRole struct {
	ID             string `gorm:"primaryKey"`
	PrincipalKind  string
	PrincipalID    string
	Role           string
	TargetTenantID *string
	CreatedAt      time.Time
}

// AdminUserScope holds the management scopes an administrator (a user of
// the system tenant, by id) may use: their console session and tokens carry
// no more than these. A management client's scopes are its grant of the
// management API instead.
type AdminUserScope struct {
	UserID    string `gorm:"primaryKey"`
	Scopes    Strings
	UpdatedAt time.Time
}

// ConsoleSession is an administrator's session in the console: the console
// is a relying party of the system tenant. ID is the SHA-256 of the cookie.
type ConsoleSession struct {
	ID         string `gorm:"primaryKey"`
	UserID     string
	Scopes     Strings
	TryState   string
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

// SetupToken is a one-time link for creating the first operator; ID is the
// SHA-256 of the token.
type SetupToken struct {
	ID        string `gorm:"primaryKey"`
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// AuditEvent is one entry of a tenant's append-only audit log. Before and
// After are JSON views (never secrets) of what an action changed.
type AuditEvent struct {
	ID         string `gorm:"primaryKey"`
	TenantID   string
	OccurredAt time.Time
	ActorKind  string
	ActorID    string
	ActorName  string
	Action     string
	TargetType string
	TargetID   string
	ClientID   string
	Outcome    string
	Reason     string
	Before     string
	After      string
	IPAddress  string
	UserAgent  string
	RequestID  string
}
