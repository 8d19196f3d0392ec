package cognitoemu

import (
	"bytes"
	"strconv"
	"sync"
)

// Attribute is one user attribute, as ListUsers returns it.
type Attribute struct{ Name, Value string }

// schemaAttribute is one entry of the pool's SchemaAttributes, as
// DescribeUserPool returns it. Constraints are strings on the wire; an empty
// one is left out.
type schemaAttribute struct {
	name, dataType    string // String, Number, DateTime, Boolean
	mutable, required bool
	minLen, maxLen    string // StringAttributeConstraints
	minVal, maxVal    string // NumberAttributeConstraints
}

func str(name, minLen, maxLen string) schemaAttribute {
	return schemaAttribute{name: name, dataType: "String", mutable: true, minLen: minLen, maxLen: maxLen}
}

// schema is every pool's attribute schema: Cognito's standard attributes, in
// the order and with the constraints a real pool's DescribeUserPool returns
// them, then this emulator's custom attributes.
var schema = []schemaAttribute{
	{name: "sub", dataType: "String", required: true, minLen: "1", maxLen: "2048"},
	str("name", "0", "2048"),
	str("given_name", "0", "2048"),
	str("family_name", "0", "2048"),
	str("middle_name", "0", "2048"),
	str("nickname", "0", "2048"),
	str("preferred_username", "0", "2048"),
	str("profile", "0", "2048"),
	str("picture", "0", "2048"),
	str("website", "0", "2048"),
	str("email", "0", "2048"),
	{name: "email_verified", dataType: "Boolean", mutable: true},
	str("gender", "0", "2048"),
	str("birthdate", "10", "10"),
	str("zoneinfo", "0", "2048"),
	str("locale", "0", "2048"),
	str("phone_number", "0", "2048"),
	{name: "phone_number_verified", dataType: "Boolean", mutable: true},
	str("address", "0", "2048"),
	{name: "updated_at", dataType: "Number", mutable: true, minVal: "0"},
	str("custom:department", "1", "256"),
	{name: "custom:employee_id", dataType: "Number", mutable: true, minVal: "1", maxVal: "99999999"},
	{name: "custom:level", dataType: "Number", mutable: true, minVal: "1", maxVal: "10"},
	{name: "custom:start_date", dataType: "DateTime", mutable: true},
}

// appendSchemaAttribute writes a SchemaAttributeType with the members and
// constraint strings a real pool's DescribeUserPool sends.
func appendSchemaAttribute(buf *bytes.Buffer, a *schemaAttribute) {
	buf.WriteString(`{"Name":`)
	appendString(buf, a.name)
	buf.WriteString(`,"AttributeDataType":"` + a.dataType + `","DeveloperOnlyAttribute":false,"Mutable":`)
	buf.WriteString(strconv.FormatBool(a.mutable))
	buf.WriteString(`,"Required":`)
	buf.WriteString(strconv.FormatBool(a.required))
	constraints := func(member, minKey, min, maxKey, max string) {
		if min == "" && max == "" {
			return
		}
		buf.WriteString(`,"` + member + `":{`)
		if min != "" {
			buf.WriteString(`"` + minKey + `":"` + min + `"`)
		}
		if max != "" {
			if min != "" {
				buf.WriteByte(',')
			}
			buf.WriteString(`"` + maxKey + `":"` + max + `"`)
		}
		buf.WriteByte('}')
	}
	constraints("NumberAttributeConstraints", "MinValue", a.minVal, "MaxValue", a.maxVal)
	constraints("StringAttributeConstraints", "MinLength", a.minLen, "MaxLength", a.maxLen)
	buf.WriteByte('}')
}

func inSchema(name string) bool {
	for k := range schema {
		if schema[k].name == name {
			return true
		}
	}
	return false
}

// Shares of users that carry an attribute; the rest of the users leave it
// unset, as real profiles do.
const (
	nameShare    = 0.85 // name
	phoneShare   = 0.30 // phone_number, phone_number_verified
	customShare  = 0.60 // custom:department, then custom:employee_id or custom:level
	hostileShare = 0.02 // name and custom:department are hostile to spreadsheets, HTML and terminals
)

type person struct{ display, ascii string }

// Given names start with most letters of the alphabet, so that prefix
// filters on email and name select visibly different sets.
var givenNames = []person{
	{"Ada", "ada"}, {"Aarav", "aarav"}, {"Anaïs", "anais"}, {"Björn", "bjorn"}, {"Chloé", "chloe"},
	{"Dmitri", "dmitri"}, {"Émile", "emile"}, {"Fatima", "fatima"}, {"Gonzalo", "gonzalo"},
	{"Hana", "hana"}, {"Ingrid", "ingrid"}, {"José", "jose"}, {"Kwame", "kwame"}, {"Léa", "lea"},
	{"Mei", "mei"}, {"Nikolai", "nikolai"}, {"Oluwaseun", "oluwaseun"}, {"Priya", "priya"},
	{"Quentin", "quentin"}, {"Rūta", "ruta"}, {"Søren", "soren"}, {"Tomás", "tomas"}, {"Uma", "uma"},
	{"Vera", "vera"}, {"Wei", "wei"}, {"Xóchitl", "xochitl"}, {"Yusuf", "yusuf"}, {"Zoë", "zoe"},
}

var familyNames = []person{
	{"García", "garcia"}, {"Müller", "muller"}, {"O'Brien", "obrien"}, {"Nguyễn", "nguyen"},
	{"Smith", "smith"}, {"Kowalski", "kowalski"}, {"Tanaka", "tanaka"}, {"Okafor", "okafor"},
	{"Johansson", "johansson"}, {"Rossi", "rossi"}, {"Dubois", "dubois"}, {"Singh", "singh"},
	{"Cohen", "cohen"}, {"Papadopoulos", "papadopoulos"}, {"van der Berg", "vanderberg"}, {"Ali", "ali"},
}

var emailDomains = []string{"example.com", "example.org", "corp.example.net", "mail.example"}

var departments = []string{"Engineering", "Sales", "Finance", "Human Resources", "Legal", "R&D", "Customer Success", "Operations"}

// HostileValues are the values the hostile share of users carries in name and
// custom:department: spreadsheet formula prefixes, CSV and JSON
// metacharacters, markup, bidirectional overrides and 4-byte UTF-8.
var HostileValues = []string{
	`=HYPERLINK("http://x","click")`,
	"+1 (555) 0100",
	"-2+3",
	"@SUM(A1:A9)",
	"\tTabbed Name",
	"\rCarriage Return",
	`Quote "the" Name`,
	"Doe, Jane",
	"Line one\nLine two",
	"<script>alert(1)</script>",
	`"><img src=x onerror=alert(1)>`,
	"\u202Egnp.exe",
	"Emoji 🧑‍💻 Person 😀",
	"=cmd|' /C calc'!A0",
}

// hostile reports whether user i carries hostile values.
func (p *Pool) hostile(i int) bool { return unit(p.hash(20, i)) < hostileShare }

// email is user i's address: ASCII, valid-looking, unique (it carries the
// index) and a pure function of the seed and the index.
func (p *Pool) email(i int) string {
	h := p.hash(21, i)
	g, f := givenNames[h%uint64(len(givenNames))], familyNames[(h>>8)%uint64(len(familyNames))]
	b := make([]byte, 0, 48)
	b = append(b, g.ascii...)
	b = append(b, '.')
	b = append(b, f.ascii...)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, '@')
	b = append(b, emailDomains[(h>>16)%uint64(len(emailDomains))]...)
	return string(b)
}

// emailIndex is the index an address of email carries, or -1.
func emailIndex(email string) int {
	at := -1
	for k := len(email) - 1; k >= 0; k-- {
		if email[k] == '@' {
			at = k
			break
		}
	}
	start := at
	for start > 0 && email[start-1] >= '0' && email[start-1] <= '9' {
		start--
	}
	if at < 0 || start == at || at-start > 10 {
		return -1
	}
	i, err := strconv.Atoi(email[start:at])
	if err != nil {
		return -1
	}
	return i
}

// UserAttributes appends user i's attributes to dst, in the order ListUsers
// returns them. They are a pure function of the pool's seed and i: sub,
// email_verified and email always; name for about 85% of the users;
// phone_number_verified and phone_number for about 30%; custom:department
// with custom:employee_id or custom:level (and custom:start_date for half of
// them) for about 60%. About 2% carry one of HostileValues in name and
// custom:department.
func (p *Pool) UserAttributes(i int, dst []Attribute) []Attribute {
	u := p.User(i)
	return p.userAttributes(i, &u, dst)
}

func (p *Pool) userAttributes(i int, u *User, dst []Attribute) []Attribute {
	if p.mut != nil {
		if pt := p.mut.users[i]; pt != nil && len(pt.attrs) > 0 {
			return pt.apply(p.genAttributes(i, u, dst))
		}
	}
	return p.genAttributes(i, u, dst)
}

// genAttributes are user i's attributes as the generator makes them, with
// the sub and email of u.
func (p *Pool) genAttributes(i int, u *User, dst []Attribute) []Attribute {
	h := p.hash(22, i)
	hostile := p.hostile(i)
	dst = append(dst, Attribute{"sub", u.Sub})
	verified := "true"
	if u.Status == "UNCONFIRMED" || h%100 < 4 {
		verified = "false"
	}
	dst = append(dst, Attribute{"email_verified", verified})
	if v, ok := p.name(i, hostile); ok {
		dst = append(dst, Attribute{"name", v})
	}
	if v, ok := p.phone(i); ok {
		pv := "true"
		if (h>>8)%10 < 3 {
			pv = "false"
		}
		dst = append(dst, Attribute{"phone_number_verified", pv}, Attribute{"phone_number", v})
	}
	dst = append(dst, Attribute{"email", u.Email})
	if hostile || unit(p.hash(23, i)) < customShare {
		c := p.hash(24, i)
		dept := departments[c%uint64(len(departments))]
		if hostile {
			dept = HostileValues[(c>>8)%uint64(len(HostileValues))]
		}
		dst = append(dst, Attribute{"custom:department", dept})
		if (c>>16)%2 == 0 {
			dst = append(dst, Attribute{"custom:employee_id", strconv.Itoa(1 + int((c>>20)%99999999))})
		} else {
			dst = append(dst, Attribute{"custom:level", strconv.Itoa(1 + int((c>>20)%10))})
		}
		if (c>>56)%2 == 0 {
			dst = append(dst, Attribute{"custom:start_date", dateFrom(c >> 8).Format("2006-01-02")})
		}
	}
	return dst
}

// name is user i's name attribute, if it has one.
func (p *Pool) name(i int, hostile bool) (string, bool) {
	h := p.hash(25, i)
	switch {
	case hostile:
		return HostileValues[h%uint64(len(HostileValues))], true
	case unit(h) >= nameShare:
		return "", false
	}
	e := p.hash(21, i) // the same person as the address
	return givenNames[e%uint64(len(givenNames))].display + " " + familyNames[(e>>8)%uint64(len(familyNames))].display, true
}

// phone is user i's phone_number (E.164), if it has one.
func (p *Pool) phone(i int) (string, bool) {
	h := p.hash(26, i)
	if unit(h) >= phoneShare {
		return "", false
	}
	b := make([]byte, 0, 12)
	b = append(b, "+1555"...)
	n := (h >> 11) % 10_000_000
	for d := uint64(1_000_000); d > 0; d /= 10 {
		b = append(b, byte('0'+n/d%10))
	}
	return string(b), true
}

// attribute is the value of user i's attribute name, if it has one.
func (p *Pool) attribute(i int, u *User, name string) (string, bool) {
	if p.mut != nil {
		if pt := p.mut.users[i]; pt != nil {
			if a, ok := pt.attr(name); ok {
				return a.value, !a.remove
			}
		}
	}
	switch name {
	case "sub":
		return u.Sub, true
	case "email":
		return u.Email, true
	case "name":
		return p.name(i, p.hostile(i))
	case "phone_number":
		return p.phone(i)
	}
	var buf [8]Attribute
	for _, a := range p.userAttributes(i, u, buf[:0]) {
		if a.Name == name {
			return a.Value, true
		}
	}
	return "", false
}

// universal reports whether every user of the pool has attribute name; it
// scans until a user without it, once per attribute.
func (p *Pool) universal(name string) bool {
	switch name {
	case "sub", "email", "email_verified":
		return true
	}
	p.universalMu.Lock()
	defer p.universalMu.Unlock()
	if v, ok := p.universalCache[name]; ok {
		return v
	}
	all := true
	for i := range p.NumUsers() {
		if !p.Exists(i) {
			continue
		}
		u := p.User(i)
		if _, ok := p.attribute(i, &u, name); !ok {
			all = false
			break
		}
	}
	if p.universalCache == nil {
		p.universalCache = map[string]bool{}
	}
	p.universalCache[name] = all
	return all
}

type universalState struct {
	universalMu    sync.Mutex
	universalCache map[string]bool
}
