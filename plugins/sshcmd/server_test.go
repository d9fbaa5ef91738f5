package sshcmd_test

import (
	"bufio"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshServer is an SSH server on loopback that plays a network device: it
// authenticates one user by password or key, records every command it is
// given (exec requests and shell input lines) and answers canned output.
type sshServer struct {
	t       *testing.T
	addr    string
	hostKey ssh.Signer
	ln      net.Listener

	user, password string
	clientKey      ssh.PublicKey

	replies map[string]string // command → output
	// sequence answers successive runs of a command in turn, repeating
	// the last; it wins over replies.
	sequence map[string][]string
	exits    map[string]int  // command → exit status (default 0)
	hang     map[string]bool // commands that never finish
	// noExitStatus: like many network OSes, send no exit-status.
	noExitStatus bool

	mu       sync.Mutex
	conns    int // TCP connections accepted
	logins   int // successful authentications
	commands []string
	sessions []string // "exec" or "shell", per session that ran something
	wg       sync.WaitGroup
	open     []net.Conn
}

func newSSHServer(t *testing.T) *sshServer {
	t.Helper()
	s := &sshServer{t: t, user: "netops", password: "s3cret-Pa55word",
		replies: map[string]string{}, sequence: map[string][]string{}, exits: map[string]int{}, hang: map[string]bool{}}
	s.hostKey = newSigner(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	s.ln, s.addr = ln, ln.Addr().String()
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(func() {
		_ = ln.Close()
		s.mu.Lock()
		for _, c := range s.open {
			_ = c.Close()
		}
		s.mu.Unlock()
		done := make(chan struct{})
		go func() { s.wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("ssh test server did not stop within 5s")
		}
	})
	return s
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	sg, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return sg
}

// newClientKey returns a PEM private key for the client and authorises it.
func (s *sshServer) newClientKey(t *testing.T) string {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	blk, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sg, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	s.clientKey = sg.PublicKey()
	s.mu.Unlock()
	return string(pem.EncodeToMemory(blk))
}

func (s *sshServer) config() *ssh.ServerConfig {
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == s.user && string(pw) == s.password {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			s.mu.Lock()
			ck := s.clientKey
			s.mu.Unlock()
			if c.User() == s.user && ck != nil && string(ck.Marshal()) == string(key.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
	}
	cfg.AddHostKey(s.hostKey)
	return cfg
}

func (s *sshServer) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns++
		s.open = append(s.open, c)
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleConn(c)
		}()
	}
}

func (s *sshServer) handleConn(c net.Conn) {
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second)) // bounds a stuck test
	sc, chans, reqs, err := ssh.NewServerConn(c, s.config())
	if err != nil {
		return
	}
	defer sc.Close()
	s.mu.Lock()
	s.logins++
	s.mu.Unlock()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			_ = nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, chReqs, err := nc.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.handleSession(ch, chReqs)
		}()
	}
}

// record notes a command; kind, when set, also notes a new session.
func (s *sshServer) record(kind, cmd string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.commands = append(s.commands, cmd)
	if kind != "" {
		s.sessions = append(s.sessions, kind)
	}
}

// answer is what the device does on cmd: its output, exit status and
// whether it hangs.
func (s *sshServer) answer(cmd string) (out string, code int, hang bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out = s.replies[cmd]
	if seq := s.sequence[cmd]; len(seq) > 0 {
		out = seq[0]
		if len(seq) > 1 {
			s.sequence[cmd] = seq[1:]
		}
	}
	return out, s.exits[cmd], s.hang[cmd]
}

func (s *sshServer) exit(ch ssh.Channel, code int) {
	if !s.noExitStatus {
		_, _ = ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{uint32(code)}))
	}
	_ = ch.Close()
}

func (s *sshServer) handleSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if err := ssh.Unmarshal(req.Payload, &p); err != nil {
				_ = req.Reply(false, nil)
				return
			}
			_ = req.Reply(true, nil)
			s.record("exec", p.Command)
			out, code, hang := s.answer(p.Command)
			if hang {
				drainUntilClosed(reqs)
				return
			}
			_, _ = io.WriteString(ch, out)
			s.exit(ch, code)
			return
		case "shell":
			_ = req.Reply(true, nil)
			s.mu.Lock()
			s.sessions = append(s.sessions, "shell")
			s.mu.Unlock()
			sc := bufio.NewScanner(ch)
			for sc.Scan() {
				line := sc.Text()
				s.record("", line)
				out, _, hang := s.answer(line)
				_, _ = fmt.Fprintf(ch, "sw1#%s\n%s", line, out)
				if hang {
					drainUntilClosed(reqs)
					return
				}
			}
			s.exit(ch, 0)
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}

func (s *sshServer) got() (conns, logins int, commands, sessions []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns, s.logins, append([]string(nil), s.commands...), append([]string(nil), s.sessions...)
}

// knownHostsLine is the known_hosts entry for key at this server's address.
func (s *sshServer) knownHostsLine(key ssh.PublicKey) string {
	return knownhosts.Line([]string{knownhosts.Normalize(s.addr)}, key)
}

func sshFingerprint(key ssh.PublicKey) string { return ssh.FingerprintSHA256(key) }

func marshalAuthorized(key ssh.PublicKey) []byte { return ssh.MarshalAuthorizedKey(key) }

// drainUntilClosed returns when the client closes the channel (its input
// ending is not enough: x/crypto sends EOF at once when a session has no
// stdin).
func drainUntilClosed(reqs <-chan *ssh.Request) {
	for r := range reqs {
		_ = r.Reply(false, nil)
	}
}
