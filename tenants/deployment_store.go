package tenants

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"
)

// Deployment is the one row that says which deployment a database belongs
// to: the base URL its issuers were made from, and a check value derived
// from the master key that seals its keys.
type Deployment struct {
	ID             int `gorm:"primaryKey"`
	BaseURL        string
	MasterKeyCheck string
	CreatedAt      time.Time
}

// TableName implements gorm's tabler.
func (Deployment) TableName() string { return "deployment" }

// DeploymentMismatchError reports a node started with settings other than
// the ones the database was set up with.
type DeploymentMismatchError struct {
	Setting string // "base URL" or "master key"
	Want    string // what the database has (the base URL; never a key)
}

func (e *DeploymentMismatchError) Error() string {
	if e.Setting == "base URL" {
		return fmt.Sprintf("this database belongs to base URL %s (its tenants' issuers are built from it): set GATEHOUSE_BASE_URL=%s", e.Want, e.Want)
	}
	return "the master key is not the one this database was set up with: its signing keys could not be opened (set the GATEHOUSE_MASTER_KEY its other nodes use)"
}

// BindDeployment records baseURL and keyCheck on the first start against a
// database, and on every later start checks that they are the same, with a
// *DeploymentMismatchError if not. It is not tenant-scoped.
func (s *Store) BindDeployment(ctx context.Context, baseURL, keyCheck string) error {
	db := s.conn(ctx)
	row := Deployment{ID: 1, BaseURL: baseURL, MasterKeyCheck: keyCheck, CreatedAt: s.now()}
	if err := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&row).Error; err != nil {
		return mapErr(err)
	}
	var got Deployment
	if err := first(db.Where("id = 1"), &got); err != nil {
		return err
	}
	if got.BaseURL != baseURL {
		return &DeploymentMismatchError{Setting: "base URL", Want: got.BaseURL}
	}
	if got.MasterKeyCheck != keyCheck {
		return &DeploymentMismatchError{Setting: "master key"}
	}
	return nil
}
