package cognitoemu_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/cognito-export/cognito-export/internal/cognitoemu"
)

// BenchmarkServeListUsersPageMutated is BenchmarkServeListUsersPage on the
// same pool after RandomMutations: the overlays' cost per page.
func BenchmarkServeListUsersPageMutated(b *testing.B) {
	p := cognitoemu.NewPool(cognitoemu.PoolSpec{Users: 1_000_000, Groups: 10, Seed: 1})
	q, err := p.Mutate(cognitoemu.RandomMutations(p, 1, 0.01))
	if err != nil {
		b.Fatal(err)
	}
	tr := cognitoemu.NewServer(cognitoemu.Options{}, q).Transport()
	body := `{"UserPoolId":"` + q.ID() + `","Limit":60}`
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodPost, "http://emulator.invalid/", strings.NewReader(body))
		req.Header.Set("X-Amz-Target", "AWSCognitoIdentityProviderService.ListUsers")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 bench")
		resp, err := tr.RoundTrip(req)
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
	}
}
