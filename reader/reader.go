// Package reader finds and checks an export: it opens a location (a local
// directory or an S3 prefix), reads its manifest, verifies the parts
// against it (Verify) and finds the latest earlier export beside one
// (Latest). It trusts no part the manifest does not vouch for. Streaming
// the rows of the parts is package rowscan's, above it.
//
// It owns the names that mark an export on disk (ManifestName, PartPrefix):
// the export writes them by these constants, so that writer and reader
// cannot drift apart, and the sink below both knows none of them.
package reader

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strconv"
	"strings"

	"github.com/cognito-export/cognito-export/location"
	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

const (
	// ManifestName marks a complete export: it is written last, and only
	// on success, and lists every part with its size, rows and SHA-256.
	ManifestName = "manifest.json"
	// SignatureName is the manifest's signature, when the export was
	// signed: an armored OpenSSH signature (SSHSIG, namespace
	// cognito-export) of the manifest's exact bytes, which ssh-keygen -Y
	// verify checks as CheckSignature does.
	SignatureName = ManifestName + sink.SignatureSuffix
	// PartPrefix starts the name of every part of an export. A file so
	// named that the manifest does not list is an extra part.
	PartPrefix = "part-"
)

// maxManifest bounds the manifest read into memory: a real one holds a
// few hundred bytes per part.
const maxManifest = 64 << 20

// Source is an export's location as the reader sees it: files streamed by
// name and a listing of the names directly under it. localdest.Dir,
// s3dest.Prefix and memdest.Dest are sources.
type Source interface {
	// Open streams a file; a missing one is an error wrapping
	// fs.ErrNotExist.
	Open(ctx context.Context, name string) (io.ReadCloser, error)
	// List returns the names of the files directly under the location.
	List(ctx context.Context) ([]string, error)
	String() string
}

// ErrNoExport is in the chain of every error that says there is no
// complete export at a location: no manifest, or no location at all.
var ErrNoExport = errors.New("no complete export")

// NoExportError says why there is no complete export at a location.
type NoExportError struct {
	Location string
	Reason   string // e.g. "no manifest.json"
}

func (e *NoExportError) Error() string {
	return fmt.Sprintf("no complete export at %s: %s", e.Location, e.Reason)
}

// Unwrap puts ErrNoExport in the chain.
func (e *NoExportError) Unwrap() error { return ErrNoExport }

// Open opens a location for reading: s3://bucket/prefix/ through the S3
// destination (nothing is written there), anything else as an existing
// local directory. A missing directory is a NoExportError.
func Open(ctx context.Context, where string, s3opts s3dest.Options) (Source, error) {
	loc, err := location.Parse(where)
	if err != nil {
		return nil, err
	}
	return openAt(ctx, loc, s3opts)
}

func openAt(ctx context.Context, loc location.Location, s3opts s3dest.Options) (location.Dir, error) {
	d, err := loc.OpenRead(ctx, s3opts)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, &NoExportError{Location: loc.String(), Reason: "no such directory"}
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Manifest is a manifest as read: what it says, and the SHA-256 of its
// bytes, which a report cites to name exactly which export it checked.
type Manifest struct {
	sink.Manifest
	SHA256 string
	// raw are the manifest's bytes as read: its signature signs exactly
	// these, and is checked against them, not against a second read.
	raw []byte
}

// ManifestError is a manifest that is there but cannot be read as one.
// It names where: a run that reads several (the export, the previous one,
// a diff) passes it on as it is.
type ManifestError struct {
	Location string
	Err      error
}

func (e *ManifestError) Error() string {
	return fmt.Sprintf("%s at %s is unreadable: %s", ManifestName, e.Location, escaped(e.Err.Error()))
}
func (e *ManifestError) Unwrap() error { return e.Err }

// ReadManifest reads and decodes the manifest of src. No manifest is a
// NoExportError; one that does not decode is a ManifestError.
func ReadManifest(ctx context.Context, src Source) (Manifest, error) {
	r, err := src.Open(ctx, ManifestName)
	if errors.Is(err, fs.ErrNotExist) {
		return Manifest{}, &NoExportError{Location: src.String(), Reason: "no " + ManifestName}
	}
	if err != nil {
		return Manifest{}, fmt.Errorf("read %s: %w", ManifestName, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, maxManifest+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("read %s: %w", ManifestName, err)
	}
	sum := sha256.Sum256(data)
	m := Manifest{SHA256: hex.EncodeToString(sum[:]), raw: data}
	if len(data) > maxManifest {
		return m, &ManifestError{src.String(), fmt.Errorf("larger than %d bytes", maxManifest)}
	}
	if err := json.Unmarshal(data, &m.Manifest); err != nil {
		return m, &ManifestError{src.String(), err}
	}
	if m.Format == "" || m.SchemaVersion == 0 {
		return m, &ManifestError{src.String(), errors.New("no format or schema_version: not an export's manifest")}
	}
	return m, nil
}

// IsPart reports whether name is a part's name: PartPrefix, directly under
// the location, and printable, so that a problem or an error that names a
// part cannot act on the terminal that shows it (a name the manifest lists
// is the manifest's word).
func IsPart(name string) bool {
	return strings.HasPrefix(name, PartPrefix) && !strings.ContainsAny(name, `/\`) && !strings.Contains(name, "..") && printable(name)
}

// escaped is s with every character that is not printable escaped as Go
// would in a string literal: the manifest's bytes reach an error through
// the JSON decoder's (a timestamp that does not parse is quoted raw).
func escaped(s string) string {
	if printable(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if strconv.IsPrint(r) {
			b.WriteRune(r)
		} else {
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String()
}

// printable reports whether s shows as it is: no control character, no
// bidirectional override, nothing that is not a graphic character or a space.
func printable(s string) bool {
	for _, r := range s {
		if !strconv.IsPrint(r) {
			return false
		}
	}
	return true
}
