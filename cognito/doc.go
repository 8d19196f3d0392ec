// Package cognito is the job's access to Amazon Cognito: the one client of a
// run with its pacing (every attempt waits on its quota category's limiter),
// retries and call counting, the explanation of failed calls, and boto3's
// AdminListGroupsForUser paginator with its resume token.
package cognito
