package cognitoemu

import "strconv"

// Usernames of a pool whose username attribute is email are version 4 UUIDs
// that carry their index: 64 of their 122 random bits are a keyed bijection
// of the index, so Lookup inverts it instead of keeping a map, and the other
// bits come from a hash. They look as random as Cognito's.

const (
	mixC1 = 0xbf58476d1ce4e5b9 // splitmix64's finaliser multipliers (odd, so invertible mod 2^64)
	mixC2 = 0x94d049bb133111eb
)

var mixInv1, mixInv2 = inverse(mixC1), inverse(mixC2)

// inverse is the multiplicative inverse of odd c modulo 2^64 (Newton's
// iteration doubles the correct low bits each step: 3, 6, ..., 96).
func inverse(c uint64) uint64 {
	x := c
	for range 5 {
		x *= 2 - c*x
	}
	return x
}

// mix is splitmix64's finaliser: a bijection of uint64.
func mix(x uint64) uint64 {
	x = (x ^ x>>30) * mixC1
	x = (x ^ x>>27) * mixC2
	return x ^ x>>31
}

func unmix(x uint64) uint64 {
	x = unshift(x, 31) * mixInv2
	x = unshift(x, 27) * mixInv1
	return unshift(x, 30)
}

// unshift inverts x ^= x >> s.
func unshift(x uint64, s uint) uint64 {
	y := x
	for k := s; k < 64; k += s {
		y = x ^ y>>s
	}
	return y
}

func (p *Pool) uuidKey() uint64 { return splitmix64(uint64(p.spec.Seed) ^ 0x55554944) }

// uuid is user i's username when email is the username attribute.
func (p *Pool) uuid(i int) string {
	x := mix(uint64(i) ^ p.uuidKey())
	y := p.hash(14, i)
	b := make([]byte, 0, 36)
	b = appendHex(b, x>>32, 8)
	b = append(b, '-')
	b = appendHex(b, x>>16&0xffff, 4)
	b = append(b, '-')
	b = appendHex(b, 0x4000|x>>4&0xfff, 4)
	b = append(b, '-')
	b = appendHex(b, 0x8000|(y&0x3ff)<<4|x&0xf, 4)
	b = append(b, '-')
	b = appendHex(b, y>>16&0xffffffffffff, 12)
	return string(b)
}

// uuidIndex is the index whose uuid is s.
func (p *Pool) uuidIndex(s string) (int, bool) {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return 0, false
	}
	field := func(a, b int) uint64 {
		v, err := strconv.ParseUint(s[a:b], 16, 64)
		if err != nil {
			return 1 << 63 // out of range for every field: fails the check below
		}
		return v
	}
	g1, g2, g3, g4 := field(0, 8), field(9, 13), field(14, 18), field(19, 23)
	if g1|g2|g3|g4 >= 1<<32 {
		return 0, false
	}
	x := g1<<32 | g2<<16 | (g3&0xfff)<<4 | g4&0xf
	i := unmix(x) ^ p.uuidKey()
	if i >= uint64(p.NumUsers()) || p.uuid(int(i)) != s {
		return 0, false
	}
	return int(i), true
}

func appendHex(b []byte, v uint64, digits int) []byte {
	for k := digits - 1; k >= 0; k-- {
		b = append(b, hexDigits[v>>(4*k)&0xf])
	}
	return b
}
