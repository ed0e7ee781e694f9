package app

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/agentgate/agentgate/store"
)

// mountAdmin adds the operator's kill switch to the admin listener (never
// the internet-facing webhook listener):
//
//	POST /admin/pause   stop starting runs, on every replica, at once
//	POST /admin/resume  start runs again
//	GET  /admin/paused  "true" or "false"
//
// Runs already in their sandbox go on (cancel them with `@agentgate
// cancel`); every run that has not passed its checks yet is refused.
// The listener also serves run pages to people, so each call needs the
// operator's admin token (Authorization: Bearer); without a configured
// token the switch is only the `paused` setting.
func mountAdmin(mux *http.ServeMux, db *store.DB, cfg Config) {
	authorized := func(w http.ResponseWriter, r *http.Request) bool {
		want := "Bearer " + cfg.AdminToken
		got := r.Header.Get("Authorization")
		if cfg.AdminToken == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
			http.Error(w, "admin token required (setting admin-token)", http.StatusForbidden)
			return false
		}
		return true
	}
	set := func(v string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !authorized(w, r) {
				return
			}
			ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
			defer cancel()
			if err := db.SetOperatorSetting(ctx, settingPaused, v); err != nil {
				http.Error(w, "could not store the switch", http.StatusInternalServerError)
				return
			}
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = io.WriteString(w, "paused: "+v+"\n")
		}
	}
	mux.HandleFunc("POST /admin/pause", set("true"))
	mux.HandleFunc("POST /admin/resume", set("false"))
	mux.HandleFunc("GET /admin/paused", func(w http.ResponseWriter, r *http.Request) {
		if !authorized(w, r) {
			return
		}
		v, err := db.OperatorSetting(r.Context(), settingPaused)
		if err != nil {
			http.Error(w, "could not read the switch", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "%v\n", cfg.Controls.Paused || v == "true")
	})
}
