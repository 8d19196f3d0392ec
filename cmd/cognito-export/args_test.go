package main

import (
	"reflect"
	"strings"
	"testing"
)

// TestSplitArgs holds where positional arguments may stand among the
// flags: anywhere, a flag's value is never taken for one, a boolean flag
// takes no value, -- ends the flags, and more than max is a usage error.
func TestSplitArgs(t *testing.T) {
	bools := map[string]bool{"exit-code": true}
	tests := []struct {
		name      string
		args      []string
		pos, rest []string
		refused   string
	}{
		{"before the flags", []string{"old", "new", "--output", "o"}, []string{"old", "new"}, []string{"--output", "o"}, ""},
		{"among the flags", []string{"--output", "o", "old", "--format", "csv", "new"}, []string{"old", "new"}, []string{"--output", "o", "--format", "csv"}, ""},
		{"a value with =", []string{"--output=o", "old", "new"}, []string{"old", "new"}, []string{"--output=o"}, ""},
		{"a boolean takes no value", []string{"--exit-code", "old", "new"}, []string{"old", "new"}, []string{"--exit-code"}, ""},
		{"help takes no value", []string{"-h", "old"}, []string{"old"}, []string{"-h"}, ""},
		{"a flag last, its value missing", []string{"old", "--output"}, []string{"old"}, []string{"--output"}, ""},
		{"-- ends the flags", []string{"--output", "o", "--", "-old", "new"}, []string{"-old", "new"}, []string{"--output", "o"}, ""},
		{"none", nil, nil, nil, ""},
		{"one too many", []string{"a", "b", "c"}, nil, nil, `diff: unexpected argument "c": 2 locations at most`},
		{"one too many after --", []string{"a", "--", "b", "c"}, nil, nil, `diff: unexpected argument "c": 2 locations at most`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pos, rest, err := splitArgs("diff", tt.args, 2, bools)
			if tt.refused != "" {
				if !isUsage(err) || !strings.Contains(err.Error(), tt.refused) {
					t.Fatalf("err = %v, want a usage error saying %q", err, tt.refused)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(pos, tt.pos) || !reflect.DeepEqual(rest, tt.rest) {
				t.Fatalf("positional %q, flags %q; want %q and %q", pos, rest, tt.pos, tt.rest)
			}
		})
	}
}
