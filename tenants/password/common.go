package password

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"strings"
)

// commonList is some 49,000 passwords seen most often in breaches (the
// zxcvbn list; see COMMON-PASSWORDS-LICENSE), lower-cased, gzipped.
//
//go:embed common-passwords.txt.gz
var commonList []byte

// Common is the set of common, breached passwords a new password must not be.
type Common struct{ set map[string]struct{} }

// LoadCommon reads the list shipped in the binary.
func LoadCommon() (*Common, error) {
	zr, err := gzip.NewReader(bytes.NewReader(commonList))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	c := &Common{set: make(map[string]struct{}, 50000)}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		c.set[sc.Text()] = struct{}{}
	}
	return c, sc.Err()
}

// Contains reports whether pw (compared case-insensitively, surrounding
// spaces ignored) is on the list.
func (c *Common) Contains(pw string) bool {
	_, ok := c.set[strings.ToLower(strings.TrimSpace(pw))]
	return ok
}
