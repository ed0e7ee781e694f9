package runpage

import (
	"embed"
	"html/template"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

// templates are the pages; html/template escapes everything that came from
// a run (paths, commands, hosts, attributes) for its context.
var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04:05.000 UTC")
	},
	"deref": func(p *int) int { return *p },
}).ParseFS(templateFiles, "templates/*.html"))
