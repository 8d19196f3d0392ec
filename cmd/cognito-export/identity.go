package main

import (
	"flag"

	"github.com/cognito-export/cognito-export/export"
	"github.com/cognito-export/cognito-export/identity"
)

// identityFlags are the flags that say which user attributes an export
// carries and what is done to them.
type identityFlags struct {
	attributes, pseudonymize, redact string
	keyFile                          string
}

func (f *identityFlags) bind(fs *flag.FlagSet, cfg *export.Config) {
	fs.StringVar(&f.attributes, "attributes", identity.DefaultAttributes, "user attributes to add as columns, by Cognito's names (email,name,custom:department), or standard, all or none")
	fs.StringVar(&f.pseudonymize, "pseudonymize", "", "exported attributes whose values are replaced by a keyed hash (HMAC-SHA-256, hex), e.g. email,phone_number; the key comes from "+identity.KeyEnv+" or --hmac-key-file")
	fs.StringVar(&f.redact, "redact", "", "exported attributes whose values are dropped (NULL)")
	fs.StringVar(&f.keyFile, "hmac-key-file", "", "file holding the pseudonymisation key (at least 32 bytes); default: $"+identity.KeyEnv)
	fs.BoolVar(&cfg.CSVRaw, "csv-raw", false, "write CSV cells as they are; by default a cell starting with = + - @ or a tab or CR gets a leading ' so that spreadsheets do not run it as a formula")
	fs.StringVar(&cfg.Filter, "filter", "", `export only the users a ListUsers filter selects, e.g. 'email ^= "a"' or 'status = "Enabled"' (per-user strategy)`)
}

// apply sets the lists and the key on cfg. The key is read from a file or
// the environment, never from a flag's value, and is never logged.
func (f *identityFlags) apply(cfg *export.Config, lookupEnv func(string) (string, bool)) error {
	cfg.Attributes = splitList(f.attributes)
	cfg.Pseudonymize = splitList(f.pseudonymize)
	cfg.Redact = splitList(f.redact)
	key, err := identity.LoadKey(f.keyFile, lookupEnv)
	if err != nil {
		return usageError{err.Error()}
	}
	cfg.Key = key
	return nil
}
