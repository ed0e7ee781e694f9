package app

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/bradleyfalzon/ghinstallation/v2"
	"github.com/google/go-github/v62/github"
)

// TestErrNoOrgRepo: only GitHub's own 404 or 422 (the installation cannot
// see the org's .github repository) means "no org policy"; every other
// failure fails the run closed, whatever its message happens to contain.
func TestErrNoOrgRepo(t *testing.T) {
	resp := func(code int) *http.Response { return &http.Response{StatusCode: code, Request: &http.Request{}} }
	mint := func(code int) error {
		// As http.Client.Do returns a transport's error: inside *url.Error.
		return &url.Error{Op: "Get", URL: "https://api.github.com/repos/o/.github/contents/x", Err: &ghinstallation.HTTPError{
			Message: fmt.Sprintf("received non 2xx response status \"%d %s\"", code, http.StatusText(code)), Response: resp(code),
		}}
	}
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"token refused for the repository (422)", mint(http.StatusUnprocessableEntity), true},
		{"contents 404", &github.ErrorResponse{Response: resp(http.StatusNotFound), Message: "Not Found"}, true},
		{"wrapped 404", fmt.Errorf("read: %w", &github.ErrorResponse{Response: resp(http.StatusNotFound)}), true},
		// Fail closed:
		{"server error whose text holds 404", &github.ErrorResponse{Response: resp(http.StatusBadGateway), Message: "upstream 404 page"}, false},
		{"token mint 500", mint(http.StatusInternalServerError), false},
		{"network error to a port with 4040", errors.New("dial tcp 127.0.0.1:4040: connect: connection refused"), false},
		{"token mint network failure", &url.Error{Op: "Post", URL: "u", Err: &ghinstallation.HTTPError{Message: "could not get access_tokens: 422", RootCause: errors.New("EOF")}}, false},
		{"request id with 422", errors.New("timeout, request id 4221-ABCD"), false},
		{"forbidden", &github.ErrorResponse{Response: resp(http.StatusForbidden)}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errNoOrgRepo(tt.err); got != tt.want {
				t.Errorf("errNoOrgRepo(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}
