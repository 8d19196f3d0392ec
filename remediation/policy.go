package remediation

import (
	"encoding/json"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// poolIDPattern is Cognito's UserPoolIdType: the region, "_", letters and
// digits. A pool id goes into the script, the policy and an ARN only when
// it matches.
var poolIDPattern = regexp.MustCompile(`^[\w-]+_[0-9a-zA-Z]+$`)

// Region is the region a pool id names (eu-west-1_AbCdEf123 → eu-west-1).
func Region(poolID string) (string, error) {
	if !poolIDPattern.MatchString(poolID) || len(poolID) > 55 {
		return "", fmt.Errorf("%q is not a Cognito user pool id (region_id, e.g. eu-west-1_AbCdEf123)", poolID)
	}
	return poolID[:strings.LastIndexByte(poolID, '_')], nil
}

// partition is the ARN partition of a region.
func partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// PoolARN is the pool's ARN with any account: a pool id is unique in its
// region, and Cognito user pools have no resource policies, so an identity
// policy can only reach its own account's pool by it anyway.
func PoolARN(poolID string) (string, error) {
	region, err := Region(poolID)
	if err != nil {
		return "", err
	}
	return "arn:" + partition(region) + ":cognito-idp:" + region + ":*:userpool/" + poolID, nil
}

// WritePolicy writes the least-privilege IAM policy for running the script:
// AdminRemoveUserFromGroup on this one pool, nothing else.
func WritePolicy(w io.Writer, poolID string) error {
	arn, err := PoolARN(poolID)
	if err != nil {
		return err
	}
	type statement struct {
		Sid      string
		Effect   string
		Action   string
		Resource string
	}
	doc := struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{{"RemoveReviewedMemberships", "Allow", "cognito-idp:AdminRemoveUserFromGroup", arn}}}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
