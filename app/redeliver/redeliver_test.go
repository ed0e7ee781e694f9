package redeliver

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/agentgate/agentgate/internal/testgh"
)

func TestFailed(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	since := at(0)
	tests := []struct {
		name string
		log  []Delivery
		want []int64
	}{
		{"one failure", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 503}}, []int64{1}},
		{"no answer at all (status 0)", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 0, Status: "timed out"}}, []int64{1}},
		{"4xx counts as failed", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 401}}, []int64{1}},
		{"3xx is not 2xx", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 302}}, []int64{1}},
		{"accepted", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 202}}, nil},
		{"ignored (200) is accepted", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 200}}, nil},
		{"failed, then a redelivery succeeded", []Delivery{
			{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 503},
			{ID: 2, GUID: "a", DeliveredAt: at(6), StatusCode: 202, Redelivery: true},
		}, nil},
		{"failed twice: the latest attempt, once", []Delivery{
			{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 503},
			{ID: 2, GUID: "a", DeliveredAt: at(9), StatusCode: 502, Redelivery: true},
		}, []int64{2}},
		{"succeeded, then a later attempt failed", []Delivery{
			{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 202},
			{ID: 2, GUID: "a", DeliveredAt: at(9), StatusCode: 500, Redelivery: true},
		}, []int64{2}},
		{"same second: id decides", []Delivery{
			{ID: 2, GUID: "a", DeliveredAt: at(5), StatusCode: 202},
			{ID: 1, GUID: "a", DeliveredAt: at(5), StatusCode: 500},
		}, nil},
		{"older than since", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(-1), StatusCode: 503}}, nil},
		{"exactly since", []Delivery{{ID: 1, GUID: "a", DeliveredAt: at(0), StatusCode: 503}}, []int64{1}},
		{"oldest first across events", []Delivery{
			{ID: 9, GUID: "c", DeliveredAt: at(30), StatusCode: 500},
			{ID: 3, GUID: "a", DeliveredAt: at(10), StatusCode: 500},
			{ID: 4, GUID: "b", DeliveredAt: at(20), StatusCode: 202},
			{ID: 5, GUID: "d", DeliveredAt: at(15), StatusCode: 0},
		}, []int64{3, 5, 9}},
		{"empty", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []int64
			for _, d := range Failed(tt.log, since) {
				got = append(got, d.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Failed = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestRunAgainstGitHub reads a delivery log of more than one page from the
// GitHub stand-in with the app's JWT and redelivers exactly the events
// that never got through; a second run finds nothing left.
func TestRunAgainstGitHub(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const appID = 4711
	gh, err := testgh.New(testgh.Options{AppID: appID, AppPublicKey: &key.PublicKey, ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})

	now := time.Now().UTC().Truncate(time.Second)
	ago := func(d time.Duration) time.Time { return now.Add(-d) }
	add := func(guid string, at time.Time, code int, status string, redelivery bool) int64 {
		return gh.AddHookDelivery(testgh.HookDelivery{GUID: guid, DeliveredAt: at, StatusCode: code, Status: status,
			Event: "issue_comment", Action: "created", Redelivery: redelivery, InstallationID: 7, RepositoryID: 99, Duration: 0.1})
	}
	// Outside the window: never redelivered, and not even read past the
	// first older page.
	add("old-failed", ago(30*time.Hour), 503, "Invalid HTTP Response: 503", false)
	// Down for a while: failed, never retried.
	down := add("down", ago(5*time.Hour), 0, "timed out", false)
	// Failed, then redelivered successfully by someone.
	add("fixed", ago(4*time.Hour), 502, "Invalid HTTP Response: 502", false)
	add("fixed", ago(3*time.Hour), 202, "OK", true)
	// Failed, and its redelivery failed too: the latest attempt, once.
	add("twice", ago(2*time.Hour), 503, "Invalid HTTP Response: 503", false)
	twice := add("twice", ago(90*time.Minute), 500, "Invalid HTTP Response: 500", true)
	// Accepted: many of them, so the log spans pages.
	for i := range 150 {
		add(fmt.Sprintf("ok-%d", i), ago(time.Hour-time.Duration(i)*time.Second), 202, "OK", false)
	}
	// Bad signature answers are failures too.
	unauth := add("unauth", ago(10*time.Minute), 401, "Invalid HTTP Response: 401", false)

	opts := Options{AppID: appID, PrivateKey: pemKey, APIURL: gh.APIURL(), Since: 24 * time.Hour, DryRun: true}
	ctx := context.Background()
	dry, err := Run(ctx, opts, nil)
	if err != nil {
		t.Fatalf("dry run: %v", err)
	}
	var ids []int64
	for _, o := range dry {
		ids = append(ids, o.ID)
	}
	want := []int64{down, twice, unauth}
	if !slices.Equal(ids, want) {
		t.Errorf("dry run picks %v, want %v", ids, want)
	}
	if r := gh.Redeliveries(); len(r) != 0 {
		t.Fatalf("dry run redelivered %v", r)
	}

	opts.DryRun = false
	var reported []int64
	if _, err := Run(ctx, opts, func(o Outcome) {
		if o.Err == nil {
			reported = append(reported, o.ID)
		}
	}); err != nil {
		t.Fatalf("run: %v", err)
	}
	if got := gh.Redeliveries(); !slices.Equal(got, want) || !slices.Equal(reported, want) {
		t.Errorf("redelivered %v (reported %v), want %v", got, reported, want)
	}

	// The redeliveries went through: nothing is left to do.
	again, err := Run(ctx, opts, nil)
	if err != nil || len(again) != 0 {
		t.Errorf("second run: %v, %v; want nothing", again, err)
	}

	// A redelivery that fails again is picked again, once.
	gh.SetRedeliverer(func(testgh.HookDelivery) (int, string) { return 503, "Invalid HTTP Response: 503" })
	add("late", ago(time.Minute), 500, "Invalid HTTP Response: 500", false)
	if _, err := Run(ctx, opts, nil); err != nil {
		t.Fatal(err)
	}
	third, err := Run(ctx, opts, nil)
	if err != nil || len(third) != 1 || third[0].GUID != "late" || !third[0].Redelivery {
		t.Errorf("after a failed redelivery: %+v, %v; want its redelivery picked once", third, err)
	}

	if v := gh.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
	var pages int
	for _, r := range gh.Requests() {
		if r.Operation == "GET /app/hook/deliveries" {
			pages++
		}
	}
	if pages < 2*5 {
		t.Errorf("%d list requests over 5 runs: the log was not paginated", pages)
	}
}

// TestRunRejectsWrongKey: GitHub refuses a JWT signed by another key, and
// nothing is redelivered.
func TestRunRejectsWrongKey(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	gh, err := testgh.New(testgh.Options{AppID: 1, AppPublicKey: &key.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	gh.AddHookDelivery(testgh.HookDelivery{GUID: "a", StatusCode: 503, Event: "issues"})
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(other)})
	if _, err := Run(context.Background(), Options{AppID: 1, PrivateKey: pemKey, APIURL: gh.APIURL(), Since: time.Hour}, nil); err == nil {
		t.Error("a wrong key listed deliveries")
	}
	if len(gh.Redeliveries()) != 0 {
		t.Error("redelivered with a wrong key")
	}
}

func TestBound(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	fail := func(id int64, guid string, redelivery bool) Delivery {
		return Delivery{ID: id, GUID: guid, DeliveredAt: t0.Add(time.Duration(id) * time.Minute), StatusCode: 503, Redelivery: redelivery}
	}
	log := []Delivery{
		fail(1, "a", false),
		fail(2, "b", false), fail(3, "b", true), fail(4, "b", true), fail(5, "b", true), // refused three redeliveries
		fail(6, "c", false), fail(7, "c", true),
		fail(8, "d", false),
	}
	picked := Failed(log, t0)
	ids := func(ds []Delivery) (out []int64) {
		for _, d := range ds {
			out = append(out, d.ID)
		}
		return out
	}
	tests := []struct {
		name           string
		max, limit     int
		keep, abandons []int64
	}{
		{"unbounded", 0, 0, []int64{1, 5, 7, 8}, nil},
		{"give up after three", 3, 0, []int64{1, 7, 8}, []int64{5}},
		{"at most two, oldest first", 3, 2, []int64{1, 7}, []int64{5}},
		{"limit only", 0, 1, []int64{1}, nil},
	}
	for _, tt := range tests {
		keep, gaveUp := Bound(log, picked, tt.max, tt.limit)
		if !slices.Equal(ids(keep), tt.keep) || !slices.Equal(ids(gaveUp), tt.abandons) {
			t.Errorf("%s: keep %v gave up %v, want %v %v", tt.name, ids(keep), ids(gaveUp), tt.keep, tt.abandons)
		}
	}
}

// TestRunRetriesGitHubFailures: with the default transport, a rate limit
// on the delivery log and a 502 on a redelivery request are waited out
// and retried, not reported as failures.
func TestRunRetriesGitHubFailures(t *testing.T) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	const appID = 4711
	gh, err := testgh.New(testgh.Options{AppID: appID, AppPublicKey: &key.PublicKey, ValidateResponses: true})
	if err != nil {
		t.Fatal(err)
	}
	defer gh.Close()
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	now := time.Now().UTC().Truncate(time.Second)
	failed := gh.AddHookDelivery(testgh.HookDelivery{GUID: "down", DeliveredAt: now.Add(-time.Hour), StatusCode: 503, Status: "Invalid HTTP Response: 503",
		Event: "issue_comment", Action: "created", InstallationID: 7, RepositoryID: 99, Duration: 0.1})
	gh.FailNextN("GET", "/app/hook/deliveries", 403, map[string]string{"Retry-After": "0"}, 2)
	gh.FailNextN("POST", "/app/hook/deliveries/{delivery_id}/attempts", 502, nil, 1)
	opts := Options{AppID: appID, PrivateKey: pemKey, APIURL: gh.APIURL(), Since: 24 * time.Hour}
	out, err := Run(context.Background(), opts, nil)
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if len(out) != 1 || out[0].Err != nil {
		t.Fatalf("outcomes %+v", out)
	}
	if got := gh.Redeliveries(); !slices.Equal(got, []int64{failed}) {
		t.Errorf("redelivered %v, want [%d]", got, failed)
	}
	if v := gh.Violations(); len(v) != 0 {
		t.Errorf("violations: %q", v)
	}
}
