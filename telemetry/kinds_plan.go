package telemetry

// Event kinds of the plan gate (`mode: plan`).
const (
	KindRunPlanned      = "run.planned"       // attrs: plan_sha256, policy_sha256
	KindRunPlanApproved = "run.plan_approved" // actor: the approver; attrs: requester, plan_sha256, policy_sha256
)
