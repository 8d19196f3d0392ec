package sshsig

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// maxAllowedSigners bounds an allowed_signers file: a line is ~100 bytes.
const maxAllowedSigners = 16 << 20

// AllowedSigner is one line of an allowed_signers file (ssh-keygen(1),
// ALLOWED SIGNERS): the identities (principals, patterns) that may sign
// with a key, and for which namespaces and when.
type AllowedSigner struct {
	Line          int
	Principals    string // comma-separated patterns, as in ssh_config(5)
	CertAuthority bool   // the key signs certificates, not files
	Namespaces    string // comma-separated patterns; "" allows every namespace
	ValidAfter    time.Time
	ValidBefore   time.Time
	Key           ssh.PublicKey
}

// AllowedSigners is an allowed_signers file as read, and where from.
type AllowedSigners struct {
	File    string
	Signers []AllowedSigner
}

// LoadAllowedSigners reads an allowed_signers file.
func LoadAllowedSigners(file string) (*AllowedSigners, error) {
	info, err := os.Stat(file)
	if err != nil {
		return nil, err
	}
	if info.Size() > maxAllowedSigners {
		return nil, fmt.Errorf("%s: %d bytes: larger than any allowed_signers file should be (%d)", file, info.Size(), maxAllowedSigners)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	signers, err := ParseAllowedSigners(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &AllowedSigners{File: file, Signers: signers}, nil
}

// ParseAllowedSigners reads the lines of an allowed_signers file:
// "principals [options] keytype base64-key [comment]", blank lines and
// #-comments skipped. An error names the line.
func ParseAllowedSigners(data []byte) ([]AllowedSigner, error) {
	if len(data) > maxAllowedSigners {
		return nil, fmt.Errorf("%d bytes: larger than any allowed_signers file should be (%d)", len(data), maxAllowedSigners)
	}
	var out []AllowedSigner
	for i, line := range bytes.Split(data, []byte("\n")) {
		text := strings.TrimSpace(strings.TrimSuffix(string(line), "\r"))
		if text == "" || text[0] == '#' {
			continue
		}
		s, err := parseLine(text)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		s.Line = i + 1
		out = append(out, s)
	}
	return out, nil
}

func parseLine(text string) (AllowedSigner, error) {
	var s AllowedSigner
	principals, rest, err := field(text)
	if err != nil {
		return s, err
	}
	if unq, ok := unquote(principals); ok {
		principals = unq
	}
	if principals == "" {
		return s, errors.New("no principals")
	}
	s.Principals = principals
	key, err := parseKey(rest)
	if err != nil && keyType(rest) {
		return s, err
	}
	if err != nil {
		// Not a key: the options come first.
		var opts string
		if opts, rest, err = field(rest); err != nil {
			return s, err
		}
		if err := s.options(opts); err != nil {
			return s, err
		}
		if key, err = parseKey(rest); err != nil {
			return s, err
		}
	}
	s.Key = key
	return s, nil
}

// field splits off the first whitespace-separated field of s, in which
// double quotes may hold spaces.
func field(s string) (string, string, error) {
	quoted := false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case !quoted && (r == ' ' || r == '\t'):
			return s[:i], strings.TrimLeft(s[i:], " \t"), nil
		}
	}
	if quoted {
		return "", "", errors.New("a quote that does not close")
	}
	return s, "", nil
}

// keyType reports whether s starts with what only a key type looks like.
func keyType(s string) bool {
	for _, p := range []string{"ssh-", "ecdsa-", "sk-", "rsa-"} {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// parseKey reads "keytype base64 [comment]".
func parseKey(s string) (ssh.PublicKey, error) {
	typ, rest, _ := strings.Cut(s, " ")
	b64, _, _ := strings.Cut(strings.TrimLeft(rest, " \t"), " ")
	if typ == "" || b64 == "" {
		return nil, errors.New("no key: want principals, options, key type and base64 key")
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		return nil, fmt.Errorf("key %q: not base64", typ)
	}
	key, err := ssh.ParsePublicKey(raw)
	if err != nil {
		// x/crypto's error may quote the key's bytes.
		return nil, fmt.Errorf("key %q: not a public key OpenSSH knows", typ)
	}
	if key.Type() != typ {
		return nil, fmt.Errorf("key type %q, but the key is %s", typ, key.Type())
	}
	return key, nil
}

// options reads the comma-separated options of a line: cert-authority,
// namespaces="...", valid-after="..." and valid-before="...".
func (s *AllowedSigner) options(opts string) error {
	for opts != "" {
		var opt string
		opt, opts = splitOption(opts)
		name, value, hasValue := strings.Cut(opt, "=")
		if hasValue {
			v, ok := unquote(value)
			if !ok {
				return fmt.Errorf("option %q: want a double-quoted value", name)
			}
			value = v
		}
		var err error
		switch strings.ToLower(name) {
		case "cert-authority":
			s.CertAuthority = true
		case "namespaces":
			s.Namespaces = value
		case "valid-after":
			s.ValidAfter, err = parseTime(value)
		case "valid-before":
			s.ValidBefore, err = parseTime(value)
		default:
			return fmt.Errorf("unknown option %q", opt)
		}
		if err != nil {
			return fmt.Errorf("option %q: %w", name, err)
		}
	}
	return nil
}

// splitOption splits off the first option at a comma outside quotes.
func splitOption(s string) (string, string) {
	quoted := false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}

func unquote(v string) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	return v[1 : len(v)-1], true
}

// parseTime reads OpenSSH's YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]: UTC with
// Z, local time without, as ssh-keygen reads them.
func parseTime(v string) (time.Time, error) {
	loc := time.Local
	if t, ok := strings.CutSuffix(v, "Z"); ok {
		v, loc = t, time.UTC
	}
	layouts := map[int]string{8: "20060102", 12: "200601021504", 14: "20060102150405"}
	layout, ok := layouts[len(v)]
	if !ok || strings.Trim(v, "0123456789") != "" {
		return time.Time{}, fmt.Errorf("%q: want YYYYMMDD[Z] or YYYYMMDDHHMM[SS][Z]", v)
	}
	t, err := time.ParseInLocation(layout, v, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q: %w", v, err)
	}
	return t, nil
}

// ErrUntrusted is in the chain of the error of a signature whose key the
// allowed_signers file does not allow for the identity and namespace.
var ErrUntrusted = errors.New("the signer is not allowed")

// Allow finds the lines that let key sign in namespace at now, for
// identity ("" for any identity, as ssh-keygen -Y find-principals does),
// and returns their principals. None is ErrUntrusted, saying why.
func (a *AllowedSigners) Allow(key ssh.PublicKey, namespace, identity string, now time.Time) ([]string, error) {
	var principals []string
	sameKey := false
	for _, s := range a.Signers {
		if s.CertAuthority || !bytes.Equal(s.Key.Marshal(), key.Marshal()) {
			continue
		}
		sameKey = true
		if s.Namespaces != "" && !MatchList(namespace, s.Namespaces) {
			continue
		}
		if !s.ValidAfter.IsZero() && now.Before(s.ValidAfter) || !s.ValidBefore.IsZero() && now.After(s.ValidBefore) {
			continue
		}
		if identity != "" && !MatchList(identity, s.Principals) {
			continue
		}
		principals = append(principals, s.Principals)
	}
	fp := ssh.FingerprintSHA256(key)
	switch {
	case principals != nil:
		return principals, nil
	case !sameKey:
		return nil, fmt.Errorf("%w: key %s is not in %s", ErrUntrusted, fp, a.File)
	case identity != "":
		return nil, fmt.Errorf("%w: %s allows key %s, but not for identity %q in namespace %q now", ErrUntrusted, a.File, fp, identity, namespace)
	}
	return nil, fmt.Errorf("%w: %s allows key %s, but not in namespace %q now", ErrUntrusted, a.File, fp, namespace)
}

// MatchList reports whether s matches the comma-separated pattern list,
// as OpenSSH's match_pattern_list does: * and ? wildcards, and a pattern
// starting with ! that matches refuses s whatever the others say.
func MatchList(s, list string) bool {
	matched := false
	for _, p := range strings.Split(list, ",") {
		neg := strings.HasPrefix(p, "!")
		p = strings.TrimPrefix(p, "!")
		if matchPattern(s, p) {
			if neg {
				return false
			}
			matched = true
		}
	}
	return matched
}

// matchPattern matches s against one pattern of * and ? wildcards, in
// time proportional to len(s)*len(p) at most.
func matchPattern(s, p string) bool {
	// The classic two-pointer glob: back up to the last * on a mismatch.
	si, pi, star, mark := 0, 0, -1, 0
	for si < len(s) {
		switch {
		case pi < len(p) && (p[pi] == '?' || p[pi] == s[si]):
			si, pi = si+1, pi+1
		case pi < len(p) && p[pi] == '*':
			star, mark = pi, si
			pi++
		case star >= 0:
			pi, mark = star+1, mark+1
			si = mark
		default:
			return false
		}
	}
	for pi < len(p) && p[pi] == '*' {
		pi++
	}
	return pi == len(p)
}
