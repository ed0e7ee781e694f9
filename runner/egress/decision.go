package egress

import (
	"net"
	"strconv"
	"time"
)

// Reason says why a request was allowed or denied. Denied requests carry
// the same reason in the X-Agentgate-Egress response header.
type Reason string

// Reasons.
const (
	ReasonAllowed        Reason = "allowlisted"
	ReasonAllowedPrivate Reason = "allowlisted private destination"
	ReasonNotAllowed     Reason = "not allowlisted"
	ReasonIPLiteral      Reason = "ip literal"
	ReasonPrivate        Reason = "resolves to a private address"
	ReasonBudget         Reason = "byte budget spent"
	ReasonTooManyConns   Reason = "too many connections"
	ReasonTooManyReqs    Reason = "too many requests"
	ReasonResolveFailed  Reason = "resolve failed"
	ReasonDialFailed     Reason = "dial failed"
	ReasonUpstreamFailed Reason = "upstream failed"
	ReasonBadRequest     Reason = "bad request"
	ReasonHeaderTooLarge Reason = "header too large"
	ReasonTimeout        Reason = "client timeout"
	ReasonRule           Reason = "refused by rule"
	ReasonExfiltration   Reason = "secret in request"
	ReasonInspectFailed  Reason = "inspection failed"
)

// Decision is one audited request: a CONNECT tunnel or one plain-HTTP
// request. Allowed decisions are reported when the exchange ends, denied
// ones at once.
type Decision struct {
	Time      time.Time     // when the request was read
	Method    string        // "CONNECT", "GET", ...; "" when unreadable
	Host      string        // normalised target host; "" when unreadable
	Port      int           // target port; 0 when unreadable
	Addr      string        // dialled ip:port; "" when nothing was dialled
	Allowed   bool          // the proxy connected to the destination for the run
	Reason    Reason        // why
	Detail    string        // more on a failure (parse or dial error); never a credential
	Status    int           // status sent to the client (upstream's for plain HTTP)
	BytesUp   int64         // bytes sent upstream (request and tunnel payload)
	BytesDown int64         // bytes received from upstream
	Duration  time.Duration // from request read to end

	// Inspected requests (one decision each, besides their tunnel's).
	Inspected  bool   // the proxy read this exchange (a tunnel to an inspected host, or one request in it)
	Path       string // the request's path, query values redacted ("/search?q=[redacted]")
	Rule       string // the rule that admitted the request ("" when the host has no rules or it was refused)
	Credential string // name of the credential the proxy added, if any
}

// Stats are a proxy's totals so far.
type Stats struct {
	Allowed   int   // allowed decisions
	Denied    int   // denied decisions, malformed requests included
	BytesUp   int64 // sum of Decision.BytesUp
	BytesDown int64 // sum of Decision.BytesDown
	// Hosts holds per-destination totals keyed "host:port" (IPv6 literals
	// bracketed); requests too malformed to name a target are not listed.
	Hosts map[string]HostStats
}

// HostStats are one destination's totals.
type HostStats struct {
	Host       string
	Port       int
	Allowed    int
	Denied     int
	LastReason Reason // reason of the latest decision
	BytesUp    int64
	BytesDown  int64
}

func (s *Stats) add(d Decision) {
	if d.Allowed {
		s.Allowed++
	} else {
		s.Denied++
	}
	s.BytesUp += d.BytesUp
	s.BytesDown += d.BytesDown
	if d.Host == "" {
		return
	}
	if s.Hosts == nil {
		s.Hosts = map[string]HostStats{}
	}
	key := net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
	h := s.Hosts[key]
	h.Host, h.Port = d.Host, d.Port
	if d.Allowed {
		h.Allowed++
	} else {
		h.Denied++
	}
	h.LastReason = d.Reason
	h.BytesUp += d.BytesUp
	h.BytesDown += d.BytesDown
	s.Hosts[key] = h
}

func (s Stats) clone() Stats {
	out := s
	if s.Hosts != nil {
		out.Hosts = make(map[string]HostStats, len(s.Hosts))
		for k, v := range s.Hosts {
			out.Hosts[k] = v
		}
	}
	return out
}
