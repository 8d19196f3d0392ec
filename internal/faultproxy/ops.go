package faultproxy

import (
	"net/http"
	"strings"
)

// Op is the S3 operation a request is, as the SDK names it.
type Op string

// The operations cognito-export makes, and Other for the rest.
const (
	PutObject               Op = "PutObject"
	CreateMultipartUpload   Op = "CreateMultipartUpload"
	UploadPart              Op = "UploadPart"
	CompleteMultipartUpload Op = "CompleteMultipartUpload"
	AbortMultipartUpload    Op = "AbortMultipartUpload"
	ListMultipartUploads    Op = "ListMultipartUploads"
	ListParts               Op = "ListParts"
	GetObject               Op = "GetObject"
	HeadObject              Op = "HeadObject"
	DeleteObject            Op = "DeleteObject"
	ListObjectsV2           Op = "ListObjectsV2"
	Other                   Op = "Other"
)

// classify names the operation of a path-style request (/bucket/key?query)
// and returns its object key ("" for a bucket operation).
func classify(r *http.Request) (Op, string) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	_, key, _ := strings.Cut(path, "/")
	q := r.URL.Query()
	has := func(name string) bool { _, ok := q[name]; return ok }
	if key == "" {
		switch {
		case r.Method == http.MethodGet && has("uploads"):
			return ListMultipartUploads, ""
		case r.Method == http.MethodGet && q.Get("list-type") == "2":
			return ListObjectsV2, ""
		}
		return Other, ""
	}
	switch r.Method {
	case http.MethodPut:
		switch {
		case has("uploadId") && has("partNumber") && r.Header.Get("X-Amz-Copy-Source") == "":
			return UploadPart, key
		case len(q) == 0 || len(q) == 1 && has("x-id"):
			if r.Header.Get("X-Amz-Copy-Source") == "" {
				return PutObject, key
			}
		}
	case http.MethodPost:
		switch {
		case has("uploads"):
			return CreateMultipartUpload, key
		case has("uploadId"):
			return CompleteMultipartUpload, key
		}
	case http.MethodGet:
		switch {
		case has("uploadId"):
			return ListParts, key
		case len(q) == 0 || len(q) == 1 && has("x-id") || has("partNumber"):
			return GetObject, key
		}
	case http.MethodHead:
		return HeadObject, key
	case http.MethodDelete:
		if has("uploadId") {
			return AbortMultipartUpload, key
		}
		return DeleteObject, key
	}
	return Other, key
}
