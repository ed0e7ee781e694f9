package redeliver

// Bound keeps a scheduled pass bounded: it drops the events GitHub was
// already asked to redeliver maxRedeliveries times or more (their
// redeliveries are in log and all failed: agentgate keeps refusing them,
// and asking again would not help), then keeps at most limit of the rest,
// oldest first (the others wait for the next pass). Zero disables either
// bound. It returns what to redeliver and the events given up on.
func Bound(log, picked []Delivery, maxRedeliveries, limit int) (keep, gaveUp []Delivery) {
	tries := map[string]int{}
	for _, d := range log {
		if d.Redelivery {
			tries[d.GUID]++
		}
	}
	for _, d := range picked {
		if maxRedeliveries > 0 && tries[d.GUID] >= maxRedeliveries {
			gaveUp = append(gaveUp, d)
			continue
		}
		if limit > 0 && len(keep) >= limit {
			continue
		}
		keep = append(keep, d)
	}
	return keep, gaveUp
}
