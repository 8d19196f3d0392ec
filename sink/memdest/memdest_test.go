package memdest_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/cognito-export/cognito-export/sink/desttest"
	"github.com/cognito-export/cognito-export/sink/memdest"
)

func TestContract(t *testing.T) {
	desttest.Run(t, func(*testing.T) desttest.Destination { return memdest.New() })
}

func TestListsWhatItHoldsAndIsSafeForConcurrentUse(t *testing.T) {
	d := memdest.New()
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, n := range []string{"a", "b", "c", "d"} {
		wg.Go(func() {
			p, _ := d.Create(ctx, "part-"+n)
			p.Write(ctx, []byte(n))
			if n != "d" {
				p.Commit(ctx)
			}
			d.Put(ctx, "_done-"+n, []byte(n))
			d.Get(ctx, "part-a")
		})
	}
	wg.Wait()
	if got := strings.Join(d.Names(), ","); got != "_done-a,_done-b,_done-c,_done-d,part-a,part-b,part-c" {
		t.Fatalf("Names = %s", got)
	}
	if got := d.Unfinished(); len(got) != 1 || got[0] != "part-d" {
		t.Fatalf("Unfinished = %v", got)
	}
	d.Prune(ctx, func(n string) bool { return n == "part-d" })
	if got := d.Unfinished(); len(got) != 0 {
		t.Fatalf("Unfinished after prune = %v", got)
	}
}
