package export_test

import (
	"context"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"

	"github.com/cognito-export/cognito-export/cognito"
	"github.com/cognito-export/cognito-export/internal/cognitoemu"
	"github.com/cognito-export/cognito-export/ratelimit"
)

// BenchmarkClientCall is the floor of the per-user strategy: one
// AdminListGroupsForUser call through the SDK's middleware stack, the
// exporter's pacing middleware and the emulator's handler, in process.
func BenchmarkClientCall(b *testing.B) {
	pool := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 1000, Groups: 80, Seed: 1})
	names := make([]*string, pool.NumUsers())
	for i := range names {
		names[i] = aws.String(pool.User(i).Username)
	}
	srv := cognitoemu.NewServer(cognitoemu.Options{}, pool)
	cc := clientConfig("http://emulator.invalid")
	cc.HTTPClient = &http.Client{Transport: srv.Transport()}
	client, err := cognito.NewClient(context.Background(), cc, ratelimit.Unlimited(), &cognito.Calls{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu0 := cpuTime()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			_, err := client.AdminListGroupsForUser(context.Background(), &cip.AdminListGroupsForUserInput{
				UserPoolId: aws.String(pool.ID()), Username: names[i%len(names)], Limit: aws.Int32(60),
			})
			if err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(cpuTime()-cpu0)/float64(b.N), "cpu-ns/op")
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
