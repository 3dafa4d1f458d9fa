package kombo_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"

	"github.com/assessgate/assessgate/kombo"
)

// vector is one entry of testdata/signature-test-vectors.json.
type vector struct {
	Name           string `json:"name"`
	Secret         string `json:"secret"`
	Body           string `json:"body"`
	BodyFile       string `json:"body_file"`
	BodySHA256     string `json:"body_sha256_hex"`
	ExpectedHeader string `json:"expected_header"`
	MustNotEqual   string `json:"must_not_equal"`
	Wrong          struct {
		Hex             string `json:"hex"`
		Base64StdPadded string `json:"base64_std_padded"`
	} `json:"wrong_encodings_for_reference"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	var file struct {
		Vectors []vector `json:"vectors"`
	}
	if err := json.Unmarshal(readFile(tb, "signature-test-vectors.json"), &file); err != nil {
		tb.Fatal(err)
	}
	if len(file.Vectors) == 0 {
		tb.Fatal("no signature test vectors")
	}
	return file.Vectors
}

func TestSign(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			body := []byte(v.Body)
			if v.BodyFile != "" {
				body = readFile(t, v.BodyFile)
			}
			if v.BodySHA256 != "" {
				if sum := sha256.Sum256(body); hex.EncodeToString(sum[:]) != v.BodySHA256 {
					t.Fatalf("testdata/%s has changed: sha256 %x; want %s", v.BodyFile, sum, v.BodySHA256)
				}
			}
			got := kombo.Sign(v.Secret, body)
			if got != v.ExpectedHeader {
				t.Errorf("Sign(%q, body) = %q; want %q", v.Secret, got, v.ExpectedHeader)
			}
			if v.MustNotEqual != "" && got == v.MustNotEqual {
				t.Errorf("Sign(%q, body) = %q, the signature of differently serialised bytes", v.Secret, got)
			}
		})
	}
}

func TestVerify(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			body := []byte(v.Body)
			if v.BodyFile != "" {
				body = readFile(t, v.BodyFile)
			}
			tests := []struct {
				name    string
				secrets []string
				body    []byte
				header  string
				want    bool
			}{
				{"expected", []string{v.Secret}, body, v.ExpectedHeader, true},
				{"rotated", []string{"old-secret", v.Secret}, body, v.ExpectedHeader, true},
				{"padded", []string{v.Secret}, body, v.ExpectedHeader + "=", true},
				{"surrounding space", []string{v.Secret}, body, " " + v.ExpectedHeader + "\t", true},
				{"wrong secret", []string{v.Secret + "x"}, body, v.ExpectedHeader, false},
				{"no secrets", nil, body, v.ExpectedHeader, false},
				{"empty secret", []string{""}, body, v.ExpectedHeader, false},
				{"changed body", []string{v.Secret}, append([]byte(" "), body...), v.ExpectedHeader, false},
				{"empty header", []string{v.Secret}, body, "", false},
				{"truncated", []string{v.Secret}, body, v.ExpectedHeader[:len(v.ExpectedHeader)-2], false},
				{"hex", []string{v.Secret}, body, v.Wrong.Hex, false},
				{"standard base64", []string{v.Secret}, body, v.Wrong.Base64StdPadded, false},
				{"other body's signature", []string{v.Secret}, body, v.MustNotEqual, false},
			}
			for _, tt := range tests {
				if tt.header == "" && tt.name != "empty header" {
					continue // the vector has no such encoding
				}
				if got := kombo.Verify(tt.secrets, tt.body, tt.header); got != tt.want {
					t.Errorf("%s: Verify(%q, body, %q) = %v; want %v", tt.name, tt.secrets, tt.header, got, tt.want)
				}
			}
		})
	}
}
