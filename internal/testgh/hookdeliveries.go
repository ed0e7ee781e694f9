package testgh

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file is the app webhook's delivery log: GET /app/hook/deliveries
// (newest first, cursor pagination, status filter) and POST
// /app/hook/deliveries/{delivery_id}/attempts (redeliver), both with the
// app's JWT.

// HookDelivery is one delivery attempt of the app's webhook.
type HookDelivery struct {
	ID             int64 // assigned by AddHookDelivery
	GUID           string
	DeliveredAt    time.Time
	Redelivery     bool
	Duration       float64
	Status         string // "OK", "Invalid HTTP Response: 503", "timed out"
	StatusCode     int    // 0 when no HTTP answer came
	Event          string
	Action         string
	InstallationID int64
	RepositoryID   int64
}

// AddHookDelivery records a delivery attempt (as GitHub would after
// POSTing to the webhook URL) and returns its id. Ids grow in the order
// deliveries are added.
func (s *Server) AddHookDelivery(d HookDelivery) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d.ID = s.st.id()
	if d.DeliveredAt.IsZero() {
		d.DeliveredAt = s.now()
	}
	st := s.appsSt()
	st.deliveries = append(st.deliveries, &d)
	return d.ID
}

// SetRedeliverer decides the outcome of each redelivery asked for through
// the API (status code and status text of the new attempt); by default a
// redelivery is answered 202 "OK".
func (s *Server) SetRedeliverer(f func(HookDelivery) (statusCode int, status string)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.appsSt().redeliverTo = f
}

// HookDeliveries returns every delivery attempt, oldest first.
func (s *Server) HookDeliveries() []HookDelivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []HookDelivery
	for _, d := range s.appsSt().deliveries {
		out = append(out, *d)
	}
	return out
}

// Redeliveries returns the ids of the deliveries a redelivery was asked
// for, in the order asked.
func (s *Server) Redeliveries() []int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.appsSt().redeliveries)
}

// cursorPrefix marks the opaque cursors of the delivery list.
const cursorPrefix = "v1_"

// listHookDeliveries implements GET /app/hook/deliveries.
func (c *call) listHookDeliveries() reply {
	q := c.r.URL.Query()
	per := 30
	if v := q.Get("per_page"); v != "" {
		per, _ = strconv.Atoi(v)
		if per < 1 || per > 100 {
			return validationFailed("HookDelivery", "per_page", "invalid", "per_page must be between 1 and 100")
		}
	}
	start := int64(-1) // the newest delivery
	if v := q.Get("cursor"); v != "" {
		id, err := strconv.ParseInt(strings.TrimPrefix(v, cursorPrefix), 10, 64)
		if !strings.HasPrefix(v, cursorPrefix) || err != nil {
			return ghError(http.StatusBadRequest, "Invalid cursor")
		}
		start = id
	}
	status := q.Get("status")
	all := slices.Clone(c.s.appsSt().deliveries)
	slices.SortFunc(all, func(a, b *HookDelivery) int {
		if c := b.DeliveredAt.Compare(a.DeliveredAt); c != 0 {
			return c
		}
		return int(b.ID - a.ID)
	})
	var page []any
	var next *HookDelivery
	started := start < 0
	for _, d := range all {
		if !started {
			if d.ID != start {
				continue
			}
			started = true
		}
		switch {
		case status == "success" && (d.StatusCode < 200 || d.StatusCode > 399):
			continue
		case status == "failure" && (d.StatusCode < 400 || d.StatusCode > 599):
			continue
		}
		if len(page) == per {
			next = d
			break
		}
		page = append(page, hookDeliveryJSON(d))
	}
	if !started {
		return ghError(http.StatusBadRequest, "Invalid cursor")
	}
	r := ok(page)
	if page == nil {
		r = ok([]any{})
	}
	if next != nil {
		u := *c.r.URL
		nq := u.Query()
		nq.Set("cursor", fmt.Sprintf("%s%d", cursorPrefix, next.ID))
		nq.Set("per_page", strconv.Itoa(per))
		u.RawQuery = nq.Encode()
		r.headers = map[string]string{"Link": fmt.Sprintf("<%s%s%s>; rel=\"next\"", c.s.URL(), apiPrefix, u.RequestURI())}
	}
	return r
}

// redeliverHookDelivery implements POST /app/hook/deliveries/{delivery_id}/attempts:
// a new attempt with the same GUID, marked as a redelivery.
func (c *call) redeliverHookDelivery() reply {
	st := c.s.appsSt()
	id := c.intParam("delivery_id")
	i := slices.IndexFunc(st.deliveries, func(d *HookDelivery) bool { return d.ID == id })
	if i < 0 {
		return notFound()
	}
	orig := *st.deliveries[i]
	st.redeliveries = append(st.redeliveries, id)
	code, status := http.StatusAccepted, "OK"
	if st.redeliverTo != nil {
		code, status = st.redeliverTo(orig)
	}
	d := orig
	d.ID = c.s.st.id()
	d.Redelivery = true
	d.DeliveredAt = c.s.now()
	d.StatusCode, d.Status = code, status
	st.deliveries = append(st.deliveries, &d)
	return reply{status: http.StatusAccepted, body: map[string]any{}}
}

func hookDeliveryJSON(d *HookDelivery) map[string]any {
	return map[string]any{
		"id": d.ID, "guid": d.GUID, "delivered_at": ts(d.DeliveredAt), "redelivery": d.Redelivery,
		"duration": d.Duration, "status": d.Status, "status_code": d.StatusCode,
		"event": d.Event, "action": strOrNil(d.Action),
		"installation_id": intOrNil(d.InstallationID), "repository_id": intOrNil(d.RepositoryID),
	}
}

func intOrNil(v int64) any {
	if v == 0 {
		return nil
	}
	return v
}

func init() {
	handlers["GET /app/hook/deliveries"] = handler{app: true, fn: (*call).listHookDeliveries}
	handlers["POST /app/hook/deliveries/{delivery_id}/attempts"] = handler{app: true, fn: (*call).redeliverHookDelivery}
}
