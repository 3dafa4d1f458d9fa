package keyring_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/assessgate/assessgate/internal/keyring"
)

// Two fixed keys, as ASSESSGATE_ENCRYPTION_KEY would give them.
var (
	keyA = bytes.Repeat([]byte{0xA1}, 32)
	keyB = bytes.Repeat([]byte{0xB2}, 32)
)

func mustNew(t *testing.T, keys ...[]byte) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(keys...)
	if err != nil {
		t.Fatalf("New() = %v", err)
	}
	return k
}

func TestParse(t *testing.T) {
	std := base64.StdEncoding.EncodeToString(keyA)
	for _, tt := range []struct {
		name    string
		list    string
		keys    int
		wantErr string
	}{
		{"Empty", "", 0, ""},
		{"Blanks", " , ", 0, ""},
		{"Standard", std, 1, ""},
		{"Unpadded", strings.TrimRight(std, "="), 1, ""},
		{"URLSafe", base64.RawURLEncoding.EncodeToString(append([]byte{0xFB, 0xFF}, keyA[2:]...)), 1, ""},
		{"Two", std + " , " + base64.StdEncoding.EncodeToString(keyB), 2, ""},
		{"Short", base64.StdEncoding.EncodeToString(keyA[:16]), 0, "key 1 is 16 bytes; want 32"},
		{"NotBase64", std + ",not base64!", 0, "key 2 is not base64"},
		{"Twice", std + "," + std, 0, "key 2 is given twice"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			k, err := keyring.Parse(tt.list)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) = %v; want an error containing %q", tt.list, err, tt.wantErr)
				}
				if strings.Contains(err.Error(), std) {
					t.Errorf("Parse error %q shows a key", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q) = %v", tt.list, err)
			}
			if got := len(k.KeyIDs()); got != tt.keys {
				t.Errorf("Parse(%q) has %d keys; want %d", tt.list, got, tt.keys)
			}
			if k.Enabled() != (tt.keys > 0) {
				t.Errorf("Enabled() = %v with %d keys", k.Enabled(), tt.keys)
			}
		})
	}
}

func TestSealOpen(t *testing.T) {
	k := mustNew(t, keyA)
	plain := []byte(`{"candidate":{"email":"maria.schneider@example.com"}}`)
	sealed := k.Seal(plain, "orders.data/o1")

	if !keyring.IsSealed(sealed) || !strings.HasPrefix(string(sealed), k.SealedPrefix()) {
		t.Errorf("Seal = %q; want it to start with %q", sealed, k.SealedPrefix())
	}
	if bytes.Contains(sealed, []byte("maria")) {
		t.Errorf("Seal = %q; holds the plaintext", sealed)
	}
	if again := k.Seal(plain, "orders.data/o1"); bytes.Equal(again, sealed) {
		t.Errorf("two Seals of one value are equal; want a new nonce each time")
	}
	got, err := k.Open(sealed, "orders.data/o1")
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("Open(Seal(x)) = %q, %v; want %q", got, err, plain)
	}

	for _, tt := range []struct {
		name    string
		k       *keyring.Keyring
		value   []byte
		context string
		reason  string
	}{
		{"OtherRow", k, sealed, "orders.data/o2", "does not open"},
		{"OtherKey", mustNew(t, keyB), sealed, "orders.data/o1", "no configured key has this id"},
		{"NoKey", nil, sealed, "orders.data/o1", "no key is configured"},
		{"Damaged", k, append(bytes.Clone(sealed[:len(sealed)-4]), "AAAA"...), "orders.data/o1", "does not open"},
		{"Truncated", k, []byte(k.SealedPrefix() + "AAAA"), "orders.data/o1", "damaged"},
		{"UnknownFormat", k, []byte("enc:v9:whatever"), "orders.data/o1", "unknown format"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.k.Open(tt.value, tt.context)
			var kerr *keyring.Error
			if !errors.As(err, &kerr) || !strings.Contains(kerr.Reason, tt.reason) {
				t.Fatalf("Open = %q, %v; want an *Error saying %q", got, err, tt.reason)
			}
			if strings.Contains(err.Error(), "maria") {
				t.Errorf("error %q shows the plaintext", err)
			}
		})
	}
}

func TestClearValues(t *testing.T) {
	k := mustNew(t, keyA)
	for _, v := range []string{"", `{"id":"o1"}`, "plain text"} {
		// A clear value, written before a key was set, reads as it is.
		if got, err := k.Open([]byte(v), "ctx"); err != nil || string(got) != v {
			t.Errorf("Open(%q) = %q, %v; want it unchanged", v, got, err)
		}
		var none *keyring.Keyring
		if got := none.Seal([]byte(v), "ctx"); string(got) != v {
			t.Errorf("nil Seal(%q) = %q; want it unchanged", v, got)
		}
	}
	if got := k.Seal(nil, "ctx"); len(got) != 0 {
		t.Errorf("Seal(empty) = %q; want empty", got)
	}
}

func TestRotation(t *testing.T) {
	old := mustNew(t, keyA)
	sealedOld := old.Seal([]byte("secret"), "c")
	rotated := mustNew(t, keyB, keyA)

	if got, err := rotated.Open(sealedOld, "c"); err != nil || string(got) != "secret" {
		t.Errorf("rotated Open(old) = %q, %v; want the old key to still open it", got, err)
	}
	sealedNew := rotated.Seal([]byte("secret"), "c")
	if id, _ := keyring.KeyID(sealedNew); id != rotated.KeyIDs()[0] || id == old.KeyIDs()[0] {
		t.Errorf("rotated Seal uses key %s; want the first key %s", id, rotated.KeyIDs()[0])
	}
	if _, err := old.Open(sealedNew, "c"); err == nil {
		t.Errorf("the old keyring opened a value sealed under the new key")
	}
	if strings.HasPrefix(string(sealedOld), rotated.SealedPrefix()) {
		t.Errorf("a value sealed under the old key has the new SealedPrefix")
	}
}

func TestHashEmail(t *testing.T) {
	k := mustNew(t, keyA)
	h := k.HashEmail("  Maria.Schneider@Example.com ")
	if h != k.HashEmail("maria.schneider@example.com") {
		t.Errorf("HashEmail differs by case or spaces")
	}
	if strings.Contains(strings.ToLower(h), "maria") || !k.IsEmailHash(h) {
		t.Errorf("HashEmail = %q; want a hash, recognised as one", h)
	}
	if h == mustNew(t, keyB).HashEmail("maria.schneider@example.com") {
		t.Errorf("two keys give the same hash")
	}
	var none *keyring.Keyring
	if got := none.HashEmail(" Ada@Example.com"); got != "ada@example.com" {
		t.Errorf("nil HashEmail = %q; want the normalized address", got)
	}
	if got := k.HashEmail(" "); got != "" {
		t.Errorf("HashEmail(blank) = %q; want empty", got)
	}

	// After a rotation, rows hashed under the old key and rows written
	// without a key are still found.
	rotated := mustNew(t, keyB, keyA)
	lookups := rotated.EmailLookups("MARIA.schneider@example.com")
	want := []string{rotated.HashEmail("maria.schneider@example.com"), h, "maria.schneider@example.com"}
	if strings.Join(lookups, " ") != strings.Join(want, " ") {
		t.Errorf("EmailLookups = %q; want %q", lookups, want)
	}
	if rotated.IsEmailHash(h) {
		t.Errorf("IsEmailHash(old hash) = true; want false after rotation")
	}
	if got := rotated.EmailLookups(""); got != nil {
		t.Errorf("EmailLookups(\"\") = %q; want nil", got)
	}
}

// FuzzOpen checks that no stored value makes Open panic, and that whatever
// Seal makes, Open opens.
func FuzzOpen(f *testing.F) {
	k, _ := keyring.New(keyA, keyB)
	f.Add([]byte("enc:v1:"), "c")
	f.Add(k.Seal([]byte(`{"id":"o1"}`), "c"), "c")
	f.Add([]byte(`{"id":"o1"}`), "c")
	f.Fuzz(func(t *testing.T, value []byte, context string) {
		k.Open(value, context)
		if got, err := k.Open(k.Seal(value, context), context); err != nil || !bytes.Equal(got, value) {
			t.Fatalf("Open(Seal(%q)) = %q, %v", value, got, err)
		}
	})
}
