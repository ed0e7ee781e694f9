package testgh

import (
	"net/http"
	"strconv"
)

// docsURL is the documentation_url GitHub puts in error answers.
const docsURL = "https://docs.github.com/rest"

// reply is a handler's answer: a status and a JSON-encodable body.
type reply struct {
	status  int
	body    any
	headers map[string]string
}

// ghError builds GitHub's error JSON: message, documentation_url, status.
func ghError(status int, msg string) reply {
	return reply{status: status, body: map[string]any{
		"message":           msg,
		"documentation_url": docsURL,
		"status":            strconv.Itoa(status),
	}}
}

// validationFailed builds GitHub's 422 "Validation Failed" answer.
func validationFailed(resource, field, code, msg string) reply {
	e := map[string]any{"resource": resource, "field": field, "code": code}
	if msg != "" {
		e["message"] = msg
	}
	return reply{status: http.StatusUnprocessableEntity, body: map[string]any{
		"message":           "Validation Failed",
		"errors":            []any{e},
		"documentation_url": docsURL,
		"status":            "422",
	}}
}

func notFound() reply { return ghError(http.StatusNotFound, "Not Found") }

func badCredentials() reply { return ghError(http.StatusUnauthorized, "Bad credentials") }

func notAccessible() reply {
	return ghError(http.StatusForbidden, "Resource not accessible by integration")
}
