package admin

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/gatehouse-id/gatehouse/tenants"
)

// An import job is ImportUsers in the background: StartImportJob stores
// the input in chunks (a batch each) and returns at once; every node's
// RunImportJobs takes the lease of a pending job and imports its next
// chunk, recording the chunk's outcome on the job in the chunk's own
// transaction, so that a node that stops mid-way leaves the job where its
// last chunk ended, for another node to resume when the lease expires.

// ImportJob is the public view of an import job.
type ImportJob struct {
	ID        string         `json:"id"`
	Status    string         `json:"status" enum:"uploading,pending,done"`
	Update    bool           `json:"update"`
	Chunks    int            `json:"chunks"`
	Done      int            `json:"chunks_done"`
	Summary   ImportSummary  `json:"summary"`
	Refusals  []ImportResult `json:"refused,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	Finished  *time.Time     `json:"finished_at,omitempty"`
}

// maxChunkBytes bounds the stored input of one chunk.
const maxChunkBytes = 4 << 20

// importLease is how long a node holds a job between chunks before
// another may take it over.
const importLease = time.Minute

// maxJobRefusals is how many refused lines a job's view lists.
const maxJobRefusals = 1000

func jobView(j *tenants.ImportJob, rs []tenants.ImportJobRefusal) *ImportJob {
	v := &ImportJob{ID: j.ID, Status: j.Status, Update: j.UpdateExisting, Chunks: j.Chunks, Done: j.NextChunk,
		Summary:   ImportSummary{Lines: j.Lines, Created: j.Created, Updated: j.Updated, Unchanged: j.Unchanged, Refused: j.Refused},
		CreatedAt: j.CreatedAt, Finished: j.FinishedAt}
	for _, r := range rs {
		v.Refusals = append(v.Refusals, ImportResult{Line: r.Line, Status: tenants.ImportRefused, Email: r.Email, Reason: r.Reason})
	}
	return v
}

// StartImportJob stores an NDJSON stream of users as an import job of the
// tenant in ctx and returns it, pending: the nodes' RunImportJobs import
// it. Lines too long are refused as they are read; the others are checked
// when their chunk is imported.
func (s *Service) StartImportJob(ctx context.Context, r io.Reader, opts ImportOptions) (*ImportJob, error) {
	t, err := s.require(ctx, ScopeTenantsWrite)
	if err != nil {
		return nil, err
	}
	p, _ := principal(ctx)
	j := &tenants.ImportJob{Kind: "users", UpdateExisting: opts.Update, Actor: p.Kind + ":" + p.ID}
	if err := s.store.CreateImportJob(ctx, j); err != nil {
		return nil, err
	}
	lr := newLineReader(r)
	var buf bytes.Buffer
	var refused []tenants.ImportJobRefusal
	chunks, lines, inChunk, first, tooLong := 0, 0, 0, 0, 0
	flush := func() error {
		if buf.Len() == 0 && len(refused) == 0 {
			return nil
		}
		c := &tenants.ImportJobChunk{JobID: j.ID, Seq: chunks, FirstLine: first, Data: buf.String()}
		if err := s.store.AddImportChunk(ctx, c, refused); err != nil {
			return err
		}
		if buf.Len() > 0 {
			chunks++
		}
		buf.Reset()
		refused, inChunk = refused[:0], 0
		return nil
	}
	for {
		raw, line, err := lr.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, errLineTooLong) {
			return nil, fmt.Errorf("read the import: %w", err)
		}
		lines++
		if err != nil {
			tooLong++
			refused = append(refused, tenants.ImportJobRefusal{Line: line, Reason: err.Error()})
		} else {
			if inChunk == 0 {
				first = line
			}
			buf.WriteString(strconv.Itoa(line))
			buf.WriteByte('\t')
			buf.Write(bytes.ReplaceAll(raw, []byte("\n"), nil))
			buf.WriteByte('\n')
			inChunk++
		}
		if inChunk >= importBatch || buf.Len() >= maxChunkBytes || len(refused) >= importBatch {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	if err := s.store.SealImportJob(ctx, j.ID, chunks, lines, tooLong); err != nil {
		return nil, err
	}
	if err := s.audit(ctx, t, ActionUsersImportStarted, "import_job", j.ID, nil, map[string]any{"lines": lines, "update": opts.Update}); err != nil {
		return nil, err
	}
	return s.GetImportJob(ctx, j.ID)
}

// GetImportJob returns an import job of the tenant in ctx with the lines
// it refused (the first thousand).
func (s *Service) GetImportJob(ctx context.Context, id string) (*ImportJob, error) {
	if _, err := s.require(ctx, ScopeTenantsRead); err != nil {
		return nil, err
	}
	j, err := s.store.ImportJobByID(ctx, id)
	if err != nil {
		return nil, err
	}
	rs, err := s.store.ImportJobRefusals(ctx, id, maxJobRefusals)
	if err != nil {
		return nil, err
	}
	return jobView(j, rs), nil
}

// importWorker is the principal that runs import jobs on a node.
func importWorker() *Principal {
	return &Principal{Kind: KindCLI, ID: "import-job", Name: "import job", Operator: true, Scopes: []string{ScopeTenantsWrite}}
}

// WorkImportJob takes one pending job (of any tenant) whose lease is free
// and imports up to maxChunks of its chunks; it reports whether it found
// one. lease is how long the job stays this node's between chunks.
func (s *Service) WorkImportJob(ctx context.Context, maxChunks int, lease time.Duration) (bool, error) {
	j, err := s.store.ClaimImportJob(ctx, lease)
	if errors.Is(err, tenants.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	t, err := s.store.TenantByID(ctx, j.TenantID)
	if err != nil {
		return true, err
	}
	tctx := tenants.WithTenant(WithPrincipal(ctx, importWorker()), t)
	names, err := s.importNames(tctx)
	if err != nil {
		return true, err
	}
	for n := 0; n < maxChunks && j.Status == tenants.JobPending && j.NextChunk < j.Chunks; n++ {
		c, err := s.store.ImportJobChunkAt(tctx, j.ID, j.NextChunk)
		if err != nil {
			return true, err
		}
		batch, refused := parseChunk(c.Data, names)
		next, err := s.store.ImportJobStep(tctx, j.ID, c.Seq, batch, refused, lease)
		if errors.Is(err, tenants.ErrJobMoved) {
			return true, nil // another node took it over
		}
		if err != nil {
			return true, err
		}
		j = next
	}
	if j.Status == tenants.JobDone {
		sum := ImportSummary{Lines: j.Lines, Created: j.Created, Updated: j.Updated, Unchanged: j.Unchanged, Refused: j.Refused}
		return true, s.audit(tctx, t, ActionUsersImported, "import_job", j.ID, nil, sum)
	}
	return true, nil
}

// parseChunk checks the lines of a stored chunk.
func parseChunk(data string, names *importNames) ([]tenants.ImportUser, []tenants.ImportJobRefusal) {
	var batch []tenants.ImportUser
	var refused []tenants.ImportJobRefusal
	for _, l := range strings.Split(strings.TrimSuffix(data, "\n"), "\n") {
		num, raw, _ := strings.Cut(l, "\t")
		line, _ := strconv.Atoi(num)
		u, err := parseRecord([]byte(raw), line, names)
		if err != nil {
			refused = append(refused, tenants.ImportJobRefusal{Line: line, Reason: err.Error()})
			continue
		}
		batch = append(batch, *u)
	}
	return batch, refused
}

// RunImportJobs imports pending jobs until ctx ends, looking for one
// every interval (and at once after one).
func (s *Service) RunImportJobs(ctx context.Context, interval time.Duration) {
	for {
		found, err := s.WorkImportJob(ctx, 1<<30, importLease)
		if err != nil && ctx.Err() == nil {
			tenants.Logger(ctx).WarnContext(ctx, "import job", "err", err)
		}
		if found && err == nil {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(interval):
		}
	}
}
