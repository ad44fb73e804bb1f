package websub

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha1" //nolint:gosec // WebSub allows sha1 signatures from hubs
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"strings"
)

// SignatureHeader is the header that carries a push's HMAC signature.
const SignatureHeader = "X-Hub-Signature"

// maxSecret is the bound of hub.secret: the spec asks for fewer than 200
// bytes.
const maxSecret = 199

// Sign returns the X-Hub-Signature value of body under secret:
// "sha256=" and the hex HMAC-SHA256.
func Sign(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Verify reports whether header, an X-Hub-Signature value, is a valid
// HMAC of body under secret, with one of the methods the spec names (sha1,
// sha256, sha384, sha512). An empty secret or header never verifies.
func Verify(secret string, body []byte, header string) bool {
	method, sig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok || secret == "" {
		return false
	}
	var h func() hash.Hash
	switch strings.ToLower(method) {
	case "sha1":
		h = sha1.New
	case "sha256":
		h = sha256.New
	case "sha384":
		h = sha512.New384
	case "sha512":
		h = sha512.New
	default:
		return false
	}
	want, err := hex.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return hmac.Equal(m.Sum(nil), want)
}

// randomToken returns n random bytes in hex: secrets, challenges and ids.
func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return hex.EncodeToString(b)
}
