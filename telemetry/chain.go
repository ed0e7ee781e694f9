package telemetry

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"hash"
	"strconv"
)

// TimeLayout is the canonical text form of an event's time: fixed-width
// UTC with nanoseconds, so stored times compare as strings and hash the
// same everywhere.
const TimeLayout = "2006-01-02T15:04:05.000000000Z"

// GenesisHash is the PrevHash of a run's first event and of the first
// entry of the global chain: SHA-256 of "agentgate.audit.genesis.v1".
var GenesisHash = hashFields("agentgate.audit.genesis.v1")

// ChainedEvent is exactly what an event's hash covers, in stored form:
// Time in TimeLayout and Attrs as the stored JSON text (encoding/json's
// output, keys sorted), after redaction.
type ChainedEvent struct {
	RunID    string
	Seq      int64
	Time     string
	Kind     string
	Actor    string
	Attrs    string
	PrevHash string // Hash of the event Seq-1 in the run; GenesisHash for Seq 1
}

// Hash is the event's hash: hex SHA-256 over a domain tag and every field,
// each length-prefixed so no two different events encode alike.
func (e ChainedEvent) Hash() string {
	return hashFields("agentgate.event.v1", e.RunID, strconv.FormatInt(e.Seq, 10),
		e.Time, e.Kind, e.Actor, e.Attrs, e.PrevHash)
}

// ChainLink is one entry of the global chain, which links every appended
// event of every run in append order, so a deleted run or a truncated run
// tail leaves a hole in it.
type ChainLink struct {
	GlobalSeq int64
	RunID     string
	Seq       int64
	EventHash string
	PrevHash  string // Hash of link GlobalSeq-1; GenesisHash for the first
}

// Hash is the link's hash: hex SHA-256 over a domain tag and every field.
func (l ChainLink) Hash() string {
	return hashFields("agentgate.chain.v1", strconv.FormatInt(l.GlobalSeq, 10), l.RunID,
		strconv.FormatInt(l.Seq, 10), l.EventHash, l.PrevHash)
}

// hashFields is hex SHA-256 over fields, each prefixed with its length.
func hashFields(fields ...string) string {
	h := sha256.New()
	for _, f := range fields {
		writeField(h, f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// writeField writes f to h as an 8-byte big-endian length and its bytes.
func writeField(h hash.Hash, f string) {
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(f)))
	h.Write(n[:])
	h.Write([]byte(f))
}
