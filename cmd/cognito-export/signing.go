package main

import (
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"strings"

	"github.com/cognito-export/cognito-export/sink"
	"github.com/cognito-export/cognito-export/sshsig"
)

// signingKeyEnv names the signing key's file when --signing-key does not:
// a file, never the key, which would sit in the process's environment.
const signingKeyEnv = "COGNITO_EXPORT_SIGNING_KEY_FILE"

// signingFlag is --signing-key: the file of the key that signs the
// manifest. The key never comes from a flag's value, which would sit in the
// process list and the shell's history, and is never logged: only its
// fingerprint is.
type signingFlag struct{ file string }

func (f *signingFlag) bind(fs *flag.FlagSet, what string) {
	fs.StringVar(&f.file, "signing-key", "", "file of an OpenSSH ed25519 private key (ssh-keygen -t ed25519, no passphrase) that signs "+what+": manifest.json.sig, checked by verify --allowed-signers and ssh-keygen -Y verify (default: $"+signingKeyEnv+")")
}

// signer loads the key; no file is no signer. Every failure is the user's
// to fix (exit 2), and none quotes the key.
func (f *signingFlag) signer(lookupEnv func(string) (string, bool)) (sink.Signer, error) {
	file, from := f.file, "--signing-key"
	if file == "" {
		file, _ = lookupEnv(signingKeyEnv)
		from = signingKeyEnv
	}
	if file == "" {
		return nil, nil
	}
	if strings.ContainsAny(file, "\n\r") || strings.Contains(file, "PRIVATE KEY") {
		// A key pasted where its file's name goes: not to be echoed.
		return nil, usageError{from + " names the key's file, and holds what looks like the key itself: write the key to a file only the job reads and name that file"}
	}
	s, err := sshsig.LoadSigner(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, usageError{fmt.Sprintf("%s %s: no such file", from, file)}
	}
	if err != nil {
		return nil, usageError{fmt.Sprintf("%s: %v", from, err)}
	}
	return s, nil
}
