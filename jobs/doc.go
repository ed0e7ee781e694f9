// Package jobs holds the arguments of agentgate's event jobs: what intake
// commits for a delivery that is not a new run, and the worker's handler
// for that event family reads. There is one type per family, each its own
// River kind; all embed Event, what every event job carries.
//
// Job arguments are a durable schema: rows written by one version of
// agentgate are read by the next. Every type carries its Version ("v");
// a field's JSON name never changes meaning; Legacy reads the rows of the
// single "agentgate.event" kind that earlier versions wrote.
package jobs
