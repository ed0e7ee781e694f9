package relayimage

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

	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
)

// Image is the tag of the relay image.
const Image = "agentgate/relay:dev"

// inputsLabel holds the SHA-256 of the build context the image was built
// from, so an unchanged image is not rebuilt.
const inputsLabel = "dev.agentgate.relay.inputs"

// EnsureImage makes sure Image exists on the engine behind cli and matches
// the current sources, building it when it does not, and returns its tag.
// It needs the source tree (it walks up from the working directory to the
// module's go.mod) and the go tool; it never pulls. Concurrent callers, also
// in different processes, are serialised by a lock file in os.TempDir.
func EnsureImage(ctx context.Context, cli client.APIClient) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", fmt.Errorf("relay image: %w", err)
	}
	unlock, err := lockFile(ctx, "agentgate-relay-image.lock")
	if err != nil {
		return "", fmt.Errorf("relay image: %w", err)
	}
	defer unlock()

	buildCtx, err := buildContext(ctx, root)
	if err != nil {
		return "", fmt.Errorf("relay image: %w", err)
	}
	sum := sha256.Sum256(buildCtx)
	hash := hex.EncodeToString(sum[:])
	if current, err := imageInputs(ctx, cli); err == nil && current == hash {
		return Image, nil
	}
	slog.InfoContext(ctx, "building relay image", "image", Image, "inputs", hash[:12])
	if err := buildImage(ctx, cli, buildCtx, hash); err != nil {
		return "", fmt.Errorf("relay image: %w", err)
	}
	current, err := imageInputs(ctx, cli)
	if err != nil {
		return "", fmt.Errorf("relay image: %w", err)
	}
	if current != hash {
		return "", fmt.Errorf("relay image: built image carries inputs %q, want %q", current, hash)
	}
	return Image, nil
}

// imageInputs returns the inputs label of the local Image.
func imageInputs(ctx context.Context, cli client.APIClient) (string, error) {
	img, err := cli.ImageInspect(ctx, Image)
	if err != nil {
		return "", fmt.Errorf("inspect %s: %w", Image, err)
	}
	if img.Config == nil {
		return "", nil
	}
	return img.Config.Labels[inputsLabel], nil
}

// buildImage runs the classic builder, without network, on the tar in buildCtx.
func buildImage(ctx context.Context, cli client.APIClient, buildCtx []byte, hash string) error {
	resp, err := cli.ImageBuild(ctx, bytes.NewReader(buildCtx), build.ImageBuildOptions{
		Tags:        []string{Image},
		Dockerfile:  "Dockerfile",
		Labels:      map[string]string{inputsLabel: hash},
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
