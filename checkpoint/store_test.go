package checkpoint_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/cognito-export/cognito-export/checkpoint"
	"github.com/cognito-export/cognito-export/checkpoint/storetest"
	"github.com/cognito-export/cognito-export/internal/s3server"
	"github.com/cognito-export/cognito-export/sink/localdest"
	"github.com/cognito-export/cognito-export/sink/memdest"
	"github.com/cognito-export/cognito-export/sink/s3dest"
)

func TestStoreOnLocalFile(t *testing.T) {
	storetest.Run(t, func(t *testing.T) checkpoint.Blob {
		d, err := localdest.Open(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}

func TestStoreInMemory(t *testing.T) {
	storetest.Run(t, func(*testing.T) checkpoint.Blob { return memdest.New() })
}

func TestStoreOnS3(t *testing.T) {
	srv := s3server.Start(t)
	n := 0
	storetest.Run(t, func(t *testing.T) checkpoint.Blob {
		n++
		bucket := srv.Bucket(t, fmt.Sprintf("checkpoints-%d", n))
		d, err := s3dest.Open(context.Background(), "s3://"+bucket+"/state/", s3dest.Options{
			Region: srv.Region, EndpointURL: srv.Endpoint, Credentials: srv.Credentials(),
		})
		if err != nil {
			t.Fatal(err)
		}
		return d
	})
}
