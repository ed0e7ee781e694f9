package app

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/pkg/jsonmessage"

	"github.com/agentgate/agentgate/internal/dockertest"
	"github.com/agentgate/agentgate/internal/testagent"
)

// miniRegistry is the part of the registry HTTP API v2 a Docker engine
// uses to push and pull an image, in memory, on loopback (the engine
// talks plain HTTP to 127.0.0.0/8).
type miniRegistry struct {
	mu        sync.Mutex
	blobs     map[string][]byte
	manifests map[string]manifestEntry // name@ref → manifest
	uploads   map[string][]byte
	pulled    []string // manifest references asked for (GET or HEAD), as name@ref
	next      int
}

type manifestEntry struct {
	body        []byte
	contentType string
}

var registryPath = regexp.MustCompile(`^/v2/(.+)/(blobs/uploads|blobs|manifests)/?(.*)$`)

func digestOf(b []byte) string {
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func (g *miniRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	if r.URL.Path == "/v2/" || r.URL.Path == "/v2" {
		return
	}
	m := registryPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		http.NotFound(w, r)
		return
	}
	name, kind, ref := m[1], m[2], m[3]
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case kind == "blobs/uploads" && r.Method == http.MethodPost:
		g.next++
		id := fmt.Sprint(g.next)
		g.uploads[id] = nil
		w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+id)
		w.Header().Set("Docker-Upload-UUID", id)
		w.Header().Set("Range", "0-0")
		w.WriteHeader(http.StatusAccepted)
	case kind == "blobs/uploads" && (r.Method == http.MethodPatch || r.Method == http.MethodPut):
		data, ok := g.uploads[ref]
		if !ok {
			http.NotFound(w, r)
			return
		}
		b, _ := io.ReadAll(r.Body)
		data = append(data, b...)
		g.uploads[ref] = data
		if r.Method == http.MethodPatch {
			w.Header().Set("Location", "/v2/"+name+"/blobs/uploads/"+ref)
			w.Header().Set("Docker-Upload-UUID", ref)
			w.Header().Set("Range", fmt.Sprintf("0-%d", max(len(data)-1, 0)))
			w.WriteHeader(http.StatusAccepted)
			return
		}
		d := r.URL.Query().Get("digest")
		if digestOf(data) != d {
			http.Error(w, "digest mismatch", http.StatusBadRequest)
			return
		}
		g.blobs[d] = data
		delete(g.uploads, ref)
		w.Header().Set("Location", "/v2/"+name+"/blobs/"+d)
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
	case kind == "blobs" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		b, ok := g.blobs[ref]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Docker-Content-Digest", ref)
		w.Header().Set("Content-Length", fmt.Sprint(len(b)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(b)
		}
	case kind == "manifests" && r.Method == http.MethodPut:
		b, _ := io.ReadAll(r.Body)
		e := manifestEntry{body: b, contentType: r.Header.Get("Content-Type")}
		d := digestOf(b)
		g.manifests[name+"@"+ref], g.manifests[name+"@"+d] = e, e
		w.Header().Set("Docker-Content-Digest", d)
		w.Header().Set("Location", "/v2/"+name+"/manifests/"+d)
		w.WriteHeader(http.StatusCreated)
	case kind == "manifests" && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		e, ok := g.manifests[name+"@"+ref]
		if !ok {
			http.NotFound(w, r)
			return
		}
		// An engine that still holds the image's content may resolve the
		// reference with a HEAD alone: that too is a pull by this ref.
		g.pulled = append(g.pulled, name+"@"+ref)
		w.Header().Set("Content-Type", e.contentType)
		w.Header().Set("Docker-Content-Digest", digestOf(e.body))
		w.Header().Set("Content-Length", fmt.Sprint(len(e.body)))
		if r.Method == http.MethodGet {
			_, _ = w.Write(e.body)
		}
	default:
		http.Error(w, "unsupported", http.StatusMethodNotAllowed)
	}
}

// TestPullImagesByDigest pushes the test agent image to a registry on
// loopback, removes every local reference to it by that name, and starts
// the image check with pull-images: the engine pulls it by its digest, and
// the image is then there. Without pull-images the same missing image
// fails start-up, naming the setting.
func TestPullImagesByDigest(t *testing.T) {
	cli := dockertest.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := testagent.EnsureImage(ctx, cli); err != nil {
		t.Fatal(err)
	}
	reg := &miniRegistry{blobs: map[string][]byte{}, manifests: map[string]manifestEntry{}, uploads: map[string][]byte{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()

	repo := ln.Addr().String() + "/agentgate/pulltest"
	if err := cli.ImageTag(ctx, testagent.Image, repo+":v1"); err != nil {
		t.Fatal(err)
	}
	auth := base64.URLEncoding.EncodeToString([]byte("{}"))
	rc, err := cli.ImagePush(ctx, repo+":v1", image.PushOptions{RegistryAuth: auth})
	if err != nil {
		t.Fatal(err)
	}
	if err := jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil); err != nil {
		rc.Close()
		t.Fatalf("push: %v", err)
	}
	rc.Close()
	var ref string
	if insp, err := cli.ImageInspect(ctx, repo+":v1"); err == nil {
		for _, d := range insp.RepoDigests {
			if strings.HasPrefix(d, repo+"@") {
				ref = d
			}
		}
	}
	if ref == "" {
		t.Fatal("the push recorded no digest")
	}
	forget := func() {
		for _, r := range []string{repo + ":v1", ref} {
			_, _ = cli.ImageRemove(context.Background(), r, image.RemoveOptions{})
		}
	}
	forget()
	defer forget()
	if _, err := cli.ImageInspect(ctx, ref); err == nil {
		t.Fatalf("%s still resolves locally: the pull would not be exercised", ref)
	}

	cfg := DefaultConfig()
	cfg.AgentImage = ref
	cfg.Network.Mode = "none"
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if _, err := ensureImages(ctx, cli, cfg, log); err == nil || !strings.Contains(err.Error(), "agent-image") {
		t.Errorf("without pull-images: %v, want start-up refused naming agent-image", err)
	}
	cfg.Deploy.PullImages = true
	if err := cfg.ValidateServe(); err != nil && strings.Contains(err.Error(), "pull-images") {
		t.Fatalf("a digest reference refused: %v", err)
	}
	missing, err := ensureImages(ctx, cli, cfg, log)
	if err != nil || len(missing) != 0 {
		t.Fatalf("with pull-images: %v, missing %v", err, missing)
	}
	if _, err := cli.ImageInspect(ctx, ref); err != nil {
		t.Errorf("after the pull %s is not on the engine: %v", ref, err)
	}
	reg.mu.Lock()
	pulled := reg.pulled
	reg.mu.Unlock()
	digest := ref[strings.Index(ref, "@")+1:]
	if len(pulled) == 0 || !strings.HasSuffix(pulled[0], "@"+digest) {
		t.Errorf("the engine fetched manifests %v, want by digest %s", pulled, digest)
	}
}
