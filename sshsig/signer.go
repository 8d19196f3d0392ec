package sshsig

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"golang.org/x/crypto/ssh"
)

// maxPrivateKey bounds a private key file: an OpenSSH ed25519 key is about
// 400 bytes, an RSA one a few KB.
const maxPrivateKey = 64 << 10

// Signer signs with an ed25519 private key. It prints, logs and marshals
// as its public key's fingerprint only: the private key is never logged or
// written.
type Signer struct {
	key ed25519.PrivateKey
	pub ssh.PublicKey
}

// Fingerprint is the public key's fingerprint as ssh-keygen -l prints it.
func (s *Signer) Fingerprint() string { return ssh.FingerprintSHA256(s.pub) }

// PublicKey is the key an allowed_signers line names to trust s.
func (s *Signer) PublicKey() ssh.PublicKey { return s.pub }

func (s *Signer) String() string               { return "ssh signing key " + s.Fingerprint() }
func (s *Signer) GoString() string             { return "sshsig.Signer{" + s.Fingerprint() + "}" }
func (s *Signer) LogValue() slog.Value         { return slog.StringValue(s.Fingerprint()) }
func (s *Signer) MarshalText() ([]byte, error) { return []byte(s.Fingerprint()), nil }

// Sign signs message in Namespace with SHA-512 and returns the armored
// signature, as `ssh-keygen -Y sign -n cognito-export` would.
func (s *Signer) Sign(message []byte) ([]byte, error) {
	digest := sha512.Sum512(message)
	sig, err := ssh.NewSignerFromKey(s.key)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	ssig, err := sig.Sign(rand.Reader, signedData(Namespace, hashSHA512, digest[:]))
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	out := &Signature{PublicKey: s.pub, Namespace: Namespace, HashAlgorithm: hashSHA512, sig: *ssig}
	return out.Armor(), nil
}

// ErrEncrypted is a private key protected by a passphrase: a batch job has
// nobody to type it.
var ErrEncrypted = errors.New("the key is encrypted with a passphrase, which a batch job cannot type: give a key without one (ssh-keygen -t ed25519 -N '' -f FILE), kept where only the job reads it")

// ParsePrivateKey reads an OpenSSH private key (ssh-keygen -t ed25519). An
// encrypted key is ErrEncrypted; a key of another type is refused. Errors
// never quote the key's bytes.
func ParsePrivateKey(data []byte) (*Signer, error) {
	if len(data) > maxPrivateKey {
		return nil, fmt.Errorf("%d bytes: larger than any OpenSSH private key", len(data))
	}
	raw, err := ssh.ParseRawPrivateKey(data)
	var missing *ssh.PassphraseMissingError
	if errors.As(err, &missing) {
		return nil, ErrEncrypted
	}
	if err != nil {
		return nil, errors.New("not an OpenSSH private key (want the file ssh-keygen -t ed25519 writes, beginning -----BEGIN OPENSSH PRIVATE KEY-----)")
	}
	var key ed25519.PrivateKey
	switch k := raw.(type) {
	case *ed25519.PrivateKey:
		key = *k
	case ed25519.PrivateKey:
		key = k
	default:
		return nil, errors.New("not an ed25519 key: only ed25519 keys sign exports (ssh-keygen -t ed25519)")
	}
	if len(key) != ed25519.PrivateKeySize {
		return nil, errors.New("an ed25519 key of the wrong size")
	}
	pub, err := ssh.NewPublicKey(key.Public())
	if err != nil {
		return nil, errors.New("its public key is not one OpenSSH knows")
	}
	return &Signer{key: key, pub: pub}, nil
}

// LoadSigner reads the private key in file. The error names the file,
// never the key's bytes.
func LoadSigner(file string) (*Signer, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data := make([]byte, maxPrivateKey+1)
	n, err := readFull(f, data)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", file, err)
	}
	s, err := ParsePrivateKey(data[:n])
	clear(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return s, nil
}

func readFull(f *os.File, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := f.Read(buf[n:])
		n += m
		if err != nil {
			if errors.Is(err, io.EOF) {
				return n, nil
			}
			return n, err
		}
	}
	return n, nil
}
