package diff

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/cognito-export/cognito-export/fault"
	"github.com/cognito-export/cognito-export/reader"
	"github.com/cognito-export/cognito-export/rowscan"
)

// attrPlan is the attribute columns a diff compares: those both exports
// have, treated alike.
type attrPlan struct {
	columns []string
}

// comparable refuses what cannot be compared and chooses the attribute
// columns that can.
func comparable(old, new Side, allowDifferentPools bool, log *slog.Logger) (attrPlan, error) {
	om, nm := old.Manifest, new.Manifest
	if om.SHA256 == nm.SHA256 {
		return attrPlan{}, fault.Usagef(fmt.Sprintf("%s and %s are the same export (manifest SHA-256 %s): diff an export with an earlier one",
			old.Location, new.Location, om.SHA256))
	}
	op, np := om.Parameters["user_pool_id"], nm.Parameters["user_pool_id"]
	if op != np && !allowDifferentPools {
		return attrPlan{}, fault.Usagef(fmt.Sprintf("%s is an export of pool %s and %s of pool %s: diff two exports of one pool, or pass --allow-different-pools",
			old.Location, op, new.Location, np))
	}
	if err := Incomparable(om, nm); err != nil {
		return attrPlan{}, fault.Usagef(fmt.Sprintf("%s and %s cannot be compared: %v; diff two exports made the same way", old.Location, new.Location, err))
	}
	if om.Filter != nm.Filter {
		log.Warn("the exports chose their users with different ListUsers filters: users only one filter matches show as added or removed",
			"old_filter", om.Filter, "new_filter", nm.Filter)
	}
	var plan attrPlan
	var oneSided, unlike []string
	treatments := map[string]string{}
	for _, a := range om.Attributes {
		treatments[a.Column] = a.Treatment
	}
	for _, a := range nm.Attributes {
		t, ok := treatments[a.Column]
		switch {
		case !ok:
			oneSided = append(oneSided, a.Column)
		case t != a.Treatment:
			unlike = append(unlike, a.Column)
		case a.Treatment == "redacted":
			// Nothing to compare: both are empty.
		default:
			plan.columns = append(plan.columns, a.Column)
		}
		delete(treatments, a.Column)
	}
	for c := range treatments {
		oneSided = append(oneSided, c)
	}
	if len(oneSided) > 0 {
		slices.Sort(oneSided)
		log.Warn("attributes exported by only one side are left out of the comparison", "attributes", oneSided)
	}
	if len(unlike) > 0 {
		log.Warn("attributes treated differently by the two exports (pseudonymised, redacted or plain) are left out of the comparison", "attributes", unlike)
	}
	return plan, nil
}

// Incomparable says why an export with manifest old cannot be diffed with
// one with manifest new, or nil: they were exported with different
// --users-without-groups (users without groups would look added or
// removed), or they pseudonymise a column both have with different keys.
// Another pool is a separate check (--allow-different-pools). "latest"
// passes over an earlier export for which this is not nil.
func Incomparable(old, new reader.Manifest) error {
	if ou, nu := old.Parameters["users_without_groups"], new.Parameters["users_without_groups"]; ou != nu && ou != "" && nu != "" {
		return fmt.Errorf("exported with --users-without-groups=%s and %s: users without groups would look added or removed", ou, nu)
	}
	treatments := map[string]string{}
	for _, a := range old.Attributes {
		treatments[a.Column] = a.Treatment
	}
	for _, a := range new.Attributes {
		if t, ok := treatments[a.Column]; ok && t == a.Treatment && t == "pseudonymized" && old.KeyID != new.KeyID {
			return fmt.Errorf("they pseudonymise with different keys (key ids %s and %s): their pseudonyms cannot be compared; export both with the same --hmac-key-file",
				orNone(old.KeyID), orNone(new.KeyID))
		}
	}
	return nil
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// sideScan is what reading one side learnt besides its spilled rows.
type sideScan struct {
	dict   []string  // the values its spill refers to by number
	groups groupSet  // from its rows
	latest time.Time // its latest exported_at
}

var scanColumns = []string{"username", "user_sub", "user_status", "user_enabled", "group_name",
	"group_role_arn", "group_precedence", "group_description", "exported_at"}

// scanSide spills one side's rows by user and gathers its groups.
func scanSide(ctx context.Context, s Side, attrs attrPlan, dir, name string, parts int, tempDir string) (sideScan, error) {
	sp, err := newSpiller(dir, name, parts)
	if err != nil {
		return sideScan{}, err
	}
	defer sp.close()
	res := sideScan{groups: groupSet{}}
	rec := spillRecord{attrs: make([]string, len(attrs.columns))}
	cols := append(slices.Clone(scanColumns), attrs.columns...)
	latest := ""
	err = rowscan.Scan(ctx, s.Source, s.Manifest, cols, rowscan.Options{TempDir: tempDir}, func(row []rowscan.Value) error {
		rec.status, rec.enabled, rec.group, rec.exportedAt = row[2].S, row[3].S, row[4].S, row[8].S
		if rec.group != "" {
			if _, ok := res.groups[rec.group]; !ok {
				res.groups[strings.Clone(rec.group)] = group{role: strings.Clone(row[5].S), precedence: strings.Clone(row[6].S), description: strings.Clone(row[7].S)}
			}
		}
		if rec.exportedAt > latest {
			latest = strings.Clone(rec.exportedAt)
		}
		for i := range rec.attrs {
			rec.attrs[i] = row[len(scanColumns)+i].S
		}
		return sp.add(row[0].S, row[1].S, &rec)
	})
	if err != nil {
		return sideScan{}, fmt.Errorf("read %s: %w", s.Location, err)
	}
	res.latest, res.dict = parseTime(latest), sp.dict
	return res, sp.finish()
}
