package s3dest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/cognito-export/cognito-export/fault"
)

// Retention is the S3 Object Lock retention that every object written
// through a Prefix's Put and Create carries: evidence that nobody, the
// writer included, can delete or replace before its retain-until date.
// S3 keeps each version: an overwrite or a delete without a version id
// only hides a locked version, it never removes it.
//
// The zero value is no retention.
type Retention struct {
	// Mode is "governance" (a user granted s3:BypassGovernanceRetention
	// may still delete) or "compliance" (nobody may, root included).
	Mode string
	// Days is how long each object is retained, counted from when it is
	// written, as S3's default retention counts.
	Days int
	// Working names the files of a run that it must delete or replace as
	// it goes (a checkpoint, its hash files): they are written without
	// retention, since a locked version of each would outlive the run by
	// Days. nil means every file is evidence.
	Working func(name string) bool
}

// maxRetainDays bounds --object-lock-retain-days at 100 years, the
// longest default retention S3 takes for a bucket.
const maxRetainDays = 36500

// On reports whether r asks for retention.
func (r Retention) On() bool { return r.Mode != "" || r.Days != 0 }

// Check refuses a retention that is half given or that S3 would refuse.
func (r Retention) Check() error {
	switch {
	case !r.On():
		return nil
	case r.Mode == "" || r.Days == 0:
		return fault.Usagef("--object-lock-mode and --object-lock-retain-days go together: give both, or neither")
	case r.mode() == "":
		return fault.Usagef(fmt.Sprintf("--object-lock-mode %q: use governance or compliance", r.Mode))
	case r.Days < 1 || r.Days > maxRetainDays:
		return fault.Usagef(fmt.Sprintf("--object-lock-retain-days %d: must be 1..%d", r.Days, maxRetainDays))
	}
	return nil
}

// ForDirectory is the usage problem of r asked of a local directory,
// which has no Object Lock; nil when r asks for no retention.
func (r Retention) ForDirectory(dir string) error {
	if !r.On() {
		return nil
	}
	return fault.Usagef(fmt.Sprintf("--object-lock-mode retains S3 objects: %s is a directory, which has no Object Lock; write to s3://bucket/prefix/ in a bucket with Object Lock enabled", dir))
}

func (r Retention) mode() types.ObjectLockMode {
	switch strings.ToLower(r.Mode) {
	case "governance":
		return types.ObjectLockModeGovernance
	case "compliance":
		return types.ObjectLockModeCompliance
	}
	return ""
}

// String is how a manifest's parameters and the logs name r:
// "compliance 30d".
func (r Retention) String() string {
	if !r.On() {
		return ""
	}
	return fmt.Sprintf("%s %dd", strings.ToLower(r.Mode), r.Days)
}

// lock is what an object written now under name carries: no mode for a
// working file, a probe or no retention at all.
func (d *Prefix) lock(name string) (types.ObjectLockMode, *time.Time) {
	r := d.opts.Retention
	if !r.On() || strings.HasPrefix(name, probePrefix) || r.Working != nil && r.Working(name) {
		return "", nil
	}
	// Whole seconds: S3 keeps no finer, and a later GetObjectRetention
	// then gives back the date that was asked.
	until := time.Now().UTC().Add(time.Duration(r.Days) * 24 * time.Hour).Truncate(time.Second)
	return r.mode(), &until
}

// checkObjectLock proves the bucket takes retention before anything is
// written: a bucket without Object Lock would refuse every locked write,
// and only after the run had spent its Cognito calls.
func (d *Prefix) checkObjectLock(ctx context.Context) error {
	out, err := d.client.GetObjectLockConfiguration(ctx, &s3.GetObjectLockConfigurationInput{Bucket: &d.bucket})
	var api smithy.APIError
	if errors.As(err, &api) {
		switch api.ErrorCode() {
		case "ObjectLockConfigurationNotFoundError":
			err = nil // as good as not enabled: said below
		case "AccessDenied", "Forbidden":
			return fault.Usagef(fmt.Sprintf("check Object Lock on bucket %q: access denied: --object-lock-mode needs s3:GetBucketObjectLockConfiguration on the bucket and s3:PutObjectRetention on the prefix", d.bucket))
		}
	}
	if err != nil {
		return d.explain("check Object Lock of", err)
	}
	if out == nil || out.ObjectLockConfiguration == nil || out.ObjectLockConfiguration.ObjectLockEnabled != types.ObjectLockEnabledEnabled {
		return fault.Usagef(fmt.Sprintf("bucket %q does not have Object Lock enabled, so --object-lock-mode cannot retain anything: write to a bucket created with Object Lock (aws s3api create-bucket --object-lock-enabled-for-bucket), or drop the --object-lock flags", d.bucket))
	}
	return nil
}

// ObjectRetention is the retention an object is under: no Mode when none.
type ObjectRetention struct {
	Mode  string // "GOVERNANCE" or "COMPLIANCE", as S3 names them
	Until time.Time
}

// RetentionOf asks S3 for the retention of the current version of name
// (s3:GetObjectRetention). An object under none, in a bucket with or
// without Object Lock, has the zero ObjectRetention.
func (d *Prefix) RetentionOf(ctx context.Context, name string) (ObjectRetention, error) {
	out, err := d.client.GetObjectRetention(ctx, &s3.GetObjectRetentionInput{Bucket: &d.bucket, Key: aws.String(d.key(name))})
	var api smithy.APIError
	if errors.As(err, &api) {
		switch code := api.ErrorCode(); {
		case code == "NoSuchObjectLockConfiguration",
			// S3's answer in a bucket without Object Lock.
			code == "InvalidRequest" && strings.Contains(strings.ToLower(api.ErrorMessage()), "object lock"):
			return ObjectRetention{}, nil
		}
	}
	if err != nil {
		e := d.explain("read the retention of "+name+" in", err)
		if errors.As(err, &api) && (api.ErrorCode() == "AccessDenied" || api.ErrorCode() == "Forbidden") {
			e.(*Error).Hint = "access denied: checking retention needs s3:GetObjectRetention on this prefix"
		}
		return ObjectRetention{}, e
	}
	if out.Retention == nil {
		return ObjectRetention{}, nil
	}
	return ObjectRetention{Mode: string(out.Retention.Mode), Until: aws.ToTime(out.Retention.RetainUntilDate).UTC()}, nil
}

// CheckObjectLock checks, without writing anything, that the bucket of
// rawURL has Object Lock enabled: for a run that must know it before it
// knows its outputs' prefixes, such as one that finds its pools first.
func CheckObjectLock(ctx context.Context, rawURL string, opts Options) error {
	d, err := connect(ctx, rawURL, opts)
	if err != nil {
		return err
	}
	return d.checkObjectLock(ctx)
}
