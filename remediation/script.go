package remediation

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/cognito-export/cognito-export/decisions"
)

// Script is what a remediation script says and does.
type Script struct {
	PoolID, Region string
	Generator      string
	WrittenAt      time.Time
	// Export and ExportSHA256 name the export the revocations were checked
	// against; DecisionsFile the reviewers' decisions.
	Export, ExportSHA256, DecisionsFile string
	ExportedAt                          time.Time
	// Remove are the revocations the export still holds: one command each.
	Remove []decisions.Decision
	// Gone are revocations the export no longer holds, and Recreated those
	// whose username now belongs to another user (another sub), which the
	// script must not touch: comments, so the script accounts for every
	// revocation.
	Gone, Recreated []decisions.Decision
	// Policy is the name of the policy file written beside the script.
	Policy string
}

// Quote returns s as one word for a POSIX shell: in single quotes, inside
// which the shell expands, substitutes and splits nothing; a single quote
// itself closes the quotes, is escaped, and reopens them ('\”). It is
// the only way a value reaches the script's commands.
func Quote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// commentValue makes a value safe on a comment line: double-quoted with Go's
// escapes, so a line break, a carriage return, a terminal escape or a
// bidirectional override cannot end the comment, start a command or make
// the line read otherwise than it runs.
func commentValue(s string) string { return strconv.Quote(s) }

// paramfilePrefixes are the prefixes with which the AWS CLI replaces an
// argument by a file's contents (file://, fileb://; version 1 fetched
// http:// and https:// URLs too), after expanding ~ and $VARIABLES in the
// path. A username such as file://~/.aws/credentials is a valid Cognito
// username: given as --username it would send the administrator's
// credentials to Cognito as a username.
var paramfilePrefixes = []string{"file://", "fileb://", "http://", "https://"}

// asOption reports whether s can be given as --option='s': the CLI takes
// it as it is (no paramfile prefix), and it is a name Cognito allows
// (letters, marks, symbols, numbers, punctuation: no space, no line break,
// no control or format character), so the command stays one plain line.
// Anything else goes through --cli-input-json, whose members the CLI takes
// as they are, written in ASCII.
func asOption(s string) bool {
	l := strings.ToLower(s)
	for _, p := range paramfilePrefixes {
		if strings.HasPrefix(l, p) {
			return false
		}
	}
	for _, r := range s {
		if !unicode.In(r, unicode.L, unicode.M, unicode.S, unicode.N, unicode.P) {
			return false
		}
	}
	return s != ""
}

// removeCommand is the command that removes d's membership. The values are
// given as --option=value, so that one starting with "-" is not taken for
// an option.
func removeCommand(poolID string, d decisions.Decision) string {
	const head = `$run aws --region "$region" cognito-idp admin-remove-user-from-group `
	if !asOption(d.Username) || !asOption(d.Group) || !asOption(poolID) {
		input := `{"UserPoolId":` + asciiJSON(poolID) + `,"Username":` + asciiJSON(d.Username) + `,"GroupName":` + asciiJSON(d.Group) + `}`
		// Not --cli-input-json=...: the CLI (2.9) recognises the option only
		// as a word of its own. The value starts with "{", never "-".
		return head + "--cli-input-json " + Quote(input)
	}
	return head + "--user-pool-id=" + Quote(poolID) + " --username=" + Quote(d.Username) + " --group-name=" + Quote(d.Group)
}

// asciiJSON is s as a JSON string of printable ASCII without spaces: every
// other character escaped (\uXXXX, surrogate pairs above U+FFFF), so that
// the word is one line, reads the same in any terminal, and cannot be split.
func asciiJSON(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s { // valid UTF-8: WriteScript refuses the rest
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r > ' ' && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// decisionComment is the line above a command: which decision it carries
// out, made by whom and when.
func decisionComment(d decisions.Decision) string {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s of %s in %s (sub %s): decided by %s at %s", d.Verdict, commentValue(d.Username), commentValue(d.Group),
		commentValue(d.Sub), commentValue(d.Reviewer), d.DecidedAt.UTC().Format(time.RFC3339))
	if d.Comment != "" {
		fmt.Fprintf(&b, ", comment %s", commentValue(d.Comment))
	}
	if d.Line > 0 {
		fmt.Fprintf(&b, " (line %d)", d.Line)
	}
	return b.String()
}

// usage is the script's own command line, in its header and in its errors.
const usage = `sh %s [--dry-run] [--region REGION]`

// WriteScript writes the script: a header that says what it is for and how
// to run it, its arguments (--dry-run, --region), then for each membership
// to remove a comment line naming the decision and one AWS CLI command.
// name is the script's file name, as its usage line gives it.
func WriteScript(w io.Writer, name string, s Script) error {
	for _, d := range s.Remove {
		for _, v := range []string{s.PoolID, d.Username, d.Group} {
			if strings.IndexByte(v, 0) >= 0 || !utf8.ValidString(v) {
				// No shell argument can hold a NUL, no JSON string other
				// than UTF-8, and no Cognito name either.
				return fmt.Errorf("line %d: %s is not a name Cognito could hold (a NUL byte or not UTF-8): no command can name it", d.Line, commentValue(v))
			}
		}
	}
	bw := bufio.NewWriter(w)
	p := func(format string, args ...any) { fmt.Fprintf(bw, format+"\n", args...) }
	p("#!/bin/sh")
	p("# Removes the group memberships that reviewers decided to revoke and that the export still holds.")
	p("# Written by %s at %s with cognito-export remediation.", commentValue(s.Generator), s.WrittenAt.UTC().Format(time.RFC3339))
	p("#   pool       %s (%s)", commentValue(s.PoolID), commentValue(s.Region))
	p("#   decisions  %s", commentValue(s.DecisionsFile))
	p("#   export     %s, manifest SHA-256 %s", commentValue(s.Export), commentValue(s.ExportSHA256))
	p("#   %d to remove; %d revoked and already gone; %d revoked whose username is now another user's (left alone)",
		len(s.Remove), len(s.Gone), len(s.Recreated))
	p("# Cognito removes by username: the export (started %s) says these usernames are still the", s.ExportedAt.UTC().Format(time.RFC3339))
	p("# users decided about. If it is not fresh, export again and write the script again first.")
	p("#")
	p("# Read it, then run it:")
	p("#   "+usage, shellText(name))
	p("#   --dry-run        print each command instead of running it")
	p("#   --region REGION  the pool's region (default %s, from the pool id)", commentValue(s.Region))
	p("# It needs the AWS CLI and credentials allowed cognito-idp:AdminRemoveUserFromGroup on the pool")
	if s.Policy != "" {
		p("# (the policy in %s). It stops at the first command that fails; running it again", commentValue(s.Policy))
	} else {
		p("# It stops at the first command that fails; running it again")
	}
	p("# is safe: removing a membership that is already gone succeeds.")
	p("# Every value is in single quotes: no username or group name can run anything.")
	p("set -eu")
	p("region=%s", Quote(s.Region))
	p("run=")
	p("while [ $# -gt 0 ]; do")
	p("\tcase $1 in")
	p("\t--dry-run) run=dry ;;")
	p("\t--region)")
	p("\t\t[ $# -ge 2 ] || { echo \"%s: --region needs a value\" >&2; exit 2; }", shellText(name))
	p("\t\tregion=$2")
	p("\t\tshift ;;")
	p("\t--region=*) region=${1#--region=} ;;")
	p("\t*) echo \"%s: unknown argument (usage: %s)\" >&2; exit 2 ;;", shellText(name), shellText(fmt.Sprintf(usage, name)))
	p("\tesac")
	p("\tshift")
	p("done")
	p("# dry prints a command; the values cannot hold spaces (Cognito's names do not), so the words are the arguments.")
	p("dry() { printf '%%s' 'would run:'; printf ' %%s' \"$@\"; printf '\\n'; }")
	p("if [ -z \"$run\" ] && ! command -v aws >/dev/null 2>&1; then")
	p("\techo \"%s: the AWS CLI (aws) is not on PATH\" >&2", shellText(name))
	p("\texit 127")
	p("fi")
	for k, d := range s.Remove {
		p("")
		p("# %d of %d: %s", k+1, len(s.Remove), strings.TrimPrefix(decisionComment(d), "# "))
		p("%s", removeCommand(s.PoolID, d))
	}
	for _, part := range []struct {
		title string
		ds    []decisions.Decision
	}{{"Revoked, and already gone from the export: nothing to do.", s.Gone},
		{"Revoked, but the username is now another user's (another sub): left alone; review it again.", s.Recreated}} {
		if len(part.ds) == 0 {
			continue
		}
		p("")
		p("# %s", part.title)
		for _, d := range part.ds {
			p("%s", decisionComment(d))
		}
	}
	p("")
	p("if [ -z \"$run\" ]; then echo \"%s: %d memberships removed\" >&2; fi", shellText(name), len(s.Remove))
	return bw.Flush()
}

// shellText is text for inside an echo's double quotes, where $, `, \ and
// " are special: the script's own name, which the caller chose, with
// anything but plain characters replaced.
func shellText(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '$' || r == '`' || r == '\\' || r == '"' || r == '!' || r < 0x20 || r == 0x7f:
			return '_'
		}
		return r
	}, s)
}
