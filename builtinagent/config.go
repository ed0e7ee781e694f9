package builtinagent

import (
	"io"
	"log/slog"
	"net/http"
	"os"
	"time"
)

// Defaults of Config.
const (
	DefaultModel          = "gpt-4o-mini"
	DefaultWorkspace      = "/workspace"
	DefaultOutDir         = "/agentgate/out"
	DefaultTaskFile       = "/agentgate/task.md"
	DefaultMaxSteps       = 30
	DefaultCommandTimeout = 2 * time.Minute
	DefaultMaxToolOutput  = 16 << 10 // bytes of one tool result sent to the model
	DefaultMaxTotalOutput = 1 << 20  // bytes of all tool results sent to the model
	DefaultMaxRetries     = 4
	DefaultMaxRetryWait   = 30 * time.Second
	maxCommandTimeout     = 30 * time.Minute
)

// Config is what one agent run needs. Zero fields take the defaults above.
type Config struct {
	BaseURL        string        // OpenAI-compatible base URL; requests go to BaseURL + "/chat/completions"
	APIKey         string        // sent as "Authorization: Bearer APIKey" when not empty
	Model          string        // model name
	Task           string        // the task; when empty it is read from TaskFile
	TaskFile       string        // file holding the task
	Workspace      string        // the directory the agent may touch, nothing outside it
	OutDir         string        // where summary.md is written
	MaxSteps       int           // model calls allowed
	CommandTimeout time.Duration // default and maximum timeout of the run tool
	MaxToolOutput  int           // bytes of one tool result sent to the model
	MaxTotalOutput int           // bytes of all tool results together; beyond it the run stops
	Stream         bool          // ask for streamed (SSE) completions
	MaxRetries     int           // retries of a 429 or 5xx answer
	MaxRetryWait   time.Duration // cap of one wait between retries (Retry-After included)
	RetryBase      time.Duration // first backoff when no Retry-After is given (default 1s)
	HTTPClient     *http.Client  // default: a client with a 10 minute timeout
	Events         io.Writer     // where events are printed (default os.Stdout)
	Log            *slog.Logger  // diagnostics (default slog.Default())
}

// ConfigFromEnv returns a Config filled from the environment a run gives
// the agent: OPENAI_BASE_URL, OPENAI_API_KEY, AGENTGATE_MODEL,
// AGENTGATE_TASK_FILE, AGENTGATE_WORKSPACE, AGENTGATE_OUT_DIR and
// AGENTGATE_STREAM ("1" or "true").
func ConfigFromEnv() Config {
	s := os.Getenv("AGENTGATE_STREAM")
	return Config{
		BaseURL:   os.Getenv("OPENAI_BASE_URL"),
		APIKey:    os.Getenv("OPENAI_API_KEY"),
		Model:     os.Getenv("AGENTGATE_MODEL"),
		TaskFile:  os.Getenv("AGENTGATE_TASK_FILE"),
		Workspace: os.Getenv("AGENTGATE_WORKSPACE"),
		OutDir:    os.Getenv("AGENTGATE_OUT_DIR"),
		Stream:    s == "1" || s == "true",
	}
}

func (c Config) withDefaults() Config {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.TaskFile == "" {
		c.TaskFile = DefaultTaskFile
	}
	if c.Workspace == "" {
		c.Workspace = DefaultWorkspace
	}
	if c.OutDir == "" {
		c.OutDir = DefaultOutDir
	}
	if c.MaxSteps <= 0 {
		c.MaxSteps = DefaultMaxSteps
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = DefaultCommandTimeout
	}
	if c.CommandTimeout > maxCommandTimeout {
		c.CommandTimeout = maxCommandTimeout
	}
	if c.MaxToolOutput <= 0 {
		c.MaxToolOutput = DefaultMaxToolOutput
	}
	if c.MaxTotalOutput <= 0 {
		c.MaxTotalOutput = DefaultMaxTotalOutput
	}
	if c.MaxRetries < 0 {
		c.MaxRetries = 0
	} else if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
	}
	if c.MaxRetryWait <= 0 {
		c.MaxRetryWait = DefaultMaxRetryWait
	}
	if c.RetryBase <= 0 {
		c.RetryBase = time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: 10 * time.Minute}
	}
	if c.Events == nil {
		c.Events = os.Stdout
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	return c
}
