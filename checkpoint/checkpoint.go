// Package checkpoint holds the resume state of an export and keeps it in a
// durable store: the ListUsers watermark, the committed parts and counters,
// and the parameters that produced them.
package checkpoint

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Version is the checkpoint file format; a different one is refused.
const Version = 1

// Part is one committed part.
type Part struct {
	Name   string `json:"name"`
	Rows   int64  `json:"rows"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// State is everything a resume needs. Parts named here are committed: they
// hold every row of every ListUsers page before the watermark and nothing
// else, so a resume continues at Watermark and re-fetches nothing twice.
type State struct {
	Version int `json:"version"`
	// Params are the run's parameters; a resume with other values is refused.
	Params map[string]string `json:"params"`
	// Watermark is the ListUsers PaginationToken of the oldest page not yet
	// committed; empty with Pages == 0 means "from the start".
	Watermark string `json:"watermark,omitempty"`
	// Pages counts the ListUsers pages committed.
	Pages    int64     `json:"pages"`
	Parts    []Part    `json:"parts"`
	Users    int64     `json:"users"`
	Rows     int64     `json:"rows"`
	Skipped  int64     `json:"skipped"`
	Started  time.Time `json:"started"`
	Saved    time.Time `json:"saved"`
	Checksum string    `json:"checksum"`
	// Listed marks that the listing is finished: only the manifest is left.
	Listed bool `json:"listed,omitempty"`
	// DoneFiles name the files that list the users already committed (as
	// 64-bit hashes of their usernames), one per commit. They are read only
	// when Cognito rejects the watermark token and the listing must restart.
	DoneFiles []string `json:"done_files,omitempty"`

	// The by-group strategy's group phase. Groups is its plan: every group,
	// in order, with how far its member list is committed. Once GroupsDone,
	// the ListUsers pass for users without groups runs on Watermark, Pages
	// and DoneFiles as the per-user strategy does.
	Groups     []GroupCursor `json:"groups,omitempty"`
	GroupsDone bool          `json:"groups_done,omitempty"`
	// MemberFiles name the files of (group, user) hash pairs committed by
	// the group phase: the users that have groups, for the ListUsers pass,
	// and a group's committed members, for a rejected token.
	MemberFiles []string `json:"member_files,omitempty"`
}

// GroupCursor is how far one group's ListUsersInGroup pages are committed.
type GroupCursor struct {
	Name string `json:"name"`
	// Token is the NextToken of the first page not committed; empty with
	// Pages == 0 means from the start.
	Token string `json:"token,omitempty"`
	Pages int64  `json:"pages,omitempty"`
	Done  bool   `json:"done,omitempty"`
	// Restarted marks a member list listed again from the start after its
	// token was rejected: members already committed must be skipped.
	Restarted bool `json:"restarted,omitempty"`
}

// ErrCorrupt marks a checkpoint that exists but cannot be trusted.
var ErrCorrupt = errors.New("checkpoint is corrupt")

// Blob is the durable object the checkpoint lives in: a local file written
// atomically or an S3 object written with a single PUT.
type Blob interface {
	Put(ctx context.Context, name string, data []byte) error
	Get(ctx context.Context, name string) ([]byte, error) // (nil, nil) when absent
	Delete(ctx context.Context, name string) error
}

// Store reads and writes one checkpoint.
type Store struct {
	blob Blob
	name string
	desc string // for messages, e.g. the path or s3:// URL
}

// NewStore keeps the checkpoint as name in blob; desc names it in messages.
func NewStore(blob Blob, name, desc string) *Store {
	return &Store{blob: blob, name: name, desc: desc}
}

func (s *Store) String() string { return s.desc }

// Load returns the saved state, or nil when there is none. A torn or
// tampered checkpoint is an error, never "start from scratch": committed
// parts would otherwise be duplicated or lost.
func (s *Store) Load(ctx context.Context) (*State, error) {
	data, err := s.blob.Get(ctx, s.name)
	if err != nil {
		return nil, fmt.Errorf("read checkpoint %s: %w", s.desc, err)
	}
	if data == nil {
		return nil, nil
	}
	var st State
	if err := json.Unmarshal(data, &st); err != nil {
		// Quoted: the decoder's message may hold the file's bytes (a
		// time that does not parse), control characters included.
		return nil, fmt.Errorf("%w: %s does not parse (%q): restore it, or pass --fresh to start over", ErrCorrupt, s.desc, err.Error())
	}
	if st.Version != Version {
		return nil, fmt.Errorf("%w: %s has version %d, this build reads %d: pass --fresh to start over", ErrCorrupt, s.desc, st.Version, Version)
	}
	if want := st.checksum(); st.Checksum != want {
		return nil, fmt.Errorf("%w: %s fails its checksum: restore it, or pass --fresh to start over", ErrCorrupt, s.desc)
	}
	return &st, nil
}

// Save writes st durably; only then are its parts committed.
func (s *Store) Save(ctx context.Context, st *State) error {
	st.Version = Version
	st.Checksum = st.checksum()
	data, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return fmt.Errorf("encode checkpoint: %w", err)
	}
	if err := s.blob.Put(ctx, s.name, append(data, '\n')); err != nil {
		return fmt.Errorf("write checkpoint %s: %w", s.desc, err)
	}
	return nil
}

// Delete removes the checkpoint once the export is complete.
func (s *Store) Delete(ctx context.Context) error {
	if err := s.blob.Delete(ctx, s.name); err != nil {
		return fmt.Errorf("remove checkpoint %s: %w", s.desc, err)
	}
	return nil
}

// checksum covers every field but itself, so that an edit by hand or a
// partial write that still parses is caught.
func (st State) checksum() string {
	st.Checksum = ""
	data, _ := json.Marshal(st)
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// Mismatch names the first parameter that differs between a checkpoint and
// the run that wants to resume it, or "" when they agree.
func Mismatch(saved, current map[string]string) string {
	keys := make([]string, 0, len(saved)+len(current))
	for k := range saved {
		keys = append(keys, k)
	}
	for k := range current {
		if _, ok := saved[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var diffs []string
	for _, k := range keys {
		if saved[k] != current[k] {
			diffs = append(diffs, fmt.Sprintf("%s is %q in the checkpoint but %q now", k, saved[k], current[k]))
		}
	}
	return strings.Join(diffs, "; ")
}
