package report

import (
	"fmt"
	"slices"
	"testing"

	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
	"github.com/cognito-export/cognito-export/sink"
)

// The report's unit tests feed rows straight into the accumulator, as
// rowscan.Scan would, so that a rule is tested without writing an export.
// The end-to-end tests in cmd/cognito-export cover the reading.

// member is one row of an export: a user and one of its groups ("" for a
// user without groups). Built with u(...) and the methods below.
type member struct {
	user, sub, status   string
	disabled            bool
	group               string
	roleArn, precedence string // as the row carries them
	description         string
	attrs               map[string]string // by column
}

func u(name string) member { return member{user: name, sub: "sub-" + name, status: "CONFIRMED"} }

func (m member) in(group string) member { m.group = group; return m }

func (m member) is(status string) member { m.status = status; return m }

func (m member) off() member { m.disabled = true; return m }

func (m member) withSub(sub string) member { m.sub = sub; return m }

// role is the group's role ARN as the row carries it.
func (m member) role(arn string) member { m.roleArn = arn; return m }

func (m member) set(column, value string) member {
	attrs := map[string]string{}
	for k, v := range m.attrs {
		attrs[k] = v
	}
	attrs[column] = value
	m.attrs = attrs
	return m
}

// export is what the report reads: the manifest's groups (nil: it lists
// none), its attribute columns and its rows.
type export struct {
	groups []sink.ManifestGroup
	attrs  []sink.ManifestAttribute
	rows   []member
	// old are the previous export's rows, fed to the decisions' check
	// (opts.Decided.Old must be set); a role ARN makes one privileged.
	old []member
}

func grp(name, roleArn string) sink.ManifestGroup {
	g := sink.ManifestGroup{Name: name}
	if roleArn != "" {
		g.RoleArn = &roleArn
	}
	return g
}

func attr(name string) sink.ManifestAttribute {
	return sink.ManifestAttribute{Attribute: name, Column: name, Type: "string"}
}

func redacted(name string) sink.ManifestAttribute {
	a := attr(name)
	a.Treatment = "redacted"
	return a
}

func groupsOf(names ...string) []sink.ManifestGroup {
	gs := []sink.ManifestGroup{}
	for _, n := range names {
		gs = append(gs, grp(n, ""))
	}
	return gs
}

func (e export) manifest() reader.Manifest {
	var m reader.Manifest
	m.Groups, m.Attributes = e.groups, e.attrs
	m.Parameters = map[string]string{"user_pool_id": "eu-west-1_Rules"}
	return m
}

// scan feeds e's rows to a new accumulator, each row laid out by the
// columns the accumulator asks for.
func (e export) scan(t *testing.T, opts Options) *accumulator {
	t.Helper()
	a, columns := newAccumulator(e.manifest(), withDefaults(opts))
	for i, r := range e.rows {
		fixed := map[string]string{
			"username": r.user, "user_sub": r.sub, "user_status": r.status, "user_enabled": fmt.Sprint(!r.disabled),
			"user_create_date": "2026-01-01T00:00:00.000Z", "user_last_modified_date": "2026-01-02T00:00:00.000Z",
			"group_name": r.group, "group_description": r.description, "group_role_arn": r.roleArn,
			"group_precedence": r.precedence, "exported_at": fmt.Sprintf("2026-03-01T00:00:%02d.000Z", i%60),
		}
		v := make([]rowscan.Value, len(columns))
		for c, name := range columns {
			s, ok := fixed[name]
			if !ok {
				s = r.attrs[name]
			}
			v[c] = rowscan.Value{S: s, Valid: s != ""}
		}
		if err := a.row(v); err != nil {
			t.Fatal(err)
		}
	}
	return a
}

// findingsOf are the findings of e by id.
func findingsOf(t *testing.T, e export, opts Options) map[string]Finding {
	t.Helper()
	opts = withDefaults(opts)
	out := map[string]Finding{}
	a := e.scan(t, opts)
	if a.dc != nil {
		for _, r := range e.old {
			a.dc.oldRow(r.user, r.sub, r.group, r.roleArn != "", opts.MaxFindingRows, func() []string { return nil })
		}
		oldSHA := ""
		if opts.Decided.Old != nil {
			oldSHA = opts.Decided.Old.Manifest.SHA256
		}
		a.dc.finish(opts.MaxFindingRows, oldSHA)
	}
	for _, f := range findings(a, opts) {
		out[f.ID] = f
	}
	return out
}

// rowText is a finding row as "username|sub|group|detail".
func rowText(rows []FindingRow) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.Username+"|"+r.UserSub+"|"+r.Group+"|"+r.Detail)
	}
	return out
}

func sortedText(rows []FindingRow) []string {
	out := rowText(rows)
	slices.Sort(out)
	return out
}
