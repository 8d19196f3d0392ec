// Package archtest holds the tests that keep the house in shape: the package
// graph points one way (cmd → batch → {export, review} → {reader,
// location, cognito, ratelimit, checkpoint, sink}, with fault beneath them
// all, the S3 SDK only in the S3 destination, and no production package
// importing a test peer), cmd's functions stay short and unbranched
// (their logic lives in packages), and nothing built or oversized is
// tracked. It has no code of its own;
// `make lint` runs it.
package archtest
