package testgh

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// specRelPath is where the OpenAPI subset lives below a shared/ directory.
const specRelPath = "shared/github/github-openapi-subset.json"

// FindSpec walks up from dir looking for shared/github/github-openapi-subset.json
// in each ancestor (CI lays shared/ out next to the repository root) and
// returns the first path found.
func FindSpec(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find spec: %w", err)
	}
	for d := abs; ; d = filepath.Dir(d) {
		p := filepath.Join(d, specRelPath)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("find spec: no %s above %s", specRelPath, abs)
		}
	}
}

// spec is the loaded description and its router.
type spec struct {
	doc    *openapi3.T
	router routers.Router
}

// loadSpec reads and validates the description (examples excluded: one of
// GitHub's own examples fails its date-time format) and builds a router
// that ignores the description's servers, so it matches any host.
func loadSpec(ctx context.Context, path string) (*spec, error) {
	if sp, ok := loadedSpecs.Load(path); ok {
		return sp.(*spec), nil
	}
	loader := openapi3.NewLoader()
	loader.Context = ctx
	doc, err := loader.LoadFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	doc.Servers = nil
	r, err := legacy.NewRouter(doc, openapi3.DisableExamplesValidation())
	if err != nil {
		return nil, fmt.Errorf("load spec: router: %w", err)
	}
	sp := &spec{doc: doc, router: r}
	loadedSpecs.Store(path, sp)
	return sp, nil
}

// loadedSpecs caches loaded descriptions by path: loading one takes a few
// hundred milliseconds, a test process starts many stand-ins on the same
// file, and a loaded description is only read.
var loadedSpecs sync.Map // path → *spec

// tailParams are the paths whose last parameter may hold slashes (a file
// path, a ref): the legacy router matches one segment per parameter, so the
// tail is routed as a single placeholder segment and restored afterwards.
var tailParams = []struct {
	re    *regexp.Regexp
	name  string
	group int
}{
	{regexp.MustCompile(`^(/repos/[^/]+/[^/]+/contents/)(.+?)()$`), "path", 2},
	{regexp.MustCompile(`^(/repos/[^/]+/[^/]+/commits/)(.+?)(/check-runs)$`), "ref", 2},
	{regexp.MustCompile(`^(/repos/[^/]+/[^/]+/git/(?:ref|refs|matching-refs)/)(.+?)()$`), "ref", 2},
}

// errNoRoute means the description holds no operation for the request.
var errNoRoute = errors.New("no operation in GitHub's description matches")

// findRoute maps r (path already stripped of /api/v3) to an operation and
// its path parameters.
func (sp *spec) findRoute(r *http.Request) (*routers.Route, map[string]string, error) {
	p := r.URL.Path
	var tailName, tailValue string
	for _, t := range tailParams {
		if m := t.re.FindStringSubmatch(p); m != nil {
			tailName, tailValue = t.name, m[t.group]
			p = m[1] + "_" + m[3]
			break
		}
	}
	rr := r.Clone(r.Context())
	rr.URL.Path = p
	rr.URL.RawPath = ""
	route, params, err := sp.router.FindRoute(rr)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", errNoRoute, err)
	}
	if tailName != "" {
		params[tailName] = tailValue
	}
	return route, params, nil
}
