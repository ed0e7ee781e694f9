package store

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"testing"
)

func TestVerifyRun(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name   string
		tamper func(t *testing.T, db *DB)
		want   BreakKind // "" = verifies
	}{
		{"untouched", func(*testing.T, *DB) {}, ""},
		{"edited attrs", func(t *testing.T, db *DB) {
			execAll(t, db, `UPDATE events SET attrs = '{"i":99}' WHERE run_id = 'r1' AND seq = 2`)
		}, BreakEdited},
		{"edited and rehashed", func(t *testing.T, db *DB) {
			execAll(t, db, `UPDATE events SET actor = 'mallory' WHERE run_id = 'r1' AND seq = 2`)
			rehashRun(t, db, "r1")
		}, BreakEdited},
		{"middle deleted", func(t *testing.T, db *DB) {
			execAll(t, db, `DELETE FROM events WHERE run_id = 'r1' AND seq = 3`)
		}, BreakDeleted},
		{"tail truncated", func(t *testing.T, db *DB) {
			execAll(t, db, `DELETE FROM events WHERE run_id = 'r1' AND seq = 5`)
		}, BreakTruncated},
		{"reordered", func(t *testing.T, db *DB) {
			execAll(t, db,
				`UPDATE events SET seq = 100 WHERE run_id = 'r1' AND seq = 2`,
				`UPDATE events SET seq = 2 WHERE run_id = 'r1' AND seq = 3`,
				`UPDATE events SET seq = 3 WHERE run_id = 'r1' AND seq = 100`)
		}, BreakReordered},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := chainFixture(t, key)
			tt.tamper(t, db)
			rep, err := db.VerifyRun(context.Background(), "r1")
			if err != nil {
				t.Fatal(err)
			}
			if rep.Events == 0 || rep.Head == "" {
				t.Fatalf("report %+v: no events or head", rep)
			}
			switch {
			case tt.want == "" && rep.First != nil:
				t.Fatalf("want OK, got %v", rep.First)
			case tt.want != "" && (rep.First == nil || rep.First.What != tt.want):
				t.Fatalf("want %s, got %+v", tt.want, rep.First)
			}
			// The other run is untouched and verifies.
			if other, err := db.VerifyRun(context.Background(), "r2"); err != nil || !other.OK() || other.Events != 3 {
				t.Fatalf("r2: %+v %v", other, err)
			}
		})
	}
}
