package emfcheck

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestCheckCatchesWhatTheSpecificationForbids: each broken document is
// refused, for the reason it breaks, and the specification's own kind of
// example passes.
func TestCheckCatchesWhatTheSpecificationForbids(t *testing.T) {
	now := time.Now()
	ms := now.UnixMilli()
	doc := func(ts int64, dims, metrics, extra string) string {
		return fmt.Sprintf(`{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"App","Dimensions":%s,"Metrics":%s}]},"fn":"v1","time":100%s}`,
			ts, dims, metrics, extra)
	}
	good := doc(ms, `[["fn"]]`, `[{"Name":"time","Unit":"Milliseconds"}]`, "")
	if _, err := Check([]byte(good), now); err != nil {
		t.Fatalf("a valid document: %v", err)
	}
	var many []string
	for i := range 101 {
		many = append(many, fmt.Sprintf(`{"Name":"m%d"}`, i))
	}
	for _, tc := range []struct{ name, line, want string }{
		{"no _aws", `{"time":1}`, "schema"},
		{"no timestamp", `{"_aws":{"CloudWatchMetrics":[]}}`, "schema"},
		{"seconds", doc(now.Unix(), `[["fn"]]`, `[{"Name":"time"}]`, ""), "not milliseconds"},
		{"bad unit", doc(ms, `[["fn"]]`, `[{"Name":"time","Unit":"ms"}]`, ""), "schema"},
		{"101 metrics", doc(ms, `[[]]`, "["+strings.Join(many, ",")+"]", ""), "schema"},
		{"10 dimensions", doc(ms, `[["a","b","c","d","e","f","g","h","i","j"]]`, `[{"Name":"time"}]`, ""), "schema"},
		{"no dimension set", doc(ms, `[]`, `[{"Name":"time"}]`, ""), "schema"},
		{"missing dimension target", doc(ms, `[["zone"]]`, `[{"Name":"time"}]`, ""), `dimension "zone"`},
		{"numeric dimension", doc(ms, `[["time"]]`, `[{"Name":"time"}]`, ""), `dimension "time"`},
		{"missing metric target", doc(ms, `[["fn"]]`, `[{"Name":"latency"}]`, ""), `metric "latency"`},
		{"string metric", doc(ms, `[["fn"]]`, `[{"Name":"fn"}]`, ""), `metric "fn"`},
		{"twice", doc(ms, `[["fn"]]`, `[{"Name":"time"},{"Name":"time"}]`, ""), "defined twice"},
		{"trailing data", good + ` x`, "after the JSON"},
	} {
		_, err := Check([]byte(tc.line), now)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one with %q", tc.name, err, tc.want)
		}
	}
}
