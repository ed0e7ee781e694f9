package telemetry

import (
	"fmt"
	"math"
	"sort"
	"strings"
)

// Event kinds of the run's network and model traffic.
const (
	KindNetAllowed = "net.allowed"
	KindNetDenied  = "net.denied"
	// KindNetRequest is one request inside a tunnel the egress proxy
	// inspects; attrs as net.allowed plus allowed, path (query values
	// redacted), rule, credential. Refused ones count as denied in the
	// network table.
	KindNetRequest = "net.request"
	KindLLMRequest = "llm.request"
	// KindLLMRefused is a model request the gateway refused for what it
	// asked the provider to do (a server-side tool, a remote reference,
	// provider state, an unknown field); attrs as llm.request plus
	// "refused", what was refused.
	KindLLMRefused = "llm.refused"
	// KindLLMGateway is the run's gateway policy, recorded when the
	// gateway starts; attrs: allow_server_tools, allow_betas,
	// allow_fields (space separated), allow_provider_state,
	// output_reservation.
	KindLLMGateway = "llm.gateway"
)

// maxNetRows is how many destinations the network table lists.
const maxNetRows = 50

// NetHost is what a run did with one destination.
type NetHost struct {
	Host      string
	Port      int
	Allowed   int
	Denied    int
	BytesUp   int
	BytesDown int
	Reason    string // the last reason a request to it was denied
}

// LLMUsage is the run's model traffic through the gateway.
type LLMUsage struct {
	Requests     int
	Errors       int // requests answered with a status >= 400
	Refused      int // of which refused by the gateway's policy (llm.refused)
	InputTokens  int
	OutputTokens int
	CostUSD      float64
	Models       []string
}

// addNet folds a net.allowed or net.denied event into s.
func (s *Summary) addNet(ev Event, index map[string]int) {
	a := ev.Attrs
	host := stringAttr(a, "host")
	port, _ := IntAttr(a, "port")
	key := fmt.Sprintf("%s:%d", host, port)
	i, ok := index[key]
	if !ok {
		i = len(s.Network)
		index[key] = i
		s.Network = append(s.Network, NetHost{Host: host, Port: port})
	}
	h := &s.Network[i]
	if ev.Kind == KindNetAllowed {
		h.Allowed++
	} else {
		h.Denied++
		h.Reason = stringAttr(a, "reason")
	}
	up, _ := IntAttr(a, "bytes_up")
	down, _ := IntAttr(a, "bytes_down")
	h.BytesUp += max(up, 0)
	h.BytesDown += max(down, 0)
}

// addLLM folds an llm.request or llm.refused event into s.
func (s *Summary) addLLM(ev Event) {
	a := ev.Attrs
	s.LLM.Requests++
	if ev.Kind == KindLLMRefused {
		s.LLM.Refused++
	}
	if st, _ := IntAttr(a, "status"); st >= 400 {
		s.LLM.Errors++
	}
	in, _ := IntAttr(a, "input_tokens")
	out, _ := IntAttr(a, "output_tokens")
	s.LLM.InputTokens += max(in, 0)
	s.LLM.OutputTokens += max(out, 0)
	if c, ok := a["cost_usd"].(float64); ok && c > 0 && !math.IsInf(c, 0) {
		s.LLM.CostUSD += c
	}
	if m := stringAttr(a, "model"); m != "" {
		s.LLM.Models = addOnce(s.LLM.Models, m)
	}
}

// writeNetwork renders the destinations table, denied ones first.
func writeNetwork(b *strings.Builder, hosts []NetHost) {
	if len(hosts) == 0 {
		return
	}
	sorted := append([]NetHost(nil), hosts...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Denied > 0 && sorted[j].Denied == 0 })
	b.WriteString("\n**Network**\n\n| Destination | Allowed | Denied | Sent | Received |\n| --- | ---: | ---: | ---: | ---: |\n")
	for i, h := range sorted {
		if i == maxNetRows {
			fmt.Fprintf(b, "\n… and %d more destinations\n", len(sorted)-maxNetRows)
			break
		}
		dest := codeSpan(fmt.Sprintf("%s:%d", h.Host, h.Port))
		if h.Denied > 0 && h.Reason != "" {
			dest += " (" + escapeText(h.Reason) + ")"
		}
		fmt.Fprintf(b, "| %s | %d | %d | %s | %s |\n", dest, h.Allowed, h.Denied, bytesText(h.BytesUp), bytesText(h.BytesDown))
	}
}

// writeLLM renders the model usage line.
func writeLLM(b *strings.Builder, u LLMUsage) {
	if u.Requests == 0 {
		return
	}
	models := make([]string, 0, len(u.Models))
	for _, m := range u.Models {
		models = append(models, codeSpan(m))
	}
	fmt.Fprintf(b, "\n**LLM usage:** %d requests", u.Requests)
	switch {
	case u.Refused > 0:
		fmt.Fprintf(b, " (%d failed, of which %d refused by the gateway's policy: a server-side tool, remote reference or provider state)", u.Errors, u.Refused)
	case u.Errors > 0:
		fmt.Fprintf(b, " (%d failed)", u.Errors)
	}
	fmt.Fprintf(b, ", %d input + %d output tokens", u.InputTokens, u.OutputTokens)
	if u.CostUSD > 0 {
		fmt.Fprintf(b, ", estimated $%.4f", u.CostUSD)
	}
	if len(models) > 0 {
		fmt.Fprintf(b, " (%s)", strings.Join(models, ", "))
	}
	b.WriteString("\n")
}

// bytesText shows a byte count compactly.
func bytesText(n int) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
