package sink

import (
	"os/exec"
	"strings"
	"testing"
)

// Only sink/s3dest may import the AWS SDK: the row schema, the encoders,
// the other destinations and the checkpoint build without it.
func TestOnlyS3DestImportsTheAWSSDK(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const mod = "github.com/cognito-export/cognito-export/"
	for _, pkg := range []string{"sink", "sink/localdest", "sink/memdest", "sink/desttest", "checkpoint", "checkpoint/storetest"} {
		out, err := exec.Command("go", "list", "-deps", mod+pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		for _, dep := range strings.Fields(string(out)) {
			if strings.HasPrefix(dep, "github.com/aws/") {
				t.Errorf("%s depends on %s", pkg, dep)
			}
		}
	}
}
