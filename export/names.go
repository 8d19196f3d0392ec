package export

import "github.com/cognito-export/cognito-export/sink"

// SummaryName is the run summary written beside the manifest.
const SummaryName = sink.SummaryName
