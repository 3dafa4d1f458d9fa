// Package keyring encrypts personal data at rest and makes e-mail addresses
// searchable without storing them: AES-256-GCM and HMAC-SHA256 from Go's
// standard library, under keys that can be rotated.
//
// A Keyring holds one or more 32-byte keys. The first seals (encrypts) new
// values; every key opens (decrypts) values sealed under it, so a new key is
// put first and the old ones are kept until every value was sealed again
// under the new one. A sealed value names the key that sealed it:
//
//	enc:v1:<key id>:<base64 of nonce ‖ ciphertext ‖ tag>
//
// where the key id is 8 hex digits derived from the key (it reveals nothing
// about the key) and the nonce is 12 random bytes, new for every value.
// Values that do not start with "enc:" are clear, so clear and sealed values
// coexist in one column and a database written without a key stays readable
// once a key is added.
//
// Each value is sealed for a context, such as "orders.data/ORDER-ID", that is
// authenticated with it: a sealed value copied into another row, or another
// column, does not open there.
//
// A nil *Keyring is valid and means "no key": Seal returns its input, Open
// returns clear values and refuses sealed ones, and HashEmail returns the
// normalized address itself.
package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the size of a key in bytes.
const KeySize = 32

// Prefix starts every sealed value.
const Prefix = "enc:"

// sealedPrefix is Prefix with the format version.
const sealedPrefix = Prefix + "v1:"

// HashPrefix starts every e-mail hash.
const HashPrefix = "h1:"

// Keyring seals and opens values and hashes e-mail addresses. It is safe for
// concurrent use.
type Keyring struct {
	keys []*key // keys[0] seals
}

type key struct {
	id   string
	aead cipher.AEAD
	mac  []byte // the e-mail hash key
}

// Parse returns the keyring of a comma-separated list of keys, each 32
// bytes in standard or URL-safe base64, padded or not (what
// "openssl rand -base64 32" prints). The first key seals. An empty list
// returns nil, which means no key. Errors name keys by position, never by
// value.
func Parse(list string) (*Keyring, error) {
	var raw [][]byte
	for i, p := range strings.Split(list, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		b, err := decodeBase64(p)
		if err != nil {
			return nil, fmt.Errorf("key %d is not base64", i+1)
		}
		if len(b) != KeySize {
			return nil, fmt.Errorf("key %d is %d bytes; want %d (make one with: openssl rand -base64 32)", i+1, len(b), KeySize)
		}
		raw = append(raw, b)
	}
	if len(raw) == 0 {
		return nil, nil
	}
	return New(raw...)
}

func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}

// New returns a keyring of keys, each KeySize bytes; the first seals. It
// returns an error for no keys, a key of the wrong size or the same key
// twice.
func New(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no key")
	}
	k := &Keyring{}
	seen := map[string]bool{}
	for i, secret := range keys {
		if len(secret) != KeySize {
			return nil, fmt.Errorf("key %d is %d bytes; want %d", i+1, len(secret), KeySize)
		}
		// Separate keys for separate uses, all derived from the one secret.
		encKey := derive(secret, "assessgate encryption v1", KeySize)
		block, err := aes.NewCipher(encKey)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		id := hex.EncodeToString(derive(secret, "assessgate key id v1", 4))
		if seen[id] {
			return nil, fmt.Errorf("key %d is given twice", i+1)
		}
		seen[id] = true
		k.keys = append(k.keys, &key{id: id, aead: aead, mac: derive(secret, "assessgate email hash v1", KeySize)})
	}
	return k, nil
}

func derive(secret []byte, info string, n int) []byte {
	b, err := hkdf.Key(sha256.New, secret, nil, info, n)
	if err != nil {
		panic("keyring: " + err.Error()) // only for lengths HKDF cannot give
	}
	return b
}

// Enabled reports whether k holds a key.
func (k *Keyring) Enabled() bool { return k != nil && len(k.keys) > 0 }

// KeyIDs returns the ids of the keys, the sealing key first; none for nil.
func (k *Keyring) KeyIDs() []string {
	if !k.Enabled() {
		return nil
	}
	ids := make([]string, len(k.keys))
	for i, key := range k.keys {
		ids[i] = key.id
	}
	return ids
}

// SealedPrefix returns how every value sealed by k now starts: a value that
// does not start so is clear or sealed under an older key. It is "" for nil.
func (k *Keyring) SealedPrefix() string {
	if !k.Enabled() {
		return ""
	}
	return sealedPrefix + k.keys[0].id + ":"
}

// Seal encrypts plaintext for context with the first key and returns the
// sealed value. With no key it returns plaintext as it is. An empty
// plaintext stays empty: it holds nothing to hide, and erased values are
// empty.
func (k *Keyring) Seal(plaintext []byte, context string) []byte {
	if !k.Enabled() || len(plaintext) == 0 {
		return plaintext
	}
	key := k.keys[0]
	nonce := make([]byte, key.aead.NonceSize(), key.aead.NonceSize()+len(plaintext)+key.aead.Overhead())
	rand.Read(nonce)
	sealed := key.aead.Seal(nonce, nonce, plaintext, []byte(context))
	out := make([]byte, 0, len(sealedPrefix)+len(key.id)+1+base64.RawStdEncoding.EncodedLen(len(sealed)))
	out = append(out, sealedPrefix...)
	out = append(out, key.id...)
	out = append(out, ':')
	return base64.RawStdEncoding.AppendEncode(out, sealed)
}

// SealString is Seal for strings.
func (k *Keyring) SealString(plaintext, context string) string {
	return string(k.Seal([]byte(plaintext), context))
}

// IsSealed reports whether a stored value is sealed rather than clear.
func IsSealed(stored []byte) bool { return strings.HasPrefix(string(stored), Prefix) }

// KeyID returns the id of the key that sealed a stored value; ok is false
// for a clear value or one not in this format.
func KeyID(stored []byte) (id string, ok bool) {
	rest, found := strings.CutPrefix(string(stored), sealedPrefix)
	if !found {
		return "", false
	}
	id, _, ok = strings.Cut(rest, ":")
	return id, ok
}

// Open returns the plaintext of a stored value sealed for context, or the
// value itself when it is clear. It returns an *Error when the value is
// sealed but k has no key, not the key that sealed it, or the value does
// not open (damaged, or sealed for another context).
func (k *Keyring) Open(stored []byte, context string) ([]byte, error) {
	if !IsSealed(stored) {
		return stored, nil
	}
	id, ok := KeyID(stored)
	if !ok {
		return nil, &Error{Reason: "unknown format"}
	}
	if !k.Enabled() {
		return nil, &Error{KeyID: id, Reason: "no key is configured"}
	}
	for _, key := range k.keys {
		if key.id != id {
			continue
		}
		sealed, err := base64.RawStdEncoding.DecodeString(string(stored[len(sealedPrefix)+len(id)+1:]))
		if err != nil || len(sealed) < key.aead.NonceSize()+key.aead.Overhead() {
			return nil, &Error{KeyID: id, Reason: "damaged"}
		}
		n := key.aead.NonceSize()
		plain, err := key.aead.Open(nil, sealed[:n], sealed[n:], []byte(context))
		if err != nil {
			return nil, &Error{KeyID: id, Reason: "does not open: damaged, or not sealed for this row"}
		}
		return plain, nil
	}
	return nil, &Error{KeyID: id, Reason: "no configured key has this id"}
}

// OpenString is Open for strings.
func (k *Keyring) OpenString(stored, context string) (string, error) {
	b, err := k.Open([]byte(stored), context)
	return string(b), err
}

// Error is a value that could not be opened. It never carries the value.
type Error struct {
	KeyID  string // the key id the value names, if any
	Reason string
}

func (e *Error) Error() string {
	if e.KeyID == "" {
		return "sealed value: " + e.Reason
	}
	return fmt.Sprintf("sealed value (key id %s): %s", e.KeyID, e.Reason)
}

// NormalizeEmail returns the form of an e-mail address that is hashed and
// compared: trimmed and lower-cased.
func NormalizeEmail(email string) string { return strings.ToLower(strings.TrimSpace(email)) }

// HashEmail returns what is stored to find an e-mail address: a keyed hash
// (HMAC-SHA256 under a key derived from the first key) of the normalized
// address, prefixed with that key's id, or with no key the normalized
// address itself. An empty address stays empty.
func (k *Keyring) HashEmail(email string) string {
	norm := NormalizeEmail(email)
	if !k.Enabled() || norm == "" {
		return norm
	}
	return hashWith(k.keys[0], norm)
}

func hashWith(key *key, norm string) string {
	m := hmac.New(sha256.New, key.mac)
	m.Write([]byte(norm))
	return HashPrefix + key.id + ":" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// EmailLookups returns every stored form an address may have: its hash
// under each key, so that rows hashed before a key rotation are found, and
// the normalized address, which rows written without a key hold. It
// returns nil for an empty address.
func (k *Keyring) EmailLookups(email string) []string {
	norm := NormalizeEmail(email)
	if norm == "" {
		return nil
	}
	var out []string
	if k.Enabled() {
		for _, key := range k.keys {
			out = append(out, hashWith(key, norm))
		}
	}
	return append(out, norm)
}

// HashPrefixes returns how e-mail hashes under each key start, the first
// key's first; none for nil.
func (k *Keyring) HashPrefixes() []string {
	var out []string
	for _, id := range k.KeyIDs() {
		out = append(out, HashPrefix+id+":")
	}
	return out
}

// IsEmailHash reports whether a stored e-mail value is a hash made by
// HashEmail with the current first key.
func (k *Keyring) IsEmailHash(stored string) bool {
	return k.Enabled() && strings.HasPrefix(stored, HashPrefix+k.keys[0].id+":")
}
