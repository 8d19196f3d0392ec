// Package archtest holds the test that keeps the package graph pointing one
// way: cmd → export → {reader, cognito, ratelimit, checkpoint, sink}, with fault
// beneath them all, the S3 SDK only in the S3 destination, and no
// production package importing a test peer. It has no code of its own.
package archtest
