package mail

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assessgate/assessgate/internal/mail/mailtest"
)

var expires = time.Date(2026, 12, 10, 9, 30, 0, 0, time.UTC)

func fullData() *Data {
	return &Data{
		FirstName: "Ada <script>alert(1)</script>", LastName: "O'Brien & Co",
		JobName: "Engineer <b>II</b>", Organization: "Acme \"Corp\"", PackageName: "TypeScript (60 min)",
		Link: "https://assess.example/a/tok123", ExpiresAt: expires,
	}
}

func TestTemplates_Render(t *testing.T) {
	tmpl, err := LoadTemplates("")
	if err != nil {
		t.Fatalf("LoadTemplates(\"\") = %v", err)
	}
	for _, kind := range []Kind{Invitation, Reminder} { // the candidates' e-mails; Relink below
		t.Run(string(kind), func(t *testing.T) {
			r, err := tmpl.Render(kind, fullData())
			if err != nil {
				t.Fatalf("Render = %v", err)
			}
			for _, want := range []string{"Hello Ada <script>alert(1)</script> O'Brien & Co,", "Engineer <b>II</b>", `Acme "Corp"`,
				"TypeScript (60 min)", "https://assess.example/a/tok123", "Thursday, 10 December 2026, 09:30 UTC"} {
				if !strings.Contains(r.Text, want) {
					t.Errorf("text does not contain %q:\n%s", want, r.Text)
				}
			}
			// The ATS's strings are escaped in the HTML part.
			for _, want := range []string{"Ada &lt;script&gt;alert(1)&lt;/script&gt; O&#39;Brien &amp; Co", "Engineer &lt;b&gt;II&lt;/b&gt;",
				"Acme &#34;Corp&#34;", `href="https://assess.example/a/tok123"`, "10 December 2026"} {
				if !strings.Contains(r.HTML, want) {
					t.Errorf("HTML does not contain %q:\n%s", want, r.HTML)
				}
			}
			if strings.Contains(r.HTML, "<script>") || strings.Contains(r.HTML, "<b>II") {
				t.Errorf("HTML carries the ATS's markup unescaped:\n%s", r.HTML)
			}
			if !strings.Contains(r.Subject, "Acme") || !strings.Contains(r.Subject, "Engineer") {
				t.Errorf("subject = %q; want the organisation and the job", r.Subject)
			}
		})
	}

	t.Run("Unknown", func(t *testing.T) {
		r, err := tmpl.Render(Invitation, &Data{Link: "https://assess.example/a/x"})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(r.Text, "Hello,\n") || !strings.Contains(r.Text, "You are invited to take an assessment.") {
			t.Errorf("text without name, job or organisation:\n%s", r.Text)
		}
		if strings.Contains(r.Text, "works until") {
			t.Errorf("text names an expiry the link does not have:\n%s", r.Text)
		}
		if r.Subject != "Your assessment" {
			t.Errorf("subject = %q; want %q", r.Subject, "Your assessment")
		}
	})

	t.Run("SubjectOneLine", func(t *testing.T) {
		r, err := tmpl.Render(Invitation, &Data{JobName: "Dev\r\nBcc: victim@example.com", Link: "https://a.example/a/x"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Errorf("subject = %q; want one line", r.Subject)
		}
	})
}

func TestLoadTemplates_Dir(t *testing.T) {
	write := func(t *testing.T, files map[string]string) string {
		dir := t.TempDir()
		for name, body := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	t.Run("Override", func(t *testing.T) {
		dir := write(t, map[string]string{
			"invitation.txt": `{{define "subject"}}Custom {{.JobName}}{{end}}Hi {{.FirstName}}: {{.Link}}`,
		})
		tmpl, err := LoadTemplates(dir)
		if err != nil {
			t.Fatalf("LoadTemplates = %v", err)
		}
		r, _ := tmpl.Render(Invitation, fullData())
		if r.Subject != "Custom Engineer <b>II</b>" || !strings.HasPrefix(r.Text, "Hi Ada") {
			t.Errorf("override not used: subject %q, text %q", r.Subject, r.Text)
		}
		if !strings.Contains(r.HTML, "Start the assessment") {
			t.Errorf("the embedded HTML is not kept beside the override")
		}
	})
	for name, tt := range map[string]struct {
		files map[string]string
		want  string
	}{
		"Syntax":    {map[string]string{"reminder.html": "{{.Link"}, "reminder.html"},
		"NoSubject": {map[string]string{"invitation.txt": "{{.Link}}"}, `invitation.txt: no {{define "subject"}}`},
		"NoLink":    {map[string]string{"reminder.html": "<p>Hello</p>"}, "reminder.html"},
		"BadField":  {map[string]string{"invitation.html": "{{.Link}} {{.Nope}}"}, "invitation.html"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := LoadTemplates(write(t, tt.files))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadTemplates = %v; want an error naming %q", err, tt.want)
			}
		})
	}
	t.Run("Missing", func(t *testing.T) {
		if _, err := LoadTemplates(filepath.Join(t.TempDir(), "nope")); err == nil {
			t.Errorf("LoadTemplates(missing dir) = nil; want an error")
		}
	})
}

func TestNew_Config(t *testing.T) {
	for _, tt := range []struct {
		url, from, want string
	}{
		{"smtp://mail.example:25", "nobody", "ASSESSGATE_MAIL_FROM"},
		{"http://mail.example", "a@b.example", "scheme must be smtp or smtps"},
		{"smtp://user:s3cret@:25", "a@b.example", "no host"},
		{"smtps://user:s3cret@mail.example:99999", "a@b.example", "bad port"},
	} {
		_, err := New(Config{URL: tt.url, From: tt.from})
		if err == nil || !strings.Contains(err.Error(), tt.want) || strings.Contains(err.Error(), "s3cret") {
			t.Errorf("New(%q, %q) = %v; want an error containing %q, without the password", tt.url, tt.from, err, tt.want)
		}
	}
	for url, want := range map[string]string{
		"smtp://mail.example": "mail.example:587", "smtps://mail.example": "mail.example:465",
		"smtp://u:p@mail.example:2525": "mail.example:2525",
	} {
		m, err := New(Config{URL: url, From: "Acme <noreply@acme.example>"})
		if err != nil || m.Server != want {
			t.Errorf("New(%q) = %v, %v; want server %s", url, m, err, want)
		}
	}
}

func TestMailer_Send(t *testing.T) {
	mp := mailtest.Start(t, nil)
	m, err := New(Config{URL: mp.SMTPURL(), From: "Acme Assessments <noreply@acme.example>"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.Send(context.Background(), Invitation, "ada@example.com", fullData())
	if err != nil {
		t.Fatalf("Send = %v", err)
	}
	msgs := mp.WaitFor(t, "ada@example.com", 1, 10*time.Second)
	got := msgs[0]
	if got.MessageID == "" || !strings.Contains(id, got.MessageID) {
		t.Errorf("Message-ID = %q; Send returned %q", got.MessageID, id)
	}
	if got.From.Address != "noreply@acme.example" || !strings.HasPrefix(got.From.Name, "Acme") || !strings.HasSuffix(got.From.Name, " via Acme Assessments") {
		t.Errorf("From = %+v", got.From)
	}
	if !strings.Contains(got.Subject, `Acme "Corp"`) {
		t.Errorf("Subject = %q", got.Subject)
	}
	if !strings.Contains(got.Text, "https://assess.example/a/tok123") || !strings.Contains(got.HTML, "Ada &lt;script&gt;") {
		t.Errorf("parts not as rendered:\ntext %s\nhtml %s", got.Text, got.HTML)
	}
	if raw := mp.Raw(t, got.ID); !strings.Contains(raw, "multipart/alternative") {
		t.Errorf("message is not multipart/alternative:\n%s", raw)
	}

	t.Run("Down", func(t *testing.T) {
		mp.Stop()
		_, err := m.Send(context.Background(), Invitation, "bob@example.com", fullData())
		var e *Error
		if !errors.As(err, &e) || !e.Temporary || e.Reason != "connect" || strings.Contains(err.Error(), "bob@") {
			t.Errorf("Send while SMTP is down = %v; want a temporary connect *Error without the address", err)
		}
		mp.Start()
		if _, err := m.Send(context.Background(), Invitation, "bob@example.com", fullData()); err != nil {
			t.Errorf("Send after a restart = %v", err)
		}
		mp.WaitFor(t, "bob@example.com", 1, 10*time.Second)
	})

	t.Run("Rejected", func(t *testing.T) {
		_, err := m.Send(context.Background(), Invitation, "not an address", fullData())
		if err == nil || strings.Contains(err.Error(), "not an address") {
			t.Errorf("Send to a bad address = %v; want an error without the address", err)
		}
	})
}

// TestMailer_SendMany sends several e-mails over one connection: each is
// delivered, or fails on its own; with the server down, all fail.
func TestMailer_SendMany(t *testing.T) {
	mp := mailtest.Start(t, nil)
	m, err := New(Config{URL: mp.SMTPURL(), From: "noreply@acme.example"})
	if err != nil {
		t.Fatal(err)
	}
	msgs := []Message{
		{To: "many-1@example.com", Data: fullData()},
		{To: "not an address", Data: fullData()},
		{To: "many-3@example.com", Data: fullData()},
	}
	got := m.SendMany(context.Background(), Invitation, msgs)
	if got[0].Err != nil || got[2].Err != nil || got[0].MessageID == "" || got[0].MessageID == got[2].MessageID {
		t.Errorf("SendMany = %+v; want the first and third sent, with Message-IDs of their own", got)
	}
	if got[1].Err == nil || strings.Contains(got[1].Err.Error(), "not an address") {
		t.Errorf("SendMany's second outcome = %+v; want an error without the address", got[1])
	}
	for _, to := range []string{"many-1@example.com", "many-3@example.com"} {
		if in := mp.WaitFor(t, to, 1, 10*time.Second); !strings.Contains(got[0].MessageID+got[2].MessageID, in[0].MessageID) {
			t.Errorf("%s received Message-ID %q; SendMany returned %q and %q", to, in[0].MessageID, got[0].MessageID, got[2].MessageID)
		}
	}

	mp.Stop()
	for i, r := range m.SendMany(context.Background(), Reminder, []Message{msgs[0], msgs[2]}) {
		var e *Error
		if !errors.As(r.Err, &e) || !e.Temporary || e.Reason != "connect" {
			t.Errorf("SendMany while SMTP is down, e-mail %d = %+v; want a temporary connect *Error", i, r)
		}
	}
}

func TestMailer_TLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, roots := selfSigned(t, dir)
	trusted := &tls.Config{RootCAs: roots}
	tlsArgs := []string{"--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile}

	t.Run("STARTTLS", func(t *testing.T) {
		// The server refuses mail without STARTTLS, so delivery proves it was used.
		mp := mailtest.Start(t, &mailtest.Options{Args: append(tlsArgs, "--smtp-require-starttls")})
		m, err := New(Config{URL: mp.SMTPURL(), From: "noreply@acme.example", TLSConfig: trusted})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Send(context.Background(), Reminder, "ada@example.com", fullData()); err != nil {
			t.Fatalf("Send over STARTTLS = %v", err)
		}
		mp.WaitFor(t, "ada@example.com", 1, 10*time.Second)

		// The certificate is checked.
		untrusting, _ := New(Config{URL: mp.SMTPURL(), From: "noreply@acme.example"})
		_, err = untrusting.Send(context.Background(), Reminder, "ada@example.com", fullData())
		var e *Error
		if !errors.As(err, &e) || e.Reason != "tls" {
			t.Errorf("Send with an untrusted certificate = %v; want a tls *Error", err)
		}
	})

	t.Run("Implicit", func(t *testing.T) {
		mp := mailtest.Start(t, &mailtest.Options{Args: append(tlsArgs, "--smtp-require-tls")})
		m, err := New(Config{URL: mp.SMTPSURL(), From: "noreply@acme.example", TLSConfig: trusted})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := m.Send(context.Background(), Invitation, "ada@example.com", fullData()); err != nil {
			t.Fatalf("Send over implicit TLS = %v", err)
		}
		mp.WaitFor(t, "ada@example.com", 1, 10*time.Second)
	})
}

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns
// their paths and a pool that trusts the certificate.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// TestTemplates_RenderRelink: the reconnection e-mail names the ATS and the
// customer, escaped in HTML, and carries the link.
func TestTemplates_RenderRelink(t *testing.T) {
	tmpl, err := LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := tmpl.Render(Relink, &Data{Organization: `Acme "Corp" <b>`, PackageName: "greenhouse", Link: "https://connect.kombo.dev/v1?token=abc"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.Subject, "greenhouse") || !strings.Contains(r.Subject, "Acme") || !strings.Contains(r.Text, "https://connect.kombo.dev/v1?token=abc") {
		t.Errorf("relink e-mail = %q\n%s; want the ATS, the customer and the link", r.Subject, r.Text)
	}
	if strings.Contains(r.HTML, "<b>") || !strings.Contains(r.HTML, "Acme &#34;Corp&#34; &lt;b&gt;") || !strings.Contains(r.HTML, `href="https://connect.kombo.dev/v1?token=abc"`) {
		t.Errorf("relink HTML:\n%s\nwant the customer escaped and the link", r.HTML)
	}
}
