// Package directive parses the instructions the agentgate test agent
// follows. A task file may contain, anywhere, lines of the form
//
//	agentgate-test: <verb> <args>
//
// Every other line is ignored text. The verbs and their arguments are listed
// in Verbs. The package is pure so that the agent binary stays small and the
// parser can be tested without a container.
package directive
