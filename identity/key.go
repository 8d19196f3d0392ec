package identity

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"log/slog"
	"os"
	"sync"
)

// MinKeyBytes is the shortest key accepted: HMAC-SHA-256's block of
// security, so that a pseudonym cannot be reversed by guessing the key.
const MinKeyBytes = 32

// KeyEnv is the environment variable that may hold the key.
const KeyEnv = "COGNITO_EXPORT_HMAC_KEY"

// Key is the pseudonymisation key. It prints, logs and marshals as
// "[redacted]": a key is never logged or written, only its ID.
type Key struct{ b []byte }

func (Key) String() string               { return "[redacted]" }
func (Key) GoString() string             { return "identity.Key{[redacted]}" }
func (Key) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (Key) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// Empty reports whether no key was given.
func (k Key) Empty() bool { return len(k.b) == 0 }

// LoadKey reads the key from a file (--hmac-key-file; one trailing newline
// is not part of it) or else from the environment value (KeyEnv, as
// lookup gives it). Neither set is an empty Key; a key shorter than
// MinKeyBytes is refused. The key never comes from a flag's value, which
// would sit in the process list and the shell's history.
func LoadKey(file string, lookup func(string) (string, bool)) (Key, error) {
	var b []byte
	source := KeyEnv
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Key{}, fmt.Errorf("--hmac-key-file: %w", err)
		}
		b, source = bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r")), "--hmac-key-file "+file
	} else if v, ok := lookup(KeyEnv); ok {
		b = []byte(v)
	}
	if len(b) == 0 {
		return Key{}, nil
	}
	if len(b) < MinKeyBytes {
		return Key{}, fmt.Errorf("the key in %s has %d bytes: pseudonymisation needs at least %d (e.g. openssl rand -hex 32)", source, len(b), MinKeyBytes)
	}
	return Key{b: b}, nil
}

// ErrNoKey is a run that pseudonymises without a key.
var ErrNoKey = errors.New("--pseudonymize needs a key: set " + KeyEnv + " or pass --hmac-key-file (at least 32 bytes, e.g. openssl rand -hex 32)")

// ID identifies the key without revealing it: the first 16 bytes of
// SHA-256 over a label and the key, in hex. Two exports with the same ID
// used the same key, so their pseudonyms compare.
func (k Key) ID() string {
	if k.Empty() {
		return ""
	}
	h := sha256.New()
	h.Write([]byte("cognito-export hmac key id\x00"))
	h.Write(k.b)
	return hex.EncodeToString(h.Sum(nil)[:16])
}

// Pseudonymizer turns values into pseudonyms: hex of
// HMAC-SHA-256(key, attribute name + NUL + value). The attribute name
// keeps equal values of different attributes apart. It is safe for
// concurrent use.
type Pseudonymizer struct {
	pool sync.Pool
}

// NewPseudonymizer returns the pseudonymizer of key.
func NewPseudonymizer(k Key) *Pseudonymizer {
	key := bytes.Clone(k.b)
	return &Pseudonymizer{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, key) }}}
}

// Pseudonym is the pseudonym of attribute's value.
func (p *Pseudonymizer) Pseudonym(attribute, value string) string {
	m := p.pool.Get().(hash.Hash)
	m.Reset()
	m.Write([]byte(attribute))
	m.Write([]byte{0})
	m.Write([]byte(value))
	var sum [sha256.Size]byte
	out := hex.EncodeToString(m.Sum(sum[:0]))
	p.pool.Put(m)
	return out
}
