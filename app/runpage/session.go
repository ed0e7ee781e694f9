package runpage

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Cookie names.
const (
	sessionCookie = "agentgate_session"
	stateCookie   = "agentgate_oauth_state"
)

// session is one signed-in person. The user token stays on the server:
// the browser holds only the session's id, signed.
type session struct {
	id      string
	login   string
	token   string // GitHub user access token; never logged, never sent to the browser
	expires time.Time

	mu       sync.Mutex
	readable map[string]readEntry // repo (lower-case owner/name) -> cached answer
}

// readEntry is a cached answer to "can this person read the repository".
type readEntry struct {
	ok      bool
	id      int64 // the id of the repository that has the name now
	checked time.Time
}

// sessions is the in-memory session table; sessions end with the process.
type sessions struct {
	key []byte // HMAC key of cookies and OAuth state
	ttl time.Duration
	now func() time.Time

	mu sync.Mutex
	m  map[string]*session
}

func newSessions(key []byte, ttl time.Duration, now func() time.Time) *sessions {
	return &sessions{key: key, ttl: ttl, now: now, m: map[string]*session{}}
}

// sign is the base64url HMAC-SHA256 of the purpose and parts under key.
func (s *sessions) sign(purpose string, parts ...string) string {
	mac := hmac.New(sha256.New, s.key)
	mac.Write([]byte(purpose))
	for _, p := range parts {
		mac.Write([]byte{0})
		mac.Write([]byte(p))
	}
	return base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

// create starts a session and returns it with its cookie value.
func (s *sessions) create(login, token string) (*session, string) {
	sess := &session{id: rand.Text(), login: login, token: token, expires: s.now().Add(s.ttl), readable: map[string]readEntry{}}
	s.mu.Lock()
	// Drop expired sessions while here, so the table stays bounded by the
	// sign-ins of one ttl.
	for id, old := range s.m {
		if !s.now().Before(old.expires) {
			delete(s.m, id)
		}
	}
	s.m[sess.id] = sess
	s.mu.Unlock()
	exp := strconv.FormatInt(sess.expires.Unix(), 10)
	return sess, sess.id + "." + exp + "." + s.sign("session", sess.id, exp)
}

// lookup returns the live session a cookie value names.
func (s *sessions) lookup(value string) (*session, bool) {
	id, rest, ok := strings.Cut(value, ".")
	if !ok {
		return nil, false
	}
	exp, mac, ok := strings.Cut(rest, ".")
	if !ok || !hmac.Equal([]byte(mac), []byte(s.sign("session", id, exp))) {
		return nil, false
	}
	if n, err := strconv.ParseInt(exp, 10, 64); err != nil || !s.now().Before(time.Unix(n, 0)) {
		return nil, false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sess, ok := s.m[id]
	if !ok || !s.now().Before(sess.expires) {
		delete(s.m, id)
		return nil, false
	}
	return sess, true
}

// end forgets a session.
func (s *sessions) end(id string) {
	s.mu.Lock()
	delete(s.m, id)
	s.mu.Unlock()
}

// newState returns a fresh OAuth state bound to next and its cookie value
// (state, next, expiry and MAC): the callback accepts only a state that
// this browser was given.
func (s *sessions) newState(next string) (state, cookie string) {
	state = rand.Text()
	exp := strconv.FormatInt(s.now().Add(10*time.Minute).Unix(), 10)
	next64 := base64.RawURLEncoding.EncodeToString([]byte(next))
	return state, state + "." + next64 + "." + exp + "." + s.sign("state", state, next64, exp)
}

// checkState verifies the callback's state against the cookie and returns
// the page to go back to.
func (s *sessions) checkState(state, cookie string) (next string, ok bool) {
	parts := strings.Split(cookie, ".")
	if len(parts) != 4 || state == "" {
		return "", false
	}
	if !hmac.Equal([]byte(parts[3]), []byte(s.sign("state", parts[0], parts[1], parts[2]))) ||
		!hmac.Equal([]byte(parts[0]), []byte(state)) {
		return "", false
	}
	if n, err := strconv.ParseInt(parts[2], 10, 64); err != nil || !s.now().Before(time.Unix(n, 0)) {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", false
	}
	return string(b), true
}
