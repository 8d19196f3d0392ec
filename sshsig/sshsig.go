// Package sshsig signs and verifies a file's bytes in OpenSSH's signature
// format (PROTOCOL.sshsig), the one `ssh-keygen -Y sign` writes and
// `ssh-keygen -Y verify` checks against an allowed_signers file, so that an
// auditor can check what this program signed with a tool they already
// have and trust, without this program. It reads OpenSSH private keys
// (ed25519, unencrypted), armored signatures and allowed_signers files,
// all bytes from outside the process: each has a fuzz target.
package sshsig

import (
	"bytes"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"strings"

	"golang.org/x/crypto/ssh"
)

// Namespace is the namespace of this program's signatures: a signature
// made for another purpose (a git commit, a file signed by hand with
// another namespace) does not verify as one of ours.
const Namespace = "cognito-export"

const (
	magic       = "SSHSIG"
	version     = 1
	beginArmor  = "-----BEGIN SSH SIGNATURE-----"
	endArmor    = "-----END SSH SIGNATURE-----"
	armorColumn = 70 // ssh-keygen wraps the base64 at 70 columns
	// maxSignature bounds an armored signature: a real one is under 1 KB
	// (ed25519) or a few KB (RSA 8192).
	maxSignature = 64 << 10
	// hashSHA512 is the hash we sign with, ssh-keygen's default.
	hashSHA512 = "sha512"
	hashSHA256 = "sha256"
)

// Signature is an SSHSIG signature as parsed: who signed (the public key
// it carries), for which namespace, over which hash of the message.
// Parsing checks its form only; Verify checks it against a message.
type Signature struct {
	PublicKey     ssh.PublicKey
	Namespace     string
	HashAlgorithm string
	sig           ssh.Signature
}

// Fingerprint is the signer's key fingerprint as ssh-keygen -l prints it
// (SHA256:base64).
func (s *Signature) Fingerprint() string { return ssh.FingerprintSHA256(s.PublicKey) }

// ErrBadSignature is in the chain of every error that says a signature
// does not match the message, or was made for another namespace.
var ErrBadSignature = errors.New("signature does not verify")

// Verify checks that s signs message in namespace. It trusts the key the
// signature carries: whether that key may sign is AllowedSigners' to say.
func (s *Signature) Verify(namespace string, message []byte) error {
	if s.Namespace != namespace {
		return fmt.Errorf("%w: made for namespace %q, not %q", ErrBadSignature, s.Namespace, namespace)
	}
	h, err := newHash(s.HashAlgorithm)
	if err != nil {
		return err
	}
	h.Write(message)
	if s.sig.Format == ssh.KeyAlgoRSA {
		// SHA-1 RSA signatures are refused by OpenSSH for SSHSIG.
		return fmt.Errorf("%w: RSA signature with SHA-1 (ssh-rsa)", ErrBadSignature)
	}
	if err := s.PublicKey.Verify(signedData(namespace, s.HashAlgorithm, h.Sum(nil)), &s.sig); err != nil {
		return fmt.Errorf("%w by key %s", ErrBadSignature, s.Fingerprint())
	}
	return nil
}

func newHash(alg string) (hash.Hash, error) {
	switch alg {
	case hashSHA512:
		return sha512.New(), nil
	case hashSHA256:
		return sha256.New(), nil
	}
	return nil, fmt.Errorf("hash algorithm %q: SSHSIG uses sha256 or sha512", alg)
}

// signedData is what the key signs: the preamble, the namespace, an empty
// reserved string, the hash's name and the message's hash.
func signedData(namespace, alg string, digest []byte) []byte {
	var b []byte
	b = append(b, magic...)
	b = appendString(b, []byte(namespace))
	b = appendString(b, nil)
	b = appendString(b, []byte(alg))
	return appendString(b, digest)
}

func appendString(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// blob is the signature's binary form, before armoring.
func (s *Signature) blob() []byte {
	var b []byte
	b = append(b, magic...)
	b = binary.BigEndian.AppendUint32(b, version)
	b = appendString(b, s.PublicKey.Marshal())
	b = appendString(b, []byte(s.Namespace))
	b = appendString(b, nil)
	b = appendString(b, []byte(s.HashAlgorithm))
	return appendString(b, ssh.Marshal(s.sig))
}

// Armor is the signature as ssh-keygen writes it to FILE.sig.
func (s *Signature) Armor() []byte {
	enc := base64.StdEncoding.EncodeToString(s.blob())
	var b bytes.Buffer
	b.WriteString(beginArmor + "\n")
	for len(enc) > armorColumn {
		b.WriteString(enc[:armorColumn] + "\n")
		enc = enc[armorColumn:]
	}
	b.WriteString(enc + "\n" + endArmor + "\n")
	return b.Bytes()
}

// ParseSignature reads an armored signature, as ssh-keygen -Y sign writes
// it. Every length in it is held to the bytes there.
func ParseSignature(armored []byte) (*Signature, error) {
	if len(armored) > maxSignature {
		return nil, fmt.Errorf("%d bytes: larger than any SSH signature (%d at most)", len(armored), maxSignature)
	}
	text := strings.TrimSpace(strings.ReplaceAll(string(armored), "\r\n", "\n"))
	body, ok := strings.CutPrefix(text, beginArmor)
	if !ok {
		return nil, errors.New("not an armored SSH signature: no " + beginArmor + " line")
	}
	if body, ok = strings.CutSuffix(body, endArmor); !ok {
		return nil, errors.New("armored SSH signature without its " + endArmor + " line")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(body), ""))
	if err != nil {
		return nil, fmt.Errorf("armored SSH signature: %w", err)
	}
	return parseBlob(raw)
}

func parseBlob(raw []byte) (*Signature, error) {
	w := wire{b: raw}
	if string(w.bytes(len(magic))) != magic {
		return nil, errors.New("SSH signature without its SSHSIG preamble")
	}
	if v := w.uint32(); v != version {
		return nil, fmt.Errorf("SSH signature version %d: only version %d is known", v, version)
	}
	pub, ns, reserved, alg, sigBlob := w.string(), w.string(), w.string(), w.string(), w.string()
	if w.err != nil {
		return nil, fmt.Errorf("SSH signature: %w", w.err)
	}
	if len(w.b) != 0 {
		return nil, fmt.Errorf("SSH signature: %d bytes after its end", len(w.b))
	}
	_ = reserved // ignored, as OpenSSH does
	key, err := ssh.ParsePublicKey(pub)
	if err != nil {
		// x/crypto's error may quote the key's bytes: not for a terminal.
		return nil, errors.New("SSH signature: its public key is not one OpenSSH knows")
	}
	if _, err := newHash(string(alg)); err != nil {
		return nil, fmt.Errorf("SSH signature: hash algorithm %q: SSHSIG uses sha256 or sha512", alg)
	}
	s := &Signature{PublicKey: key, Namespace: string(ns), HashAlgorithm: string(alg)}
	sw := wire{b: sigBlob}
	s.sig.Format = string(sw.string())
	s.sig.Blob = sw.string()
	s.sig.Rest = sw.b
	if sw.err != nil {
		return nil, fmt.Errorf("SSH signature: its signature: %w", sw.err)
	}
	if s.Namespace == "" {
		return nil, errors.New("SSH signature without a namespace")
	}
	return s, nil
}

// wire reads SSH's wire encoding; the first short read sticks in err.
type wire struct {
	b   []byte
	err error
}

func (w *wire) bytes(n int) []byte {
	if w.err != nil {
		return nil
	}
	if n < 0 || n > len(w.b) {
		w.err = fmt.Errorf("a field of %d bytes where %d are left", n, len(w.b))
		return nil
	}
	out := w.b[:n]
	w.b = w.b[n:]
	return out
}

func (w *wire) uint32() uint32 {
	b := w.bytes(4)
	if b == nil {
		return 0
	}
	return binary.BigEndian.Uint32(b)
}

func (w *wire) string() []byte {
	n := w.uint32()
	if w.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(w.b)) {
		w.err = fmt.Errorf("a string of %d bytes where %d are left", n, len(w.b))
		return nil
	}
	return w.bytes(int(n))
}
