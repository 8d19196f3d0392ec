package cognitoemu

import (
	"bytes"
	"crypto/sha256"
	"encoding/base32"
	"encoding/xml"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"time"
)

// The STS side of an Org: AssumeRole over the query protocol (a form POST
// of Action=AssumeRole&Version=2011-06-15&...), answered in XML as STS
// answers (botocore's sts model, the STS API reference).

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

var (
	roleArnPattern     = regexp.MustCompile(`^arn:aws:iam::([0-9]{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]{1,64})$`)
	sessionNamePattern = regexp.MustCompile(`^[\w+=,.@-]*$`)    // roleSessionNameType
	externalIDPattern  = regexp.MustCompile(`^[\w+=,.@:\/-]*$`) // externalIdType
)

func (o *Org) serveSTS(w http.ResponseWriter, r *http.Request, caller principal) {
	if r.Method != http.MethodPost {
		writeSTSError(w, http.StatusBadRequest, "InvalidAction", "STS accepts POST requests here")
		return
	}
	if err := r.ParseForm(); err != nil {
		writeSTSError(w, http.StatusBadRequest, "MalformedQueryString", "could not parse the request body")
		return
	}
	f := r.PostForm
	if action := f.Get("Action"); action != "AssumeRole" || f.Get("Version") != "2011-06-15" {
		writeSTSError(w, http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version "+f.Get("Version"))
		return
	}
	invalid := func(msg string) { writeSTSError(w, http.StatusBadRequest, "ValidationError", msg) }
	null := func(field string) {
		invalid("1 validation error detected: Value null at '" + field + "' failed to satisfy constraint: Member must not be null")
	}
	roleArn, session, external := f.Get("RoleArn"), f.Get("RoleSessionName"), f.Get("ExternalId")
	switch {
	case !f.Has("RoleArn"):
		null("roleArn")
		return
	case !f.Has("RoleSessionName"):
		null("roleSessionName")
		return
	case len(session) < 2 || len(session) > 64 || !sessionNamePattern.MatchString(session):
		invalid("1 validation error detected: Value '" + session + "' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and length 2..64")
		return
	case f.Has("ExternalId") && (len(external) < 2 || len(external) > 1224 || !externalIDPattern.MatchString(external)):
		invalid("1 validation error detected: Value '" + external + "' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and length 2..1224")
		return
	}
	duration := time.Hour
	if f.Has("DurationSeconds") {
		n, err := strconv.Atoi(f.Get("DurationSeconds"))
		switch {
		case err != nil:
			invalid("1 validation error detected: Value '" + f.Get("DurationSeconds") + "' at 'durationSeconds' failed to satisfy constraint: Member must be a number")
			return
		case n < 900:
			invalid("1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
			return
		case n > 43200:
			invalid("1 validation error detected: Value '" + strconv.Itoa(n) + "' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 43200")
			return
		}
		duration = time.Duration(n) * time.Second
	}
	m := roleArnPattern.FindStringSubmatch(roleArn)
	if m == nil {
		invalid(roleArn + " is not a valid role ARN")
		return
	}
	denied := func() {
		writeSTSError(w, http.StatusForbidden, "AccessDenied", "User: "+caller.arn+" is not authorized to perform: sts:AssumeRole on resource: "+roleArn)
	}
	// A role that does not exist is refused as one that does not trust the
	// caller: STS does not tell them apart.
	account := o.accounts[m[1]]
	if account == nil {
		denied()
		return
	}
	i := slices.IndexFunc(account.Roles, func(r RoleSpec) bool { return r.Name == m[2] })
	if i < 0 {
		denied()
		return
	}
	role := account.Roles[i]
	if !slices.Contains(role.TrustedAccounts, caller.account) || role.ExternalID != "" && external != role.ExternalID {
		denied()
		return
	}
	limit := role.MaxSessionDuration
	if limit == 0 {
		limit = time.Hour
	}
	if duration > limit {
		invalid("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
		return
	}
	if o.spec.CredentialTTL > 0 {
		duration = o.spec.CredentialTTL
	}
	// Expiration goes out in whole seconds; the credentials live at least
	// the duration asked for, and exactly until the time announced.
	exp := o.now().Add(duration)
	if t := exp.Truncate(time.Second); !t.Equal(exp) {
		exp = t.Add(time.Second)
	}
	s := &Session{Account: account.ID, RoleArn: roleArn, RoleSessionName: session, ExternalID: external,
		Caller: caller.arn, Expiration: exp.UTC()}
	o.newSession(s)

	sum := sha256.Sum256([]byte(roleArn))
	roleID := "AROA" + base32.StdEncoding.EncodeToString(sum[:15])[:17]
	var buf bytes.Buffer
	buf.WriteString(`<AssumeRoleResponse xmlns="` + stsNamespace + `">` + "\n  <AssumeRoleResult>\n    <AssumedRoleUser>\n      <AssumedRoleId>")
	xml.EscapeText(&buf, []byte(roleID+":"+session))
	buf.WriteString("</AssumedRoleId>\n      <Arn>")
	xml.EscapeText(&buf, []byte("arn:aws:sts::"+account.ID+":assumed-role/"+role.Name+"/"+session))
	buf.WriteString("</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>" + s.AccessKeyID + "</AccessKeyId>\n      <SecretAccessKey>")
	xml.EscapeText(&buf, []byte(s.secret))
	buf.WriteString("</SecretAccessKey>\n      <SessionToken>")
	xml.EscapeText(&buf, []byte(s.token))
	buf.WriteString("</SessionToken>\n      <Expiration>" + s.Expiration.Format(time.RFC3339) + "</Expiration>\n    </Credentials>\n  </AssumeRoleResult>\n")
	buf.WriteString("  <ResponseMetadata>\n    <RequestId>" + requestID() + "</RequestId>\n  </ResponseMetadata>\n</AssumeRoleResponse>\n")
	w.Header().Set("Content-Type", "text/xml")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.Write(buf.Bytes())
}

// writeSTSError answers as STS does: an ErrorResponse whose Type is Sender
// (Receiver for its own faults).
func writeSTSError(w http.ResponseWriter, status int, code, msg string) {
	id := requestID()
	w.Header().Set("X-Amzn-Requestid", id)
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	kind := "Sender"
	if status >= 500 {
		kind = "Receiver"
	}
	var buf bytes.Buffer
	buf.WriteString(`<ErrorResponse xmlns="` + stsNamespace + `">` + "\n  <Error>\n    <Type>" + kind + "</Type>\n    <Code>" + code + "</Code>\n    <Message>")
	xml.EscapeText(&buf, []byte(msg))
	buf.WriteString("</Message>\n  </Error>\n  <RequestId>" + id + "</RequestId>\n</ErrorResponse>\n")
	w.Write(buf.Bytes())
}
