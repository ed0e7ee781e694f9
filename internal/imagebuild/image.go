package imagebuild

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// Spec says what one image is made of.
type Spec struct {
	Name       string // short name for messages, the lock and the label, e.g. "relay"
	Image      string // tag, e.g. "agentgate/relay:dev"
	Dockerfile string // path from the module root
	Package    string // Go main package from the module root, e.g. "./cmd/agentgate"
	Binary     string // where the binary goes in the image, e.g. "usr/local/bin/agentgate"
	Busybox    bool   // add the host's /bin/busybox and its applet links, when present
	TmpDir     bool   // add an empty /tmp (mode 1777)

	// DockerfileText is the Dockerfile's text carried by the binary
	// (deploy/images embeds it), used when there is no source tree to read
	// Dockerfile from. With Prebuilt it lets Ensure work without one.
	DockerfileText []byte
	// Prebuilt, when set, finds the static binary to put in the image when
	// there is no source tree to build Package from (an installed
	// agentgate): Self or Sibling. Without it, Ensure needs the source tree.
	Prebuilt func() (string, error)
}

func (s Spec) inputsLabel() string { return "dev.agentgate." + s.Name + ".inputs" }

// Ensure makes sure spec.Image exists on the engine behind cli and matches
// the current sources, building it when it does not, and returns its tag.
// From the source tree (it walks up from the working directory to the
// module's go.mod) it builds spec.Package with the go tool; without one it
// uses spec.Prebuilt's binary and spec.DockerfileText, when the spec has
// them, and fails otherwise. It never pulls. Concurrent callers, also in
// different processes, are serialised by a lock file in os.TempDir.
func Ensure(ctx context.Context, cli client.APIClient, spec Spec) (string, error) {
	// The sources cannot change under a running process: once this process
	// built or checked the image, an inspect that finds the same inputs
	// label is enough (tests call Ensure for every server they start, and
	// building the context compiles the binary).
	if h, ok := ensured.Load(spec.Image); ok {
		if current, err := imageInputs(ctx, cli, spec); err == nil && current == h.(string) {
			return spec.Image, nil
		}
	}
	root, err := ModuleRoot()
	if err != nil {
		if spec.Prebuilt == nil || spec.DockerfileText == nil {
			return "", fmt.Errorf("%s image: built from the source tree only (run it from a clone of agentgate): %w", spec.Name, err)
		}
		root = "" // the prebuilt binary
	}
	unlock, err := LockFile(ctx, "agentgate-"+spec.Name+"-image.lock")
	if err != nil {
		return "", fmt.Errorf("%s image: %w", spec.Name, err)
	}
	defer unlock()

	buildCtx, err := BuildContext(ctx, root, spec)
	if err != nil {
		return "", fmt.Errorf("%s image: %w", spec.Name, err)
	}
	sum := sha256.Sum256(buildCtx)
	hash := hex.EncodeToString(sum[:])

	if current, err := imageInputs(ctx, cli, spec); err == nil && current == hash {
		ensured.Store(spec.Image, hash)
		return spec.Image, nil
	}
	slog.InfoContext(ctx, "building image", "image", spec.Image, "inputs", hash[:12])
	if err := buildImage(ctx, cli, spec, buildCtx, hash); err != nil {
		return "", fmt.Errorf("%s image: %w", spec.Name, err)
	}
	current, err := imageInputs(ctx, cli, spec)
	if err != nil {
		return "", fmt.Errorf("%s image: %w", spec.Name, err)
	}
	if current != hash {
		return "", fmt.Errorf("%s image: built image carries inputs %q, want %q", spec.Name, current, hash)
	}
	ensured.Store(spec.Image, hash)
	return spec.Image, nil
}

// ensured maps an image tag to the inputs hash this process built or
// checked it with.
var ensured sync.Map

// imageInputs returns the inputs label of the local image.
func imageInputs(ctx context.Context, cli client.APIClient, spec Spec) (string, error) {
	img, err := cli.ImageInspect(ctx, spec.Image)
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", spec.Image, err)
	}
	if img.Config == nil {
		return "", nil
	}
	return img.Config.Labels[spec.inputsLabel()], nil
}

// buildImage runs the classic builder, without network, on the tar in buildCtx.
func buildImage(ctx context.Context, cli client.APIClient, spec Spec, buildCtx []byte, hash string) error {
	resp, err := cli.ImageBuild(ctx, bytes.NewReader(buildCtx), build.ImageBuildOptions{
		Tags:        []string{spec.Image},
		Dockerfile:  "Dockerfile",
		Labels:      map[string]string{spec.inputsLabel(): hash},
		Remove:      true,
		ForceRemove: true,
		PullParent:  false,
		NetworkMode: "none",
		Version:     build.BuilderV1,
	})
	if err != nil {
		return fmt.Errorf("image build: %w", err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(io.LimitReader(resp.Body, 16<<20))
	var log bytes.Buffer
	for {
		var msg jsonmessage.JSONMessage
		if err := dec.Decode(&msg); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("image build: read progress: %w", err)
		}
		if msg.Error != nil {
			return fmt.Errorf("image build: %s (log: %s)", msg.Error.Message, tail(log.String(), 2000))
		}
		log.WriteString(msg.Stream)
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
