package identity_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/identity"
)

var schema = []identity.SchemaAttribute{
	{"sub", "String"}, {"name", "String"}, {"email", "String"}, {"email_verified", "Boolean"},
	{"phone_number", "String"}, {"phone_number_verified", "Boolean"}, {"updated_at", "Number"},
	{"custom:department", "String"}, {"custom:level", "Number"}, {"custom:hired", "DateTime"},
}

func TestColumnNamesNeedNoQuoting(t *testing.T) {
	for attr, want := range map[string]string{
		"email": "email", "custom:department": "custom_department", "custom:Cost-Centre": "custom_cost_centre",
		"dev:custom:x.y": "dev_custom_x_y", "custom:9lives": "custom_9lives",
	} {
		if got := identity.ColumnName(attr); got != want {
			t.Errorf("ColumnName(%q) = %q, want %q", attr, got, want)
		}
	}
}

func TestSelectResolvesNamesKeywordsAndTypes(t *testing.T) {
	tests := []struct {
		list []string
		want string
	}{
		{[]string{"email"}, "email:string"},
		{[]string{"none"}, ""},
		{[]string{"email", "name", "custom:department"}, "email:string name:string custom_department:string"},
		{[]string{"standard"}, "name:string email:string email_verified:boolean phone_number:string phone_number_verified:boolean updated_at:integer"},
		{[]string{"all"}, "name:string email:string email_verified:boolean phone_number:string phone_number_verified:boolean updated_at:integer custom_department:string custom_level:integer custom_hired:string"},
		{[]string{"email", "all"}, "email:string name:string email_verified:boolean phone_number:string phone_number_verified:boolean updated_at:integer custom_department:string custom_level:integer custom_hired:string"},
		{[]string{"sub", "email"}, "email:string"},
	}
	for _, tt := range tests {
		cols, err := identity.Select(tt.list, schema)
		if err != nil {
			t.Fatalf("%v: %v", tt.list, err)
		}
		var got []string
		for _, c := range cols {
			got = append(got, fmt.Sprintf("%s:%s", c.Name, c.Type))
		}
		if strings.Join(got, " ") != tt.want {
			t.Errorf("%v: got %q, want %q", tt.list, strings.Join(got, " "), tt.want)
		}
	}
}

func TestSelectRefusesUnknownNamesWithTheNearest(t *testing.T) {
	_, err := identity.Select([]string{"emial"}, schema)
	if err == nil || !strings.Contains(err.Error(), `no attribute "emial"`) || !strings.Contains(err.Error(), "did you mean email") {
		t.Fatalf("err = %v", err)
	}
	_, err = identity.Select([]string{"custom:departmnt"}, schema)
	if err == nil || !strings.Contains(err.Error(), "custom:department") {
		t.Fatalf("err = %v", err)
	}
	if _, err := identity.Select([]string{"none", "email"}, schema); err == nil {
		t.Fatal("none with email was accepted")
	}
}

func TestTreatNeedsExportedTextColumns(t *testing.T) {
	cols, _ := identity.Select([]string{"email", "email_verified", "name"}, schema)
	got, err := identity.Treat(cols, []string{"email"}, []string{"name"})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Treatment != identity.Pseudonymize || got[2].Treatment != identity.Redact || got[1].Treatment != identity.Plain {
		t.Fatalf("%+v", got)
	}
	if cols[0].Treatment != identity.Plain {
		t.Fatal("Treat changed its input")
	}
	for _, tc := range []struct{ pseudo, redact, msg string }{
		{"phone_number", "", "not an exported attribute"},
		{"email_verified", "", "only text attributes"},
		{"email", "email", "already pseudonymized"},
	} {
		var p, r []string
		if tc.pseudo != "" {
			p = []string{tc.pseudo}
		}
		if tc.redact != "" {
			r = []string{tc.redact}
		}
		if _, err := identity.Treat(cols, p, r); err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%+v: err = %v, want %q", tc, err, tc.msg)
		}
	}
}

func TestKeyIsLoadedCheckedAndNeverShown(t *testing.T) {
	secret := strings.Repeat("k", 40)
	env := func(v string) func(string) (string, bool) {
		return func(name string) (string, bool) { return v, name == identity.KeyEnv && v != "" }
	}
	k, err := identity.LoadKey("", env(secret))
	if err != nil || k.Empty() {
		t.Fatalf("key from the environment: %v", err)
	}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "key", k)
	js, _ := json.Marshal(struct{ K identity.Key }{k})
	for _, shown := range []string{fmt.Sprint(k), fmt.Sprintf("%#v", k), fmt.Sprintf("%+v", k), logs.String(), string(js)} {
		if strings.Contains(shown, secret) {
			t.Fatalf("the key was shown: %s", shown)
		}
	}
	if _, err := identity.LoadKey("", env("short")); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("short key: %v", err)
	}
	file := filepath.Join(t.TempDir(), "key")
	os.WriteFile(file, []byte(secret+"\n"), 0o600)
	fromFile, err := identity.LoadKey(file, env(""))
	if err != nil || fromFile.ID() != k.ID() {
		t.Fatalf("a file with a trailing newline is not the same key: %v", err)
	}
	if none, err := identity.LoadKey("", env("")); err != nil || !none.Empty() || none.ID() != "" {
		t.Fatalf("no key: %v", err)
	}
	other, _ := identity.LoadKey("", env(strings.Repeat("j", 40)))
	if other.ID() == k.ID() || len(k.ID()) != 32 || strings.Contains(k.ID(), secret) {
		t.Fatalf("ids %s %s", k.ID(), other.ID())
	}
}

func TestPseudonymsAreStablePerKeyAndAttribute(t *testing.T) {
	k1, _ := identity.LoadKey("", func(string) (string, bool) { return strings.Repeat("a", 32), true })
	k2, _ := identity.LoadKey("", func(string) (string, bool) { return strings.Repeat("b", 32), true })
	p1, p1again, p2 := identity.NewPseudonymizer(k1), identity.NewPseudonymizer(k1), identity.NewPseudonymizer(k2)
	a := p1.Pseudonym("email", "ann@example.com")
	if a != p1again.Pseudonym("email", "ann@example.com") {
		t.Fatal("same key, same value, different pseudonyms")
	}
	if a == p2.Pseudonym("email", "ann@example.com") || a == p1.Pseudonym("email", "bob@example.com") || a == p1.Pseudonym("name", "ann@example.com") {
		t.Fatal("pseudonyms collide across keys, values or attributes")
	}
	// HMAC-SHA-256 of "email\x00ann@example.com" under 32 "a"s, as
	// openssl computes it: printf 'email\0ann@example.com' | openssl dgst -sha256 -hmac aaaa...
	if want := "89080e48ef556eeccd3336436c78258e03ce2b7b6884dcc5416bbd842326239e"; a != want {
		t.Fatalf("pseudonym %s, openssl says %s", a, want)
	}
}
