package runner

// Labels on every Docker object a run creates.
const (
	LabelRun     = "dev.agentgate.run"
	LabelWorker  = "dev.agentgate.worker"
	LabelManaged = "dev.agentgate.managed" // always "true"
)

// labels returns the labels of every object of the run of spec.
func labels(spec Spec) map[string]string {
	return map[string]string{
		LabelRun:     spec.RunID,
		LabelWorker:  spec.WorkerID,
		LabelManaged: "true",
	}
}
