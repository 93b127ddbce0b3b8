package tenants

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
)

// Statuses of an import job.
const (
	JobUploading = "uploading" // its input is being stored
	JobPending   = "pending"   // stored, waiting for (or between) the nodes that run it
	JobDone      = "done"
)

// ImportJob is an import that runs in the background: its input is stored
// in chunks, and whichever node holds its lease imports the next chunk, so
// that a job whose node stopped is resumed by another once the lease
// expires.
type ImportJob struct {
	ID             string `gorm:"primaryKey"`
	TenantID       string
	Kind           string
	Status         string
	UpdateExisting bool
	Chunks         int
	NextChunk      int
	Lines          int
	Created        int
	Updated        int
	Unchanged      int
	Refused        int
	Error          string
	Actor          string
	LeaseUntil     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FinishedAt     *time.Time
}

// ImportJobChunk is a part of a job's input: lines, each "<number>\t<line>\n".
type ImportJobChunk struct {
	JobID     string `gorm:"primaryKey"`
	TenantID  string
	Seq       int `gorm:"primaryKey"`
	FirstLine int
	Data      string
}

// ImportJobRefusal is a line a job refused, with its reason.
type ImportJobRefusal struct {
	JobID    string `gorm:"primaryKey"`
	TenantID string
	Line     int `gorm:"primaryKey"`
	Email    string
	Reason   string
}

// ErrJobMoved is returned when a job's chunk was imported already (by
// another node, whose lease this node's outlived): nothing was done.
var ErrJobMoved = errors.New("import job: the chunk was imported already")

// CreateImportJob stores a new job, uploading, in the tenant of ctx.
func (s *Store) CreateImportJob(ctx context.Context, j *ImportJob) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	now := s.now()
	if j.ID == "" {
		j.ID = newID()
	}
	j.TenantID, j.Status, j.CreatedAt, j.UpdatedAt = tid, JobUploading, now, now
	return mapErr(s.conn(ctx).Create(j).Error)
}

// AddImportChunk stores a chunk of an uploading job of the tenant in ctx,
// with the lines refused before they were stored (too long).
func (s *Store) AddImportChunk(ctx context.Context, c *ImportJobChunk, refusals []ImportJobRefusal) error {
	tid, err := tenantID(ctx)
	if err != nil {
		return err
	}
	return mapErr(s.tx(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Table("import_jobs").Where("tenant_id = ? AND id = ? AND status = ?", tid, c.JobID, JobUploading).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if c.Data != "" {
			c.TenantID = tid
			if err := tx.Create(c).Error; err != nil {
				return err
			}
		}
		return insertRefusals(tx, tid, c.JobID, refusals)
	}))
}

func insertRefusals(tx *gorm.DB, tid, jobID string, rs []ImportJobRefusal) error {
	if len(rs) == 0 {
		return nil
	}
	for i := range rs {
		rs[i].JobID, rs[i].TenantID = jobID, tid
	}
	return tx.CreateInBatches(rs, 500).Error
}

// SealImportJob ends the upload of a job of the tenant in ctx: its chunks
// are all stored, and lines and refused count what the upload saw.
func (s *Store) SealImportJob(ctx context.Context, jobID string, chunks, lines, refused int) error {
	q, _, err := s.scoped(ctx, "import_jobs")
	if err != nil {
		return err
	}
	status := JobPending
	fields := map[string]any{"chunks": chunks, "lines": lines, "refused": refused, "updated_at": s.now()}
	if chunks == 0 {
		status, fields["finished_at"] = JobDone, s.now()
	}
	fields["status"] = status
	res := q.Where("id = ? AND status = ?", jobID, JobUploading).Updates(fields)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return mapErr(res.Error)
}

// ImportJobByID returns a job of the tenant in ctx.
func (s *Store) ImportJobByID(ctx context.Context, id string) (*ImportJob, error) {
	q, _, err := s.scoped(ctx, "import_jobs")
	if err != nil {
		return nil, err
	}
	var j ImportJob
	return &j, first(q.Where("id = ?", id), &j)
}

// ImportJobRefusals returns up to limit lines a job of the tenant in ctx
// refused, in line order.
func (s *Store) ImportJobRefusals(ctx context.Context, jobID string, limit int) ([]ImportJobRefusal, error) {
	q, _, err := s.scoped(ctx, "import_job_refusals")
	if err != nil {
		return nil, err
	}
	var rs []ImportJobRefusal
	return rs, mapErr(q.Where("job_id = ?", jobID).Order("line").Limit(limit).Find(&rs).Error)
}

// ImportJobChunkAt returns chunk seq of a job of the tenant in ctx.
func (s *Store) ImportJobChunkAt(ctx context.Context, jobID string, seq int) (*ImportJobChunk, error) {
	q, _, err := s.scoped(ctx, "import_job_chunks")
	if err != nil {
		return nil, err
	}
	var c ImportJobChunk
	return &c, first(q.Where("job_id = ? AND seq = ?", jobID, seq), &c)
}

// ClaimImportJob takes the lease of a pending job of any tenant whose
// lease is free or expired, for lease, and returns it; ErrNotFound when
// there is none. Two nodes never hold one job's lease at once.
func (s *Store) ClaimImportJob(ctx context.Context, lease time.Duration) (*ImportJob, error) {
	now := s.now()
	var j ImportJob
	err := s.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("status = ? AND (lease_until IS NULL OR lease_until < ?)", JobPending, now).Order("created_at")
		if err := first(s.forUpdate(q), &j); err != nil {
			return err
		}
		until := now.Add(lease)
		res := tx.Table("import_jobs").Where("id = ? AND status = ? AND (lease_until IS NULL OR lease_until < ?)", j.ID, JobPending, now).
			Updates(map[string]any{"lease_until": until, "updated_at": now})
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		j.LeaseUntil = &until
		return nil
	})
	return &j, mapErr(err)
}

// ImportJobStep imports chunk seq of a job of the tenant in ctx (batch,
// with the lines of the chunk refused before the batch) and records its
// outcome on the job, in one transaction: the chunk counts once, whoever
// imports it. ErrJobMoved when the job is past seq already.
func (s *Store) ImportJobStep(ctx context.Context, jobID string, seq int, batch []ImportUser, refused []ImportJobRefusal, lease time.Duration) (*ImportJob, error) {
	tid, err := tenantID(ctx)
	if err != nil {
		return nil, err
	}
	var j ImportJob
	err = s.tx(ctx, func(tx *gorm.DB) error {
		q := tx.Where("tenant_id = ? AND id = ?", tid, jobID)
		if err := first(s.forUpdate(q), &j); err != nil {
			return err
		}
		if j.Status != JobPending || j.NextChunk != seq {
			return ErrJobMoved
		}
		outs, err := s.importBatch(tx, tid, batch, j.UpdateExisting)
		if err != nil {
			return err
		}
		for i, o := range outs {
			switch o.Status {
			case ImportCreated:
				j.Created++
			case ImportUpdated:
				j.Updated++
			case ImportUnchanged:
				j.Unchanged++
			default:
				j.Refused++
				refused = append(refused, ImportJobRefusal{Line: o.Line, Email: batch[i].Email, Reason: o.Reason})
			}
		}
		j.Refused += len(refused) - countRefused(outs)
		if err := insertRefusals(tx, tid, jobID, refused); err != nil {
			return err
		}
		now := s.now()
		j.NextChunk = seq + 1
		fields := map[string]any{"next_chunk": j.NextChunk, "created": j.Created, "updated": j.Updated, "unchanged": j.Unchanged,
			"refused": j.Refused, "updated_at": now, "lease_until": now.Add(lease)}
		if j.NextChunk >= j.Chunks {
			j.Status, j.FinishedAt = JobDone, &now
			fields["status"], fields["finished_at"], fields["lease_until"] = JobDone, now, nil
			// The input is no longer needed.
			if err := tx.Exec("DELETE FROM import_job_chunks WHERE tenant_id = ? AND job_id = ?", tid, jobID).Error; err != nil {
				return err
			}
		}
		return tx.Table("import_jobs").Where("tenant_id = ? AND id = ?", tid, jobID).Updates(fields).Error
	})
	return &j, mapErr(err)
}

func countRefused(outs []ImportOutcome) int {
	n := 0
	for _, o := range outs {
		if o.Status == ImportRefused {
			n++
		}
	}
	return n
}
