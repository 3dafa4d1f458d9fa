// Package catcher is a minimal SMTP server that keeps every message it
// receives in memory, for "assessgate demo": the demo sends real e-mail
// through the real mailer, with no mail server to install. It speaks just
// enough SMTP for a well-behaved client on loopback (EHLO/HELO, MAIL, RCPT,
// DATA, RSET, NOOP, QUIT; no TLS, no authentication) and is not meant to
// face the internet.
package catcher

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"strings"
	"sync"
	"time"
)

// MaxMessageBytes bounds one message; bigger ones are refused (552).
const MaxMessageBytes = 10 << 20

// Message is an e-mail the catcher received.
type Message struct {
	From    string   // the envelope sender (MAIL FROM)
	To      []string // the envelope recipients (RCPT TO)
	Raw     []byte   // the message as sent, headers and body
	Subject string   // decoded
	Text    string   // the text/plain part, decoded; "" if none
	HTML    string   // the text/html part, decoded; "" if none
	At      time.Time
}

// Server is a running catcher.
type Server struct {
	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	msgs []Message
	conn map[net.Conn]bool
	done bool
}

// Start listens on addr (such as "127.0.0.1:0") and serves in the
// background until Close.
func Start(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{ln: ln, conn: map[net.Conn]bool{}}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr is the address the catcher listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL is the catcher as ASSESSGATE_SMTP_URL: smtp://host:port.
func (s *Server) URL() string { return "smtp://" + s.Addr() }

// Messages returns a copy of the messages received so far, oldest first.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Close stops listening, closes open connections and waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	s.done = true
	for c := range s.conn {
		c.Close()
	}
	s.mu.Unlock()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.done {
			s.mu.Unlock()
			c.Close()
			return
		}
		s.conn[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.session(c)
			s.mu.Lock()
			delete(s.conn, c)
			s.mu.Unlock()
			c.Close()
		}()
	}
}

// session speaks SMTP with one client.
func (s *Server) session(c net.Conn) {
	r := bufio.NewReader(io.LimitReader(c, MaxMessageBytes*2))
	w := bufio.NewWriter(c)
	reply := func(format string, args ...any) bool {
		fmt.Fprintf(w, format+"\r\n", args...)
		return w.Flush() == nil
	}
	var (
		from string
		to   []string
		ehlo bool
		mail bool // MAIL was given; the sender may be empty ("<>")
	)
	if !reply("220 catcher ESMTP assessgate demo") {
		return
	}
	for {
		c.SetReadDeadline(time.Now().Add(2 * time.Minute))
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO":
			ehlo = true
			reply("250-catcher greets %s", arg)
			reply("250-8BITMIME")
			reply("250-SIZE %d", MaxMessageBytes)
			reply("250 SMTPUTF8")
		case "HELO":
			ehlo = true
			reply("250 catcher")
		case "MAIL":
			if !ehlo {
				reply("503 5.5.1 say EHLO first")
				continue
			}
			addr, ok := pathArg(arg, "FROM:")
			if !ok {
				reply("501 5.5.4 syntax: MAIL FROM:<address>")
				continue
			}
			from, to, mail = addr, nil, true
			reply("250 2.1.0 ok")
		case "RCPT":
			if !mail {
				reply("503 5.5.1 say MAIL first")
				continue
			}
			addr, ok := pathArg(arg, "TO:")
			if !ok || addr == "" {
				reply("501 5.5.4 syntax: RCPT TO:<address>")
				continue
			}
			to = append(to, addr)
			reply("250 2.1.5 ok")
		case "DATA":
			if len(to) == 0 {
				reply("503 5.5.1 no recipients")
				continue
			}
			reply("354 end with <CRLF>.<CRLF>")
			raw, err := readData(r)
			if errors.Is(err, errTooBig) {
				reply("552 5.3.4 message too big")
				return
			}
			if err != nil {
				return
			}
			s.keep(from, to, raw)
			from, to, mail = "", nil, false
			reply("250 2.0.0 kept")
		case "RSET":
			from, to, mail = "", nil, false
			reply("250 2.0.0 ok")
		case "NOOP":
			reply("250 2.0.0 ok")
		case "QUIT":
			reply("221 2.0.0 bye")
			return
		default:
			reply("502 5.5.2 command not implemented")
		}
	}
}

// pathArg reads "FROM:<a@b> PARAMS" (or "TO:…") and returns the address.
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

var errTooBig = errors.New("message too big")

// readData reads a DATA section up to the line ".", undoing dot-stuffing.
func readData(r *bufio.Reader) ([]byte, error) {
	var buf bytes.Buffer
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		trimmed := strings.TrimRight(line, "\r\n")
		if trimmed == "." {
			return buf.Bytes(), nil
		}
		if strings.HasPrefix(trimmed, ".") {
			trimmed = trimmed[1:]
		}
		buf.WriteString(trimmed)
		buf.WriteString("\r\n")
		if buf.Len() > MaxMessageBytes {
			return nil, errTooBig
		}
	}
}

func (s *Server) keep(from string, to []string, raw []byte) {
	m := Message{From: from, To: to, Raw: raw, At: time.Now()}
	parse(&m)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, m)
}

// parse fills in the subject and the text and HTML parts, as far as the
// message allows; a message it cannot read is kept raw.
func parse(m *Message) {
	msg, err := mail.ReadMessage(bytes.NewReader(m.Raw))
	if err != nil {
		return
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(msg.Header.Get("Subject")); err == nil {
		m.Subject = subj
	}
	walk(m, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
}

// walk reads a part, descending into multiparts.
func walk(m *Message, contentType, encoding string, body io.Reader, depth int) {
	if depth > 5 {
		return
	}
	mediaType, params, err := mime.ParseMediaType(contentType)
	if contentType == "" || err != nil {
		mediaType = "text/plain"
	}
	if strings.HasPrefix(mediaType, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			walk(m, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p, depth+1)
		}
	}
	var r io.Reader = body
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		r = quotedprintable.NewReader(body)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, body) // it skips line breaks
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return
	}
	text := strings.ReplaceAll(string(b), "\r\n", "\n")
	switch mediaType {
	case "text/plain":
		if m.Text == "" {
			m.Text = text
		}
	case "text/html":
		if m.HTML == "" {
			m.HTML = text
		}
	}
}
