package checkpoint

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
)

// UserHash identifies a username in a done set: 8 bytes a user, so a
// million committed users cost 8 MB of state, read only on a restart.
func UserHash(username string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(username))
	return h.Sum64()
}

// EncodeDone serialises user hashes for a done file.
func EncodeDone(hashes []uint64) []byte {
	out := make([]byte, 8*len(hashes))
	for i, h := range hashes {
		binary.LittleEndian.PutUint64(out[8*i:], h)
	}
	return out
}

// DecodeDone adds the hashes of a done file to set.
func DecodeDone(data []byte, set map[uint64]struct{}) error {
	if len(data)%8 != 0 {
		return fmt.Errorf("%w: a done file of %d bytes is not a list of 8-byte hashes", ErrCorrupt, len(data))
	}
	for i := 0; i < len(data); i += 8 {
		set[binary.LittleEndian.Uint64(data[i:])] = struct{}{}
	}
	return nil
}

// MemberHash identifies a group in a members file; each entry of a members
// file is a pair (MemberHash(group), UserHash(user)).
func MemberHash(group string) uint64 { return UserHash("\x00group\x00" + group) }

// DecodePairs calls each for every (group, user) hash pair of a members file.
func DecodePairs(data []byte, each func(group, user uint64)) error {
	if len(data)%16 != 0 {
		return fmt.Errorf("%w: a members file of %d bytes is not a list of 16-byte pairs", ErrCorrupt, len(data))
	}
	for i := 0; i < len(data); i += 16 {
		each(binary.LittleEndian.Uint64(data[i:]), binary.LittleEndian.Uint64(data[i+8:]))
	}
	return nil
}
