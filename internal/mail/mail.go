// Package mail e-mails candidates: the invitation to an assessment and the
// reminder, as multipart text and HTML messages rendered from templates, sent
// over SMTP with go-mail.
package mail

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/url"
	"strconv"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Config is what a Mailer needs.
type Config struct {
	// URL is the SMTP server: smtp://[user:pass@]host[:port] (port 587 by
	// default; STARTTLS when the server offers it) or smtps://… (implicit
	// TLS, port 465 by default).
	URL string
	// From is the sender, e.g. "Acme Assessments <noreply@acme.example>".
	From string
	// TemplatesDir, if set, holds templates that replace the embedded ones
	// of the same file name (see Templates).
	TemplatesDir string
	// TLSConfig, if set, is used for STARTTLS and implicit TLS; tests use it
	// to trust their own certificate. The server name is set from URL.
	TLSConfig *tls.Config
	// Timeout bounds connecting and each SMTP command; 30s by default.
	Timeout time.Duration
}

// Mailer renders and sends candidate e-mails. It is safe for concurrent
// use: each Send opens its own SMTP connection.
type Mailer struct {
	client    *gomail.Client
	from      *netmail.Address
	templates *Templates
	// Server is host:port of the SMTP server, for logs (never credentials).
	Server string
}

// New returns a Mailer for cfg. It checks the URL, the sender and the
// templates, so that a mistake stops start-up rather than the first mail.
func New(cfg Config) (*Mailer, error) {
	from, err := netmail.ParseAddress(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("ASSESSGATE_MAIL_FROM %q: not an e-mail address: %v", cfg.From, err)
	}
	opts, host, port, err := clientOptions(cfg)
	if err != nil {
		return nil, err
	}
	client, err := gomail.NewClient(host, opts...)
	if err != nil {
		return nil, fmt.Errorf("ASSESSGATE_SMTP_URL: %v", err)
	}
	tmpl, err := LoadTemplates(cfg.TemplatesDir)
	if err != nil {
		return nil, err
	}
	return &Mailer{client: client, from: from, templates: tmpl, Server: net.JoinHostPort(host, strconv.Itoa(port))}, nil
}

// clientOptions turns an SMTP URL into go-mail options. Its errors never
// show the password.
func clientOptions(cfg Config) (opts []gomail.Option, host string, port int, err error) {
	u, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, "", 0, errors.New("ASSESSGATE_SMTP_URL is not a URL: want smtp://user:pass@host:port or smtps://…")
	}
	host = u.Hostname()
	if host == "" {
		return nil, "", 0, fmt.Errorf("ASSESSGATE_SMTP_URL %s has no host", redact(u))
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.TLSConfig != nil {
		tlsConfig = cfg.TLSConfig.Clone()
	}
	tlsConfig.ServerName = host
	opts = []gomail.Option{gomail.WithTimeout(timeout), gomail.WithTLSConfig(tlsConfig)}

	switch u.Scheme {
	case "smtp":
		// go-mail's default is mandatory STARTTLS, which a server that does
		// not offer it (a relay on loopback) refuses; offered, it is used.
		port = 587
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case "smtps":
		port = 465
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, "", 0, fmt.Errorf("ASSESSGATE_SMTP_URL %s: scheme must be smtp or smtps", redact(u))
	}
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil || port < 1 || port > 65535 {
			return nil, "", 0, fmt.Errorf("ASSESSGATE_SMTP_URL %s: bad port %q", redact(u), p)
		}
	}
	opts = append(opts, gomail.WithPort(port))
	if user := u.User.Username(); user != "" {
		pass, _ := u.User.Password()
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(user), gomail.WithPassword(pass))
	}
	return opts, host, port, nil
}

// redact hides the password of an SMTP URL.
func redact(u *url.URL) string {
	c := *u
	if _, ok := c.User.Password(); ok {
		c.User = url.UserPassword(c.User.Username(), "xxxxx")
	}
	return c.String()
}

// Kind names the e-mails a Mailer sends; each has its templates.
type Kind string

// The kinds of e-mail.
const (
	Invitation Kind = "invitation"
	Reminder   Kind = "reminder"
	// Relink is not a candidate's: it sends an integration's reconnection
	// link to the customer's admin who connected it. Its Data has
	// Organization (the customer), PackageName (the ATS) and Link.
	Relink Kind = "relink"
)

// Send renders the e-mail of kind for data and sends it to the address to.
// It returns the Message-ID. Its errors say what failed, with the SMTP
// status when there is one, and never carry the address: see Error.
func (m *Mailer) Send(ctx context.Context, kind Kind, to string, data *Data) (string, error) {
	r := m.SendMany(ctx, kind, []Message{{To: to, Data: data}})[0]
	return r.MessageID, r.Err
}

// Message is one e-mail of SendMany: its recipient and what its templates
// see.
type Message struct {
	To   string
	Data *Data
	// ReplyTo, if set, is where the candidate's reply goes (the
	// recruiter's address, when the tenant allows it).
	ReplyTo string
	// Key, if set, names the e-mail for its Message-ID (see MessageID): the
	// same key gives the same id, so that a retry of an e-mail is known to
	// be the same e-mail. Without one, the id is random.
	Key string
}

// MessageID returns the Message-ID (without angle brackets) of the e-mail
// named key from the sender from: a hash of the key, on the sender's domain.
func MessageID(key string, from *netmail.Address) string {
	sum := sha256.Sum256([]byte("assessgate message-id\x00" + key))
	domain := "assessgate.invalid"
	if at := strings.LastIndexByte(from.Address, '@'); at >= 0 {
		domain = from.Address[at+1:]
	}
	return hex.EncodeToString(sum[:16]) + "@" + domain
}

// Sender is the From of an e-mail from vendor on behalf of company: the
// vendor's address under the name "company via vendor's name", so that the
// candidate sees who invites them and the address stays the vendor's own
// (no spoofing).
func Sender(vendor *netmail.Address, company string) *netmail.Address {
	company = oneLine(company)
	switch {
	case company == "":
		return vendor
	case vendor.Name == "":
		return &netmail.Address{Name: company, Address: vendor.Address}
	default:
		return &netmail.Address{Name: company + " via " + vendor.Name, Address: vendor.Address}
	}
}

// Sent is the outcome of one e-mail of SendMany: its Message-ID, or why it
// was not sent (an error as Send's).
type Sent struct {
	MessageID string
	Err       error
}

// SendMany renders and sends e-mails of kind over one connection, one
// after the other, and returns their outcomes in the order of msgs. A
// connection costs the server and assessgate a handshake, a greeting and a
// goodbye; an e-mail on an open one, its envelope and data.
func (m *Mailer) SendMany(ctx context.Context, kind Kind, msgs []Message) []Sent {
	out := make([]Sent, len(msgs))
	built := make([]*gomail.Msg, len(msgs))
	var ready []*gomail.Msg
	for i, x := range msgs {
		r, err := m.templates.Render(kind, x.Data)
		if err != nil {
			out[i].Err = err
			continue
		}
		msg := gomail.NewMsg()
		company := x.Data.Organization
		if kind == Relink {
			company = "" // the vendor's own e-mail to its customer
		}
		msg.FromMailAddress(Sender(m.from, company))
		if err := msg.To(x.To); err != nil {
			out[i].Err = &Error{Reason: "invalid recipient address"}
			continue
		}
		if x.ReplyTo != "" {
			if err := msg.ReplyTo(x.ReplyTo); err != nil {
				out[i].Err = &Error{Reason: "invalid reply-to address"}
				continue
			}
		}
		msg.Subject(r.Subject)
		msg.SetDate()
		if x.Key != "" {
			msg.SetMessageIDWithValue(MessageID(x.Key, m.from))
		} else {
			msg.SetMessageID()
		}
		msg.SetGenHeader(gomail.HeaderContentLang, r.Lang)
		msg.SetUserAgent("assessgate")
		msg.SetBodyString(gomail.TypeTextPlain, r.Text)
		msg.AddAlternativeString(gomail.TypeTextHTML, r.HTML)
		built[i] = msg
		ready = append(ready, msg)
	}
	if len(ready) == 0 {
		return out
	}
	err := m.send(ctx, ready)
	for i, msg := range built {
		switch {
		case msg == nil:
		case msg.HasSendError():
			out[i].Err = sendError(msg.SendError())
		case err != nil:
			// The connection failed before this e-mail was tried.
			out[i].Err = sendError(err)
		default:
			out[i].MessageID = msg.GetMessageID()
		}
	}
	return out
}

// send sends msgs over one new connection. Its error is the connection's;
// each message's own failure is on the message. A failure to close the
// connection after the last message was accepted is no failure of theirs.
func (m *Mailer) send(ctx context.Context, msgs []*gomail.Msg) error {
	client, err := m.client.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	defer m.client.CloseWithSMTPClient(client)
	if err := m.client.SendWithSMTPClient(client, msgs...); err != nil {
		for _, msg := range msgs {
			if msg.HasSendError() {
				return nil // the messages' own errors say it
			}
		}
		return err
	}
	return nil
}

// Error is a failure to send, described without personal data: SMTP servers
// quote the recipient in their replies, so the reply text is dropped.
type Error struct {
	Reason string // what failed, e.g. "connect", "sending SMTP RCPT TO command"
	Code   int    // the SMTP reply code, if the server answered
	Status string // the enhanced status code, e.g. "5.1.1", if any
	// Temporary is true when trying again later may succeed.
	Temporary bool
}

func (e *Error) Error() string {
	s := "smtp: " + e.Reason
	if e.Code != 0 {
		s += fmt.Sprintf(" (%d", e.Code)
		if e.Status != "" {
			s += " " + e.Status
		}
		s += ")"
	}
	return s
}

func sendError(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		e := &Error{Reason: se.Reason.String(), Code: se.ErrorCode(), Status: se.EnhancedStatusCode(), Temporary: se.IsTemp()}
		if e.Code == 0 || e.Code >= 400 && e.Code < 500 {
			e.Temporary = true
		}
		return e
	}
	// Connecting, STARTTLS or authenticating failed: no recipient was sent.
	e := &Error{Reason: "connect", Temporary: true}
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		e.Reason = "timeout"
	case strings.Contains(err.Error(), "x509"), strings.Contains(strings.ToLower(err.Error()), "tls"):
		e.Reason = "tls"
	case strings.Contains(strings.ToLower(err.Error()), "auth"):
		e.Reason = "authentication"
	}
	return e
}
